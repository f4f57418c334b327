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
