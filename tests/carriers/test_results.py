"""Result files → shipments, with every format problem located by file and line."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.carriers import japanpost, sagawa, yamato
from bridge.carriers.export import build_label_files
from bridge.carriers.results import parse_result, parse_result_file
from bridge.domain import JST
from tests.carriers.samples import NOW, order, shipped_rules

HEADER = "order_no,delivery_no,delivery_date,shop_code,shop_name,shop_tel,shop_memo\r\n"


def _generic(body: str, encoding: str = "utf-8") -> bytes:
    return (HEADER + body).encode(encoding)


def test_generic_csv_rows_become_shipments() -> None:
    data = _generic("1001,3897-1107-4012,2026-11-24 10:15:00,S1,本社倉庫,03-1111-2222,午前便\r\n"
                    "1002,512547514334,,,,,\r\n")
    result = parse_result(data, "result.csv", NOW)
    assert result.ok and result.kind == "generic" and result.problems == ()
    first, second = result.shipments
    assert first.shipment.order_id == 1001 and first.shipment.tracking_number == "389711074012"
    assert first.shipment.shipped_at.astimezone(JST).strftime("%Y-%m-%d %H:%M") == "2026-11-24 10:15"
    assert first.shipment.comments == "午前便" and first.shop == {"shop_code": "S1", "shop_name": "本社倉庫",
                                                                 "shop_tel": "03-1111-2222"}
    assert first.shipment.carrier == "other" and first.row_key == "1001:389711074012"
    assert second.shipment.shipped_at == NOW  # delivery_date defaults to now


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_generic_csv_encodings(encoding: str) -> None:
    result = parse_result(_generic("1001,389711074012,,,髙島屋 配送センター,,\r\n", encoding), "r.csv", NOW)
    assert result.ok and result.shipments[0].shop["shop_name"] == "髙島屋 配送センター"


def test_every_problem_is_located_by_file_and_line() -> None:
    data = _generic(
        "1001,389711074012,2026-11-24 10:00:00,,,,\r\n"  # line 2: fine
        ",389711074012,,,,,\r\n"  # line 3: no order_no
        "1003,,,,,,\r\n"  # line 4: no delivery_no
        "1004,389711074013,,,,,\r\n"  # line 5: 7DR fails: warning only
        "1005,ABC-123,,,,,\r\n"  # line 6: no carrier's shape: the importer checks it against the order's carrier
        "1006,389711074012,2026/13/45 10:00,,,,\r\n"  # line 7: bad date
        "#7,389711074012,,,,,\r\n"  # line 8: not an order number
        "1001,389711074012,,,,,\r\n"  # line 9: repeats line 2
    )
    result = parse_result(data, "inbox/result.csv", NOW)
    found = {(p.line, p.field, p.severity) for p in result.problems}
    assert found == {
        (3, "order_no", "error"), (4, "delivery_no", "error"), (5, "delivery_no", "warning"),
        (7, "delivery_date", "error"), (8, "order_no", "error"), (9, "", "warning"),
    }
    assert not result.ok
    assert str(result.errors[0]) == "inbox/result.csv:3: error: order_no: is empty; the CS-Cart order number is " \
                                    "required"
    assert [s.shipment.order_id for s in result.shipments] == [1001, 1004, 1005]


def test_several_parcels_and_partial_shipments() -> None:
    data = (b"order_no,delivery_no,delivery_date,item_id,quantity\r\n"
            b"1001,389711074012,,111,2\r\n"
            b"1001,389711074012,,222,1\r\n"
            b"1001,512547514334,,111,3\r\n"
            b"1002,405548424886,,,\r\n")
    result = parse_result(data, "r.csv", NOW)
    assert result.ok
    parcels = {s.row_key: s.shipment.items for s in result.shipments}
    assert parcels == {
        "1001:389711074012": (("111", Decimal(2)), ("222", Decimal(1))),
        "1001:512547514334": (("111", Decimal(3)),),
        "1002:405548424886": (),
    }


def test_bad_item_columns() -> None:
    data = (b"order_no,delivery_no,item_id,quantity\r\n1001,389711074012,,2\r\n1001,389711074012,9,x\r\n"
            b"1001,389711074012,9,0\r\n")
    problems = [(p.line, p.field) for p in parse_result(data, "r.csv", NOW).errors]
    assert problems == [(2, "item_id"), (3, "quantity"), (4, "quantity")]


def test_reimporting_the_same_file_gives_the_same_keys(tmp_path: Path) -> None:
    path = tmp_path / "result.csv"
    path.write_bytes(_generic("1001,389711074012,2026-11-24 10:00:00,,,,\r\n1002,512547514334,,,,,\r\n"))
    first = parse_result_file(path, NOW)
    again = parse_result_file(path, NOW)
    assert [s.row_key for s in first.shipments] == [s.row_key for s in again.shipments]
    assert first.shipments[0] == again.shipments[0]


@pytest.mark.parametrize(("data", "words"), [
    (b"", "the file is empty"),
    (b"foo,bar\r\n1,2\r\n", "cannot tell the file type"),
    (b"order_no\x81\x7f", "neither UTF-8 nor Shift_JIS"),
])
def test_unreadable_files(data: bytes, words: str) -> None:
    result = parse_result(data, "x.csv", NOW)
    assert not result.ok and words in str(result.errors[0])


def test_unquoted_comma_is_an_error() -> None:
    result = parse_result(_generic("1001,389711074012,,,東京,支店,03-1,メモ\r\n"), "r.csv", NOW)
    assert "has 8 values, the header has 7" in str(result.errors[0])


def test_carrier_column_lets_other_carriers_through() -> None:
    data = b"order_no,delivery_no,carrier\r\n1001,1234-5678-90,fukuyama\r\n1002,389711074012,yamato\r\n"
    result = parse_result(data, "r.csv", NOW)
    assert result.ok and [s.shipment.carrier for s in result.shipments] == ["fukuyama", "yamato"]


def _issued(carrier: str, tracking: dict[int, str], shipping_id: int) -> bytes:
    """The bridge's own label file as the carrier gives it back: tracking numbers filled in."""
    orders = [order(oid, shipping_id) for oid in tracking]
    content = build_label_files(orders, shipped_rules(), NOW).files[0].content.decode("cp932")
    rows = list(csv.reader(io.StringIO(content, newline="")))
    module = {"yamato": yamato, "sagawa": sagawa}[carrier]
    for row in rows[1:]:
        row[module.TRACKING - 1] = tracking[int(row[module.ORDER_NO - 1])]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("cp932")


@pytest.mark.parametrize(("carrier", "shipping_id"), [("yamato", 1), ("sagawa", 4)])
def test_carrier_issued_data_round_trip(carrier: str, shipping_id: int) -> None:
    data = _issued(carrier, {1001: "389711074012", 1002: "", 1003: "512547514335"}, shipping_id)
    result = parse_result(data, f"{carrier}.csv", NOW)
    assert result.kind == carrier and result.ok
    assert [(s.shipment.order_id, s.shipment.carrier, s.line) for s in result.shipments] == [
        (1001, carrier, 2), (1003, carrier, 4)]
    assert result.shipments[0].shipment.shipped_at.astimezone(JST).date() == NOW.date()
    assert {(p.line, p.severity) for p in result.problems} == {(3, "warning"), (4, "warning")}  # unprinted; 7DR


def test_carrier_file_with_a_bad_number_is_refused() -> None:
    data = _issued("yamato", {1001: "38971107401"}, 1)
    result = parse_result(data, "b2.csv", NOW)
    assert [(p.line, p.field) for p in result.errors] == [(2, "伝票番号")]


def test_japanpost_result_filter_output() -> None:
    header = ",".join(japanpost.RESULT_HEADER)
    data = f"{header}\r\n1001,4055-4842-4886,2026/11/24\r\n1002,405548424886,20261124\r\n".encode("cp932")
    result = parse_result(data, "yupri.csv", NOW)
    assert result.kind == "japanpost" and result.ok
    assert [s.shipment.tracking_number for s in result.shipments] == ["405548424886", "405548424886"]


def test_a_number_of_no_known_shape_is_kept_with_a_warning_when_the_row_names_its_carrier() -> None:
    data = b"order_no,delivery_no,delivery_date,carrier\r\n1001,1001,,yamato\r\n1002,,,yamato\r\n"
    result = parse_result(data, "r.csv", NOW)
    assert [(p.line, p.field, p.severity) for p in result.problems] == [(2, "delivery_no", "warning"),
                                                                         (3, "delivery_no", "error")]
    assert "accepted as written because the row names the carrier (yamato)" in result.problems[0].message
    assert [(s.shipment.order_id, s.shipment.tracking_number) for s in result.shipments] == [(1001, "1001")]
