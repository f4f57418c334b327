"""Layouts are configuration: shipped defaults, site overrides merged key by key, mistakes named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.errors import ConfigError
from bridge.smile.layout import Column, FileLayout
from bridge.smile.reader import read_file
from bridge.smile.schema import SCHEMAS
from bridge.smile.settings import SmileSettings, check_layouts
from bridge.smile.text import normalize_header


def test_shipped_layouts_cover_every_type() -> None:
    settings = SmileSettings()
    assert set(SCHEMAS) | {"order_import"} == set(settings.files)
    assert check_layouts(settings) == []
    assert settings.layout("stock").assumed and not settings.layout("products").assumed
    assert settings.layout("sales_lines").header_rows == 0 and settings.layout("customers").delimiter == "\t"
    assert len(settings.layout("order_import").columns) == 70


@pytest.mark.parametrize(("one", "other"), [("商品ｺｰﾄﾞ", "商品コード"), ("ランク1売上単価", "ランク１売上単価"),
                                            ("ＪＡＮ", "JAN"), ("受注№", "受注No"), (" 得意先名 １", "得意先名1")])
def test_headers_match_after_width_folding(one: str, other: str) -> None:
    assert normalize_header(one) == normalize_header(other)


def test_a_site_overrides_keys_and_single_columns(tmp_path: Path) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text(
        "smile:\n"
        "  inbox_dir: /srv/smile/in\n"
        "  files:\n"
        "    stock:\n"
        "      encoding: utf-16\n"
        "      delimiter: tab\n"
        "      columns:\n"
        "        on_hand: [在庫数, 現在庫数量]\n"
        "    order_import:\n"
        "      columns: {伝票日付: null, 商品ｺｰﾄﾞ: {max_length: 13}}\n",
        encoding="utf-8",
    )
    settings = load_settings(config)
    stock = settings.smile.layout("stock")
    assert (stock.encoding, stock.delimiter) == ("utf-16", "\t")
    assert stock.columns["on_hand"].header == ("在庫数", "現在庫数量")
    assert stock.columns["product_code"].header == ("商品コード",)  # the rest of the map is kept
    assert list(settings.smile.layout("order_import").columns) == ["伝票日付", "商品ｺｰﾄﾞ"]  # written lists replace
    assert settings.smile.dirs(settings.data_dir).inbox == Path("/srv/smile/in")
    assert settings.smile.dirs(settings.data_dir).outbox == settings.data_dir / "smile" / "outbox"


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        ("      columns: {onhand: 現在庫数量}\n", "smile.files.stock.columns.onhand: unknown field"),
        ("      delimiter: semicolon\n", "delimiter must be comma or tab"),
        ("      encoding: latin-1\n", "encoding"),
        ("      header_rows: 3\n", "header_rows"),
        ("      header_rows: 0\n", "the file has no header row, so give a position"),
    ],
)
def test_layout_mistakes_are_named(yaml: str, expected: str, tmp_path: Path) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text("smile:\n  files:\n    stock:\n" + yaml, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    assert expected in str(error.value)


def test_an_unknown_file_type_cannot_be_read(tmp_path: Path) -> None:
    settings = SmileSettings()
    with pytest.raises(KeyError, match="unknown SMILE file type"):
        settings.layout("invoices")
    with pytest.raises(KeyError, match="no reader for file type"):
        read_file(tmp_path / "x.csv", "invoices", settings, layout=settings.layout("stock"))


def test_the_user_docs_name_every_type_field_and_setting() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "smile.md").read_text(encoding="utf-8")
    settings = SmileSettings()
    for file_type in settings.files:
        assert f"`{file_type}`" in docs, file_type
    for schema in SCHEMAS.values():
        for field_name in schema.names:
            assert f"`{field_name}`" in docs, (schema.name, field_name)
    for key in [*SmileSettings.model_fields, *FileLayout.model_fields, *Column.model_fields]:
        if key not in ("files", "type"):
            assert f"`{key}`" in docs or f"smile.{key}" in docs, key


def test_the_settings_examples_in_the_user_docs_load(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "smile.md").read_text(encoding="utf-8")
    examples = [block.split("```", 1)[0] for block in docs.split("```yaml\n")[1:]]
    assert len(examples) >= 2
    for number, example in enumerate(examples):
        config = tmp_path / f"example{number}.yaml"
        config.write_text(example, encoding="utf-8")
        assert load_settings(config).smile.files  # raises ConfigError if the example is wrong
