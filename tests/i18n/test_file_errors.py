"""Settings and rules errors in both languages: file, line, key, and a sentence that says what is allowed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bridge.cli import app
from bridge.config import load_settings
from bridge.errors import ConfigError
from bridge.rules import check_rules

SHIPPED_RULES = Path(__file__).resolve().parents[2] / "rules"
EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "ops" / "config.example.yaml"

WORDS = {
    "en": {"int": "expected a whole number", "missing": "required key is missing", "unknown": "did you mean interval?",
           "quote": "put it in quotes", "le": "must be 0.5 or less", "count": "4 problem(s) in the settings"},
    "ja": {"int": "整数 (例: 600) を指定してください", "missing": "必須のキーがありません",
           "unknown": "interval の間違いではありませんか?", "quote": "引用符で囲んでください",
           "le": "0.5 以下にしてください", "count": "設定に 4 件の問題があります"},
}


def test_settings_errors_name_file_line_key_and_say_what_is_allowed(tmp_path: Path, lang: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("data_dir: /tmp/x\njobs:\n  stock:\n    intervall: 300\n    jitter: 3\nhttp:\n  port: eighty\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    message = str(raised.value)
    words = WORDS[lang]
    assert words["count"] in message
    assert f"{path}:7: http.port: {words['int']}" in message
    assert f"{path}:4: jobs.stock.intervall: " in message and words["unknown"] in message
    assert f"{path}:3: jobs.stock.interval: {words['missing']}" in message
    assert f"{path}:5: jobs.stock.jitter: {words['le']}" in message
    assert "Input should" not in message  # pydantic's own wording never reaches the operator


def test_list_items_in_settings_have_line_numbers(tmp_path: Path, lang: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("catalog:\n  new_product_category_ids:\n    - 12\n    - abc\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert f"{path}:4: catalog.new_product_category_ids.1: {WORDS[lang]['int']}" in str(raised.value)


def _rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, target)
    return target


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.from_regex(r"0[0-9]{3,9}", fullmatch=True))
def test_a_code_yaml_reads_as_a_number_says_to_quote_it(tmp_path_factory: pytest.TempPathFactory, code: str) -> None:
    rules = _rules(tmp_path_factory.mktemp("r"))
    pricing = rules / "pricing.yaml"
    text = pricing.read_text(encoding="utf-8")
    assert 'item_code: "99999999"' in text
    pricing.write_text(text.replace('item_code: "99999999"', f"item_code: {code}", 1), encoding="utf-8")
    _, problems = check_rules(rules)
    [problem] = problems
    line = next(n for n, t in enumerate(pricing.read_text(encoding="utf-8").splitlines(), 1) if f": {code}" in t)
    assert (problem.file, problem.line) == (str(pricing), line)
    assert problem.message.endswith(f'item_code: "{code}"'), problem.message  # as written, leading zeros kept


def test_a_number_key_where_a_code_is_expected(tmp_path: Path, lang: str) -> None:
    rules = _rules(tmp_path)
    stock = rules / "stock.yaml"
    text = stock.read_text(encoding="utf-8")
    stock.write_text(text.replace("  by_code: {}", "  by_code: {0012345: 3}", 1), encoding="utf-8")
    _, problems = check_rules(rules)
    [problem] = problems
    assert WORDS[lang]["quote"] in problem.message and '"0012345"' in problem.message


def test_rules_check_cli_in_both_languages(tmp_path: Path, lang: str) -> None:
    rules = _rules(tmp_path)
    (rules / "pricing.yaml").write_text(
        (rules / "pricing.yaml").read_text(encoding="utf-8").replace("surcharge_percent: 10", "surcharge_percent: ten"),
        encoding="utf-8")
    (rules / "customers.yaml").unlink()
    result = CliRunner().invoke(app, ["rules", "check", str(rules)])
    assert result.exit_code == 2
    expected = {"en": "expected a number (e.g. 0.5), got 'ten'", "ja": "数値 (例: 0.5) を指定してください"}[lang]
    assert f"{rules / 'pricing.yaml'}:" in result.output and expected in result.output
    (rules / "pricing.yaml").write_text((SHIPPED_RULES / "pricing.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", str(rules)])
    assert result.exit_code == 0, result.output
    defaults = {"en": "customers.yaml (file not found: defaults used):", "ja": "customers.yaml (ファイルがないため既定値を使用):"}
    assert defaults[lang] in result.output


def test_shipped_example_config_loads() -> None:
    assert load_settings(EXAMPLE_CONFIG).ui.timezone == "Asia/Tokyo"


@pytest.mark.parametrize(("old", "new", "key", "words"), [
    ("  unit: 0.01\n", "  unit: 3\n", "price_rounding.unit",
     {"en": "rounding unit 3 is not possible; use one of 0.01, 0.1, 1, 10, 100", "ja": "丸め単位 3 は使えません"}),
    ("  max_tiers: 20 ", "  max_tiers: 0 ", "quantity_tiers",
     {"en": "max_tiers 0 writes no quantity tier", "ja": "max_tiers が 0 では数量段階価格が 1 件も書かれません"}),
    ("  surcharge_percent: 10 ", "  surcharge_percent: 110 ", "direct_ship.surcharge_percent",
     {"en": "must be 100 or less, got", "ja": "100 以下にしてください"}),
])
def test_rules_check_refuses_impossible_values(tmp_path: Path, lang: str, old: str, new: str, key: str,
                                               words: dict[str, str]) -> None:
    rules = _rules(tmp_path)
    pricing = rules / "pricing.yaml"
    text = pricing.read_text(encoding="utf-8")
    assert old in text
    pricing.write_text(text.replace(old, new, 1), encoding="utf-8")
    _, problems = check_rules(rules)
    [problem] = problems
    assert problem.key == key and words[lang] in problem.message, problem
