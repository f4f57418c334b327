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
    path.write_bytes("倉庫コード,商品コード,現在庫数量\r\n000001,A1,5\r\n".encode())
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


def test_check_refuses_a_file_over_the_size_bound(tmp_path: Path) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text("smile:\n  max_file_bytes: 100\n", encoding="utf-8")
    path = tmp_path / "stock.csv"
    path.write_bytes(("倉庫コード,商品コード,現在庫数量\r\n" + "000001,A1,5\r\n" * 20).encode("cp932"))
    result = runner.invoke(app, ["smile", "check", str(path), "--type", "stock", "--config", str(config)])
    assert result.exit_code == 1 and "smile.max_file_bytes (100); not read" in result.output


def test_check_counts_misc_rows_it_would_skip(tmp_path: Path) -> None:
    path = tmp_path / "stock.csv"
    path.write_bytes("倉庫コード,商品コード,現在庫数量\r\n000001,A1,5\r\n000001,99999999,1\r\n".encode("cp932"))
    result = runner.invoke(app, ["smile", "check", str(path), "--type", "stock"])
    assert result.exit_code == 0, result.output
    assert "2 row(s), 1 record(s) would be read, 1 諸口 row(s) skipped" in result.output


def test_check_reads_a_headerless_sales_export(tmp_path: Path) -> None:
    out = tmp_path / "sales_lines.csv"
    cells = [""] * 159
    for position, value in {1: "20261124", 3: "00012345", 4: "7001", 5: "0", 7: "1", 8: "100001",
                            86: "10000001", 111: "10", 113: "120", 114: "1200", 133: "CS1001"}.items():
        cells[position - 1] = value
    out.write_bytes(b"\xff\xfe" + (",".join(cells) + "\r\n").encode("utf-16-le"))
    result = runner.invoke(app, ["smile", "check", str(out), "--type", "sales_lines"])
    assert result.exit_code == 0, result.output
    assert "1 record(s) would be read" in result.output and "CS1001" in result.output


def test_generate_refuses_an_empty_set(tmp_path: Path) -> None:
    """An export with no rows would be refused by the readers (an empty master would remove everything)."""
    for option in ("--products", "--customers"):
        result = runner.invoke(app, ["smile", "generate", "--out", str(tmp_path), option, "0"])
        assert result.exit_code == 2 and option in result.output
