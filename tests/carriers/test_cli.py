"""``bridge carriers track`` and ``bridge carriers check-result`` through the real CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bridge.cli import app
from tests.carriers.samples import SHIPPED_RULES

runner = CliRunner()


def test_track_valid_number_prints_every_candidate_url() -> None:
    result = runner.invoke(app, ["carriers", "track", "3897-1107-4012"])
    assert result.exit_code == 0
    assert "number: 3897-1107-4012" in result.output and "one of yamato, sagawa, japanpost" in result.output
    assert "crjz.b.NQ0010?id=389711074012" in result.output and "okurijoNo=389711074012" in result.output


def test_track_with_carrier_and_rules_prints_one_url_and_the_check_digit_warning() -> None:
    result = runner.invoke(app, ["carriers", "track", "389711074013", "--carrier", "yamato",
                                 "--rules", str(SHIPPED_RULES)])
    assert result.exit_code == 0
    assert "fails the 7DR check digit" in result.output and "carrier: yamato" in result.output
    assert "sagawa" not in result.output


def test_track_invalid_number_exits_non_zero() -> None:
    result = runner.invoke(app, ["carriers", "track", "12345"])
    assert result.exit_code == 1 and "not a tracking number" in result.output


def test_track_unknown_carrier() -> None:
    result = runner.invoke(app, ["carriers", "track", "389711074012", "--carrier", "dhl"])
    assert result.exit_code == 2 and "unknown carrier 'dhl'" in result.output


def check_result(path: Path, text: str) -> Any:
    """``bridge carriers check-result`` of a file with ``text``."""
    path.write_text(text, encoding="utf-8")
    return runner.invoke(app, ["carriers", "check-result", str(path)])


def test_check_result_good_and_bad(tmp_path: Path) -> None:
    result = check_result(tmp_path / "good.csv",
                          "order_no,delivery_no,delivery_date\n1001,389711074012,2026-11-24 10:00:00\n")
    assert result.exit_code == 0
    assert "generic, 1 shipment(s), 0 error(s)" in result.output
    assert "line 2: order 1001 other 389711074012 2026-11-24 10:00 JST (all items)" in result.output

    result = check_result(tmp_path / "bad.csv", "order_no,delivery_no\n1001,389711074013\n,389711074012\n")
    assert result.exit_code == 1
    assert "bad.csv:2: warning: delivery_no: tracking number 389711074013 fails" in result.output
    assert "bad.csv:3: error: order_no: is empty" in result.output

