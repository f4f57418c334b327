"""Reading one ops-edited YAML rules file: UTF-8 and YAML syntax problems become ``ConfigError`` naming the file
and line. The round-trip loader keeps line numbers on the nodes, for messages about keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.errors import ConfigError


def read_rules_yaml(path: Path, what: str) -> Any:
    """The parsed document of ``path`` (None when empty); ``what`` names the file for a missing-file message."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start}); save the file as UTF-8") from None
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {exc.problem}") from None
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
