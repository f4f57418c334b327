"""The operator docs (English and Japanese) name only what exists: `bridge` commands and their options, settings
keys, metric names, and settings snippets that validate."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from pydantic import BaseModel
from ruamel.yaml import YAML

from bridge import metrics
from bridge.cli import app
from bridge.config import JobsSettings, Settings
from tests.ops.promql import exported_names

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "operations.md", ROOT / "docs" / "ja" / "運用ガイド.md"]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"`([^`\n]+)`")
COMMAND = re.compile(r"(?:^|[\s/(])bridge ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)((?:[ \t]+[^\s|;&#`]+)*)")
OPTION = re.compile(r"(?<!\S)(--?[a-z][a-z-]*)")


def code_of(doc: Path) -> Iterator[tuple[str, str]]:
    """(language, text) of every fenced block, then ("", text) of every inline code span outside them."""
    text = doc.read_text(encoding="utf-8")
    yield from FENCE.findall(text)
    for span in SPAN.findall(FENCE.sub("", text)):
        yield "", span


def commands() -> dict[str, set[str]]:
    """'sync' → its options, 'dlq list' → its options, for every command of the CLI."""
    found: dict[str, set[str]] = {}

    def walk(prefix: str, command: Any) -> None:
        if hasattr(command, "list_commands"):  # a group; the root one loads its commands on demand
            ctx = typer.Context(command)
            for name in command.list_commands(ctx):
                walk(f"{prefix} {name}".strip(), command.get_command(ctx, name))
        else:
            found[prefix] = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
            found[prefix].add("--help")

    walk("", typer.main.get_command(app))
    return found


def command_uses(doc: Path) -> list[tuple[str, list[str]]]:
    """Each `bridge …` invocation in the code of ``doc``: (command words, options given)."""
    uses = []
    for _, code in code_of(doc):
        for line in code.replace("\\\n", " ").splitlines():
            for match in COMMAND.finditer(line):
                uses.append((match[1], OPTION.findall(match[2])))
    return uses


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_bridge_command_and_option_in_the_docs_exists(doc: Path) -> None:
    known = commands()
    uses = command_uses(doc)
    assert len(uses) > 15
    for words, options in uses:
        name = words if words in known else words.split(" ")[0]
        assert name in known, f"{doc.name}: `bridge {words}` is not a command; commands: {sorted(known)}"
        unknown = [opt for opt in options if opt not in known[name]]
        assert not unknown, f"{doc.name}: `bridge {name}` has no option {unknown}; it has {sorted(known[name])}"
    documented = {words if words in known else words.split(" ")[0] for words, _ in uses}
    for operator_command in ("run", "status", "sync", "backup", "restore", "config check", "dlq list", "dlq replay",
                             "dlq discard", "dlq show", "rules check"):
        assert operator_command in documented, f"{doc.name} never shows `bridge {operator_command}`"


def settings_key_exists(path: str) -> bool:
    """``mqtt.queue_size``, ``jobs.<name>.stuck_after``, ``dispatch.retry.max_attempts`` … against the models."""
    model: Any = Settings
    for part in path.split("."):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return False
        if part.startswith("<") and model is JobsSettings:
            part = next(iter(JobsSettings.model_fields))
        field = model.model_fields.get(part)
        if field is None:
            return False
        model = field.annotation
    return True


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_settings_key_in_the_docs_exists(doc: Path) -> None:
    sections = set(Settings.model_fields)
    keys = [span for lang, span in code_of(doc) if lang == "" and re.fullmatch(r"[a-z_]+(\.[a-z_<>]+)+", span)
            and span.split(".")[0] in sections]
    assert len(keys) > 5
    for key in keys:
        assert settings_key_exists(key), f"{doc.name}: settings key `{key}` does not exist (see bridge/config.py)"


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_settings_snippets_in_the_docs_validate(doc: Path) -> None:
    snippets = 0
    for language, body in code_of(doc):
        if language != "yaml":
            continue
        data = YAML(typ="safe").load(body)
        if isinstance(data, dict) and set(data) <= set(Settings.model_fields):
            Settings.model_validate(data)
            snippets += 1
    assert snippets >= 1 or doc.name != "operations.md"


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_metric_name_in_the_docs_is_exported(doc: Path) -> None:
    # sample names, plus histogram family names (a histogram is documented by its family name)
    exported = exported_names(metrics.REGISTRY) | {f.name for f in metrics.REGISTRY.collect() if f.type == "histogram"}
    text = doc.read_text(encoding="utf-8")
    names = set(re.findall(r"(?<![\w…])bridge_[a-z_]+[a-z](?![\w…])", text))
    assert len(names) > 5 or doc.name != "operations.md"
    assert names <= exported, f"{doc.name}: unknown metric(s) {sorted(names - exported)}"


def test_the_checker_catches_a_wrong_command_option_and_key(tmp_path: Path) -> None:
    doc = tmp_path / "bad.md"
    doc.write_text("Run `bridge backups /x` or `bridge sync stock --froce`; set `mqtt.queue_sise`.\n", encoding="utf-8")
    known = commands()
    uses = command_uses(doc)
    assert ("backups", []) in uses and "backups" not in known
    assert ("sync stock", ["--froce"]) in uses and "--froce" not in known["sync"]
    assert not settings_key_exists("mqtt.queue_sise") and settings_key_exists("jobs.<name>.stuck_after")
