"""``bridge smile generate`` and ``bridge smile check``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bridge.cli import app

runner = CliRunner()


def test_generate_then_check_every_file(tmp_path: Path) -> None:
    out = tmp_path / "smile"
    result = runner.invoke(app, ["smile", "generate", "--products", "40", "--customers", "8", "--warehouses", "3",
                                 "--out", str(out), "--seed", "11"])
    assert result.exit_code == 0, result.output
    assert "stock.csv" in result.output and "customer_prices.csv" in result.output
    for file_type, name in [("products", "products.csv"), ("customers", "customers.txt"), ("stock", "stock.csv"),
                            ("customer_prices", "customer_prices.csv"), ("quantity_prices", "quantity_prices.csv")]:
        checked = runner.invoke(app, ["smile", "check", str(out / name), "--type", file_type])
        assert checked.exit_code == 0, checked.output
        assert f"{name}: OK" in checked.output and "first" in checked.output


def test_check_prints_every_problem_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "stock.csv"
    path.write_bytes("倉庫コード,商品コード,現在庫数量\r\n000001,A1,x\r\n000001,A1,3\r\n".encode("cp932"))
    result = runner.invoke(app, ["smile", "check", str(path), "--type", "stock"])
    assert result.exit_code == 1
    assert "stock.csv:2, column 3 (現在庫数量), value 'x': not a number" in result.output
    assert "stock.csv:3: duplicate key" not in result.output  # line 2 failed, so line 3 is the first A1
    assert "nothing from this file was applied" in result.output


def test_check_with_an_encoding_override(tmp_path: Path) -> None:
    path = tmp_path / "stock.csv"
    path.write_bytes("倉庫コード,商品コード,現在庫数量\r\n000001,A1,5\r\n".encode("utf-8"))
    assert runner.invoke(app, ["smile", "check", str(path), "--type", "stock"]).exit_code == 1
    result = runner.invoke(app, ["smile", "check", str(path), "--type", "stock", "--encoding", "utf-8"])
    assert result.exit_code == 0, result.output


def test_check_refuses_an_unknown_type_or_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["smile", "check", str(tmp_path / "nope.csv"), "--type", "stock"])
    assert result.exit_code == 2 and "no such file" in result.output
    path = tmp_path / "x.csv"
    path.write_text("a\n", encoding="utf-8")
    result = runner.invoke(app, ["smile", "check", str(path), "--type", "order_import"])
    assert result.exit_code == 2 and "not a readable SMILE file type" in result.output


def test_generate_refuses_an_unknown_encoding(tmp_path: Path) -> None:
    result = runner.invoke(app, ["smile", "generate", "--out", str(tmp_path), "--encoding", "latin-1"])
    assert result.exit_code == 2 and "--encoding must be one of" in result.output
