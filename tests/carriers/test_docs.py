"""docs/carriers.md stays in step with the code it describes."""

from __future__ import annotations

from tests.carriers.samples import SHIPPED_RULES


def test_docs_carry_the_filter_description_and_the_text_table() -> None:
    from bridge.carriers.japanpost import filter_description
    from bridge.carriers.text import DEFAULT_TEXT_MAP

    docs = (SHIPPED_RULES.parents[1] / "docs" / "carriers.md").read_text(encoding="utf-8")
    assert filter_description() in docs
    for original, replacement in DEFAULT_TEXT_MAP.items():
        if original.isprintable() and not original.isspace() and not 0xF900 <= ord(original) <= 0xFAFF:
            assert f"{original}→{replacement or '(removed)'}" in docs, original


def test_every_carriers_command_and_option_the_docs_show_exists() -> None:
    import re

    from typer.testing import CliRunner

    from bridge.cli import app

    root = SHIPPED_RULES.parents[1]
    text = (root / "docs" / "carriers.md").read_text(encoding="utf-8") + (root / "README.md").read_text(
        encoding="utf-8")
    shown = re.findall(r"bridge carriers ([a-z-]+)((?: \[?--[a-z-]+(?: [A-Z]+)?\]?)*)", text)
    assert {command for command, _ in shown} >= {"export", "import", "track", "check-result"}
    for command, options in shown:
        help_text = CliRunner().invoke(app, ["carriers", command, "--help"]).output
        assert "Usage:" in help_text, command
        for option in re.findall(r"--[a-z-]+", options):
            assert option in help_text, f"bridge carriers {command} {option}"
