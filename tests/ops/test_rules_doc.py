"""docs/rules.md documents every key of every rules file, and its examples are valid rules files."""

from __future__ import annotations

import re
from pathlib import Path

from bridge import wiring
from bridge.rules.loader import load_rules
from tests.ops.rules_reference import DOC, keys_of, reference, rule_models

ROOT = Path(__file__).resolve().parents[2]


def examples() -> dict[str, str]:
    """File name (from the ``# name.yaml`` first line) → YAML of every example block."""
    found = {}
    for language, body in re.findall(r"^```(\w*)\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL):
        first = body.splitlines()[0]
        if language == "yaml" and re.fullmatch(r"# \w+\.yaml", first):
            found[first[2:]] = body
    return found


def test_every_key_of_every_rules_model_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [f"{name}: {key.path}" for name, model in rule_models().items() for key in keys_of(model)
               if f"| `{key.path}` |" not in text]
    assert not missing, ("docs/rules.md lacks these keys; regenerate its reference with "
                         "`python -m tests.ops.rules_reference --write`:\n" + "\n".join(missing))


def test_every_rules_file_has_an_example_and_a_row() -> None:
    shipped = {path.name for path in (ROOT / "rules").glob("*.yaml")}
    assert shipped == set(rule_models()), "a rules file without a model, or a model without a shipped file"
    text = DOC.read_text(encoding="utf-8")
    for name in shipped:
        assert f"| `{name}` |" in text, f"no row for {name} in the table of files"
    assert set(examples()) == shipped


def test_the_examples_load_as_one_rules_folder(tmp_path: Path) -> None:
    for name, body in examples().items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    rules = load_rules(tmp_path, wiring.rule_files())
    assert rules.stock.guard.zero_share == rules.stock.guard.zero_share.__class__("0.10")


def test_the_generator_covers_nested_lists_maps_and_tagged_unions() -> None:
    generated = reference()
    for key in ("`states.<name>.letters`", "`notifications[].from`", "`campaigns[].benefits[] (type: coupon).code`",
                "`guard.zero_share`", "`carriers.yamato.schedule.times`"):
        assert key in generated
