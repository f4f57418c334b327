"""Reading one ops-edited YAML rules file: UTF-8 and YAML syntax problems become ``ConfigError`` naming the file
and line. The round-trip loader keeps line numbers on the nodes, for messages about keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bridge.errors import ConfigError
from bridge.i18n import _

M = TypeVar("M", bound=BaseModel)


def read_rules_yaml(path: Path, what: str) -> Any:
    """The parsed document of ``path`` (None when empty); ``what`` names the file for a missing-file message."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(_("{path}: {what} not found").format(path=path, what=_(what))) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(_("{path}: not UTF-8 (byte {offset}); save the file as UTF-8").format(
            path=path, offset=exc.start)) from None
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(_("{path}: not valid YAML: {problem}").format(path=f"{path}{line}",
                                                                        problem=exc.problem)) from None
    except YAMLError as exc:
        raise ConfigError(_("{path}: not valid YAML: {problem}").format(path=path, problem=exc)) from None


def validated(model: type[M], root: Any, path: Path, what: str, shipped: str, *,
              locate: Callable[[list[Any], str], list[Any]] | None = None) -> M:
    """``root`` (the parsed ``path``) validated as ``model``, or a ``ConfigError`` listing every problem as
    ``file:line: key: message``. ``what`` names the rules ("shipping rules"), ``shipped`` the shipped file an
    unknown key is checked against. ``locate(loc, message)`` may point a cross-field problem (no key) at a place
    in the file."""
    try:
        return model.model_validate(plain(root))
    except ValidationError as exc:
        from bridge.i18n.validation import describe, unknown_key

        source = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        lines: list[str] = [_("{path}: {count} problem(s) in the {what}:").format(path=path, count=exc.error_count(),
                                                                       what=_(what))]
        for error in exc.errors():
            loc = [part for part in error["loc"] if not (isinstance(part, str) and "[" in part)]
            key = ".".join(str(part) for part in loc) or _("(top level)")
            number = line_of(root, loc)
            text = source[number - 1] if 0 < number <= len(source) else None
            if error["type"] == "extra_forbidden":
                message = unknown_key(model, tuple(error["loc"]), shipped)
            else:
                message = describe(error, text, None if loc and loc[-1] == "[key]" else key)
            if locate is not None:
                loc = locate(loc, message)
            lines.append(f"  {path}:{line_of(root, loc)}: {key}: {message}")
        raise ConfigError("\n".join(lines)) from None


def plain(node: Any) -> Any:
    """ruamel's round-trip mappings and lists → plain dicts (string keys) and lists."""
    if isinstance(node, dict):
        return {str(key): plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(item) for item in node]
    return node


def line_of(root: Any, loc: list[Any]) -> int:
    """1-based line of the deepest key of ``loc`` that exists in the YAML tree (1 when none does)."""
    node, line = root, 1
    for part in loc:
        try:
            if isinstance(node, dict) and part in node:
                line = node.lc.key(part)[0] + 1  # type: ignore[attr-defined]
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                line = node.lc.item(part)[0] + 1  # type: ignore[attr-defined]
                node = node[part]
            else:
                break
        except (AttributeError, KeyError, TypeError):
            break
    return line
