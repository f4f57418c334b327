"""Records written in a layout read back equal, for every file type, encoding and file shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.smile.generator import FILE_NAMES, GeneratedSet
from bridge.smile.layout import FileLayout
from bridge.smile.reader import read_file
from bridge.smile.records import SalesSlipLine
from bridge.smile.settings import SmileSettings
from bridge.smile.writer import write_records

ENCODINGS = ["cp932", "utf-16", "utf-8", "utf-8-sig"]
BOMS = {"utf-16": b"\xff\xfe", "utf-8-sig": b"\xef\xbb\xbf"}


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("file_type", list(FILE_NAMES))
def test_every_type_round_trips_in_every_encoding(
    file_type: str, encoding: str, generated: GeneratedSet, layout_of: Callable[..., FileLayout],
    smile_settings: SmileSettings, tmp_path: Path,
) -> None:
    records = getattr(generated, file_type)
    layout = layout_of(file_type, encoding=encoding)
    path = write_records(tmp_path / FILE_NAMES[file_type], file_type, records, layout=layout)

    raw = path.read_bytes()
    assert raw.startswith(BOMS.get(encoding, b"")) and (encoding in BOMS or not raw.startswith((b"\xff\xfe", b"\xef")))
    result = read_file(path, file_type, smile_settings, layout=layout)
    assert result.problems == []
    assert result.records == records


def test_generated_files_are_read_by_the_shipped_layouts(generated: GeneratedSet,
                                                          smile_settings: SmileSettings) -> None:
    for file_type, path in generated.paths.items():
        result = read_file(path, file_type, smile_settings)
        assert result.ok, result.report()
        assert result.records == getattr(generated, file_type)


@pytest.mark.parametrize(
    "shape",
    [
        {"delimiter": "tab"},
        {"quoting": "all"},
        {"header_rows": 2},
        {"date_format": "YYYY/MM/DD"},
        {"delimiter": "tab", "quoting": "none", "encoding": "utf-16"},
        {"newline": "lf"},
    ],
    ids=lambda shape: "-".join(f"{k}={v}" for k, v in shape.items()),
)
def test_file_shapes_round_trip(shape: dict[str, object], generated: GeneratedSet,
                                layout_of: Callable[..., FileLayout], smile_settings: SmileSettings,
                                tmp_path: Path) -> None:
    layout = layout_of("products", **shape)
    path = write_records(tmp_path / "products.csv", "products", generated.products, layout=layout)
    result = read_file(path, "products", smile_settings, layout=layout)
    assert result.problems == []
    assert result.records == generated.products


def _slip_lines() -> list[SalesSlipLine]:
    return [
        SalesSlipLine(slip_date=date(2026, 11, 24), slip_no="00012345", serial="7001", line_no=1,
                      customer_code="100001", product_code="10000001", product_name="紙コップ 小",
                      quantity=Decimal(10), unit_price=Decimal(120), amount=Decimal(1200), order_ref="CS1001",
                      order_no="1001", order_line=1, modified_on=date(2026, 11, 24)),
        SalesSlipLine(slip_date=date(2026, 11, 24), slip_no="00012345", serial="7001", line_no=2,
                      customer_code="100001", product_code="99999999", product_name="手入力品",
                      quantity=Decimal(1), unit_price=Decimal(500), amount=Decimal(500), order_ref="CS1001"),
        SalesSlipLine(slip_date=date(2026, 11, 24), slip_no="00012345", serial="7001", line_no=2, line_type="1",
                      customer_code="100001", amount=Decimal(170), order_ref="CS1001"),
        SalesSlipLine(slip_date=date(2026, 11, 25), slip_no="00012346", serial="7002", line_no=1,
                      customer_code="999999", product_code="10000002", quantity=Decimal("2.5"),
                      unit_price=Decimal("99.9"), amount=Decimal("249.75")),
    ]


def test_sales_lines_read_back_by_position_without_a_header(smile_settings: SmileSettings, tmp_path: Path) -> None:
    layout = smile_settings.layout("sales_lines")
    path = write_records(tmp_path / "sales_lines.csv", "sales_lines", _slip_lines(), layout=layout)
    first = path.read_bytes().decode("utf-16").split("\r\n")[0]
    assert first.count(",") == 158  # 159 columns, as SMILE's export has
    result = read_file(path, "sales_lines", smile_settings)
    assert result.problems == []
    assert result.records == _slip_lines()
    misc = [line for line in result.records if line.is_misc_customer or line.is_misc_product]
    assert [(m.serial, m.line_no) for m in misc] == [("7001", 2), ("7002", 1)]
    assert [line.is_tax_line for line in result.records] == [False, False, True, False]


def test_order_lines_read_back_with_their_assumed_header(smile_settings: SmileSettings, tmp_path: Path) -> None:
    layout = smile_settings.layout("order_lines")
    lines = [line for line in _slip_lines() if not line.is_tax_line]
    lines = [SalesSlipLine(**{**{f: getattr(line, f) for f in line.__slots__}, "remarks": "直送"})  # type: ignore[attr-defined]
             for line in lines]
    path = write_records(tmp_path / "order_lines.csv", "order_lines", lines, layout=layout)
    result = read_file(path, "order_lines", smile_settings)
    assert result.problems == []
    # 受注明細 has no 明細区分/受注番号 columns in its assumed layout: those fields come back as their defaults.
    assert [(r.slip_no, r.line_no, r.order_ref, r.remarks) for r in result.records] == [
        (line.slip_no, line.line_no, line.order_ref, "直送") for line in lines
    ]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("file_type", ["sales_lines", "order_lines"])
def test_read_back_exports_round_trip_in_every_encoding(file_type: str, encoding: str,
                                                        layout_of: Callable[..., FileLayout],
                                                        smile_settings: SmileSettings, tmp_path: Path) -> None:
    layout = layout_of(file_type, encoding=encoding)
    lines = _slip_lines()
    if file_type == "order_lines":  # its assumed layout has no 明細区分, 受注番号, 受注行 or 操作日付 columns
        lines = [SalesSlipLine(slip_date=line.slip_date, slip_no=line.slip_no, serial=line.serial,
                               line_no=line.line_no, customer_code=line.customer_code,
                               product_code=line.product_code, product_name=line.product_name,
                               quantity=line.quantity, unit_price=line.unit_price, amount=line.amount,
                               order_ref=line.order_ref) for line in lines if not line.is_tax_line]
    path = write_records(tmp_path / f"{file_type}.csv", file_type, lines, layout=layout)
    assert path.read_bytes().startswith(BOMS.get(encoding, b""))
    result = read_file(path, file_type, smile_settings, layout=layout)
    assert result.problems == []
    assert result.records == lines
