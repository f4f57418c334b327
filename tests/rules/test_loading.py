"""Loading rules: the shipped files are valid, and every problem in every file is reported with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.rules import RuleProblem, RulesInvalid, check_rules, load_rules
from bridge.rules.loader import RULE_MODELS
from bridge.wiring import rule_files

from .conftest import SHIPPED


def problems_of(directory: Path) -> list[RuleProblem]:
    rules, problems = check_rules(directory, rule_files())
    assert rules is None and problems
    return problems


def only(directory: Path) -> RuleProblem:
    problems = problems_of(directory)
    assert len(problems) == 1, problems
    return problems[0]


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_every_shipped_rules_file_validates_including_shipping() -> None:
    rules = load_rules(SHIPPED, rule_files())
    assert set(RULE_MODELS) | {"shipping.yaml"} <= set(rules.files)
    assert rules.shipping is not None and rules.shipping.methods
    assert rules.pricing.direct_ship.surcharge_percent == 10
    assert rules.stock.guard.zero_share == rules.stock.guard.zero_share.__class__("0.20")
    assert [c.id for c in rules.campaigns.campaigns] == ["spring-bulk-2027", "rank1-weekend-points"]


def test_an_absent_file_means_its_defaults_and_the_digest_follows_the_content(rules_dir: Path) -> None:
    before = load_rules(rules_dir)
    (rules_dir / "campaigns.yaml").unlink()
    after = load_rules(rules_dir)
    assert after.campaigns.campaigns == [] and "campaigns.yaml" not in after.files
    assert after.digest != before.digest and after.pricing == before.pricing


def test_a_missing_directory_is_one_clear_problem(tmp_path: Path) -> None:
    problem = only(tmp_path / "nowhere")
    assert "rules directory not found" in str(problem)


def test_yaml_syntax_error_names_file_and_line(rules_dir: Path) -> None:
    path = rules_dir / "stock.yaml"
    path.write_text("version: 1\nsafety_stock:\n  default: 0\n   by_code: {}\n", encoding="utf-8")
    problem = only(rules_dir)
    assert (problem.file, problem.line) == (str(path), 4) and "not valid YAML" in problem.message


def test_duplicate_key_names_the_second_line(rules_dir: Path) -> None:
    path = rules_dir / "customers.yaml"
    path.write_text("version: 1\npush_rate: true\nrank_membership: true\npush_rate: false\n", encoding="utf-8")
    problem = only(rules_dir)
    assert problem.line == 4 and "duplicate key" in problem.message


def test_unknown_key_names_its_line_and_suggests_the_spelling(rules_dir: Path) -> None:
    path = rules_dir / "pricing.yaml"
    text = path.read_text(encoding="utf-8").replace("  surcharge_percent: 10", "  surcharge_percnt: 10")
    path.write_text(text, encoding="utf-8")
    problem = only(rules_dir)
    assert problem.file == str(path) and problem.line == line_of(path, "surcharge_percnt")
    assert problem.key == "direct_ship.surcharge_percnt"
    assert "did you mean surcharge_percent?" in problem.message
    assert str(problem).startswith(f"{path}:{problem.line}: direct_ship.surcharge_percnt: unknown key")


@pytest.mark.parametrize(
    ("file", "old", "new", "marker", "key", "message"),
    [
        # a wrong value in a list item names the item's line
        ("order_flow.yaml", "  - kind: cod\n", "  - kind: cash\n", "kind: cash", "payment_methods[3].kind",
         "prepaid"),
        # a bad dict key names the key's line
        ("pricing.yaml", "  5: ランク5\n", "  5: ランク5\n  6: ランク6\n", "6: ランク6", "rank_usergroups.6",
         "must be 5 or less"),
    ],
    ids=["list-item-value", "dict-key"],
)
def test_a_bad_value_names_its_own_line(rules_dir: Path, file: str, old: str, new: str, marker: str, key: str,
                                        message: str) -> None:
    path = rules_dir / file
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    problem = only(rules_dir)
    assert problem.line == line_of(path, marker) and problem.key == key
    assert message in problem.message


def test_missing_required_key_is_named_at_its_parents_line(rules_dir: Path) -> None:
    path = rules_dir / "campaigns.yaml"
    text = path.read_text(encoding="utf-8").replace("    name: 春のまとめ買いキャンペーン\n", "")
    path.write_text(text, encoding="utf-8")
    problem = only(rules_dir)
    assert problem.key == "campaigns[0].name" and problem.message == "required key is missing"
    assert problem.line == line_of(path, "- id: spring-bulk-2027")


def test_a_cross_field_rule_names_the_section(rules_dir: Path) -> None:
    path = rules_dir / "campaigns.yaml"
    text = path.read_text(encoding="utf-8").replace("      end: 2027-03-31\n", "      end: 2027-02-28\n")
    path.write_text(text, encoding="utf-8")
    problem = only(rules_dir)
    assert problem.key == "campaigns[0].period" and problem.line == line_of(path, "    period:")
    assert "not after its start" in problem.message and "Value error" not in problem.message


def test_a_benefit_of_the_wrong_shape_names_its_field(rules_dir: Path) -> None:
    path = rules_dir / "campaigns.yaml"
    text = path.read_text(encoding="utf-8").replace("        percent: 5\n", "        percent: 500\n", 1)
    path.write_text(text, encoding="utf-8")
    problem = only(rules_dir)
    assert problem.line == line_of(path, "percent: 500") and problem.key.endswith("benefits[0].percent")


def test_letter_used_twice_is_refused(rules_dir: Path) -> None:
    path = rules_dir / "order_flow.yaml"
    text = path.read_text(encoding="utf-8").replace("    letters: [J]\n", "    letters: [H]\n")
    path.write_text(text, encoding="utf-8")
    problem = only(rules_dir)
    assert problem.key == "states" and "letter H is used by both hold and shipping_instructed" in problem.message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"- a\n- b\n", "top level must be a mapping"),
        ("version: 1\ndefault: 0\n# 在庫\n".encode("cp932"), "not UTF-8"),
    ],
)
def test_file_level_problems(rules_dir: Path, content: bytes, expected: str) -> None:
    (rules_dir / "stock.yaml").write_bytes(content)
    problem = only(rules_dir)
    assert expected in problem.message and problem.file.endswith("stock.yaml")


def test_unknown_and_misnamed_files_are_reported(rules_dir: Path) -> None:
    (rules_dir / "pricing.yml").write_text("version: 1\n", encoding="utf-8")
    (rules_dir / "pricng.yaml").write_text("version: 1\n", encoding="utf-8")
    messages = sorted(p.message for p in problems_of(rules_dir))
    assert messages == ["unknown rules file; did you mean pricing.yaml?", "unknown rules file; rename it to pricing.yaml"]


def test_all_problems_of_all_files_are_collected(rules_dir: Path) -> None:
    stock = rules_dir / "stock.yaml"
    stock.write_text(stock.read_text(encoding="utf-8").replace("mode: sum", "mode: total")
                     .replace("zero_share: 0.20", "zero_share: 1.5"), encoding="utf-8")
    (rules_dir / "products.yaml").write_text("version: 2\nstatus:\n  not_displayed: X\n", encoding="utf-8")
    (rules_dir / "customers.yaml").write_text("push_rate: [\n", encoding="utf-8")
    shipping = rules_dir / "shipping.yaml"
    shipping.write_text(shipping.read_text(encoding="utf-8") + "\nno_such_key: 1\n", encoding="utf-8")
    problems = problems_of(rules_dir)
    by_file: dict[str, list[str]] = {}
    for problem in problems:
        assert problem.line is not None and problem.line >= 1
        by_file.setdefault(Path(problem.file).name, []).append(problem.key)
    assert sorted(by_file["stock.yaml"]) == ["guard.zero_share", "warehouses.mode"]
    assert sorted(by_file["products.yaml"]) == ["status.not_displayed", "version"]
    assert len(by_file["customers.yaml"]) == 1
    assert by_file["shipping.yaml"] == ["no_such_key"]
    with pytest.raises(RulesInvalid) as raised:
        load_rules(rules_dir, rule_files())
    assert len(raised.value.problems) == len(problems) == 6
    assert str(stock) in str(raised.value)
