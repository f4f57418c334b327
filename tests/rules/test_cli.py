"""``bridge rules check``: exit 0 with a summary, or exit 2 with every problem as file:line: key: message."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.cli import app


def test_check_summarises_valid_rules(rules_dir: Path) -> None:
    result = CliRunner().invoke(app, ["rules", "check", str(rules_dir)])
    assert result.exit_code == 0, result.output
    assert f"rules OK: {rules_dir}" in result.output
    assert "order_flow.yaml: received O/P, hold H" in result.output
    assert "guard: >20 % zeros or <90 % rows" in result.output
    assert "shipping.yaml: " in result.output and "shipping method rule(s)" in result.output


def test_check_defaults_to_the_settings_rules_dir(rules_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_RULES_DIR", str(rules_dir))
    (rules_dir / "customers.yaml").unlink()
    result = CliRunner().invoke(app, ["rules", "check"])
    assert result.exit_code == 0 and "customers.yaml (file not found: defaults used):" in result.output


def test_check_lists_every_problem_and_exits_2(rules_dir: Path) -> None:
    (rules_dir / "stock.yaml").write_text("version: 1\nwarehouses:\n  mode: listed\n", encoding="utf-8")
    (rules_dir / "products.yaml").write_text("version: 1\nstatus:\n  outside_validity: X\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", str(rules_dir)])
    assert result.exit_code == 2
    assert f"{rules_dir / 'stock.yaml'}:2: warehouses: mode 'listed' needs the warehouse codes" in result.output
    assert f"{rules_dir / 'products.yaml'}:3: status.outside_validity:" in result.output
    assert "2 problem(s)" in result.output
