"""The Japanese docs name only things that exist: every `bridge …` command and flag, every rules and settings key,
every rules file; every YAML example is a valid rules file.

A key is written in backticks as its path (`price_rounding.unit`, `guard.zero_share`, `mail.smtp_host`); list items
and named entries are matched the way docs/rules.md writes them (`campaigns[].period.start`, `states.<name>.letters`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from bridge import wiring
from bridge.cli import app
from bridge.config import Settings
from bridge.rules.loader import load_rules
from tests.ops.rules_reference import keys_of, rule_models

ROOT = Path(__file__).resolve().parents[2]
JA = ROOT / "docs" / "ja"
DOCS = sorted(path for path in JA.glob("*.md"))
TOPICS = ("ルール", "受注", "配送", "レポート", "キャンペーン")  # docs an operator needs besides 運用ガイド
CODE = re.compile(r"`([^`\n]+)`")
DOTTED = re.compile(r"[a-z_][a-z0-9_]*(?:\[\])?(?:\.(?:[a-z_][a-z0-9_]*|<name>)(?:\[\])?)+")
NOT_KEYS = re.compile(r".*\.(ya?ml|md|json|csv|txt|py|sql|zip|sqlite3|lock|control|bak|xlsx|html|parquet|done|error\.txt)$|"
                      r"^(bridge|docs|ops|rules|tests)\.")
# Log event names (`stock.guard_tripped`) are keys too: they must be written somewhere in the code.
SOURCE_STRINGS = {match for path in (ROOT / "bridge").rglob("*.py")
                  for match in re.findall(r"[\"']([a-z_]+(?:\.[a-z_]+)+)[\"']", path.read_text(encoding="utf-8"))}


def _paths(model: type) -> set[tuple[str, ...]]:
    found = set()
    for key in keys_of(model):  # type: ignore[arg-type]
        path = re.sub(r" \(type: [^)]*\)", "", key.path).replace("[]", "")
        found.add(tuple(path.split(".")))
    return found


RULE_PATHS = {name: _paths(model) for name, model in rule_models().items()}
SETTINGS_PATHS = _paths(Settings)
ALL_PATHS = set().union(*RULE_PATHS.values()) | SETTINGS_PATHS


def known_key(token: str) -> bool:
    parts = tuple(token.replace("[]", "").split("."))
    for path in ALL_PATHS:
        for start in range(len(path)):  # a key may be written from any level (`guard.zero_share`)
            tail = path[start:start + len(parts)]
            if len(tail) == len(parts) and all(p == t or t == "<name>" or p == "<name>" for p, t in zip(parts, tail)):
                return True
    return False


def command_of(words: list[str]) -> tuple[Any, list[str]]:
    """The (click) command named by ``bridge w1 w2 …`` and the words after it."""
    command: Any = typer.main.get_command(app)
    rest = list(words)
    ctx = command.context_class(command)
    while rest and hasattr(command, "get_command"):
        sub = command.get_command(ctx, rest[0])
        if sub is None:
            return None, rest
        command = sub
        rest.pop(0)
    return command, rest


def test_the_operator_docs_exist() -> None:
    names = {path.stem for path in DOCS}
    for topic in TOPICS:
        assert any(topic in name for name in names), f"docs/ja/ has no document about {topic}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_commands_and_flags_in_the_docs_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    problems = []
    snippets = CODE.findall(text) + [line for block in re.findall(r"```(?:sh|bash)?\n(.*?)```", text, re.DOTALL)
                                     for line in block.splitlines()]
    for snippet in snippets:
        for found in re.finditer(r"(?:^|[\s/])bridge((?:\s+[a-z][a-z-]*)+)((?:\s+[^\s|;&]+)*)", snippet):
            words = found.group(1).split()
            command, rest = command_of(words)
            if command is None:
                problems.append(f"no command: bridge {' '.join(words)}")
                continue
            options = {opt for param in command.params for opt in getattr(param, "opts", [])}
            options |= {"--help"}
            args = rest + found.group(2).split()
            for flag in (arg.split("=")[0].strip("[]") for arg in args if arg.lstrip("[").startswith("--")):
                if flag not in options:
                    problems.append(f"no flag {flag} on bridge {' '.join(words)}")
    assert not problems, f"{doc.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_keys_and_rules_files_in_the_docs_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    shipped = {path.name for path in (ROOT / "rules").glob("*.yaml")}
    problems = []
    for token in CODE.findall(text):
        token = token.strip()
        file = re.fullmatch(r"(?:rules/)?([a-z_]+\.yaml)", token)
        if file and file.group(1) != "config.yaml" and file.group(1) not in shipped:
            problems.append(f"no rules file {token}")
        for key in (part.rstrip(":") for part in token.split()):
            if DOTTED.fullmatch(key) and not NOT_KEYS.match(key) and not known_key(key) and key not in SOURCE_STRINGS:
                problems.append(f"no key {key}")
    assert not problems, f"{doc.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_yaml_examples_are_valid_rules_files(doc: Path, tmp_path: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for number, body in enumerate(re.findall(r"^```yaml\n(.*?)^```", text, re.MULTILINE | re.DOTALL)):
        first = body.splitlines()[0]
        name = re.fullmatch(r"# (\w+\.yaml)", first)
        if not name:
            continue
        folder = tmp_path / str(number)
        folder.mkdir()
        (folder / name.group(1)).write_text(body, encoding="utf-8")
        load_rules(folder, wiring.rule_files())  # raises RulesInvalid naming the line and key


def test_the_checker_catches_a_wrong_name() -> None:
    assert known_key("price_rounding.unit") and known_key("guard.zero_share") and known_key("mail.smtp_host")
    assert not known_key("guard.zero_shar") and not known_key("price_rounding.units")
    command, _rest = command_of(["campaigns", "report"])
    assert command is not None and "--format" in {o for p in command.params for o in getattr(p, "opts", [])}
    assert command_of(["campaign", "report"])[0] is None
