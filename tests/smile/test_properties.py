"""Property tests: valid records survive a write and a read; corrupted files never crash the reader."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.domain.catalog import CustomerPrice, Product, StockLevel
from bridge.domain.customers import Address, Customer
from bridge.domain.money import Rounding
from bridge.domain.time import JST
from bridge.smile.generator import GeneratedSet
from bridge.smile.layout import FileLayout
from bridge.smile.reader import read_file
from bridge.smile.records import QuantityPrice, SalesSlipLine
from bridge.smile.schema import PREFECTURES
from bridge.smile.settings import SmileSettings
from bridge.smile.text import jan_check_digit
from bridge.smile.writer import write_records

SETTINGS = SmileSettings()
PROFILE = settings(max_examples=40, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Characters every encoding under test holds and that survive the reader's folding unchanged (no half-width kana,
# no edge whitespace): kanji, kana, full-width and ASCII, plus the delimiters and quotes the writer must escape.
TEXT_ALPHABET = "商品名株式会社東京山田あいうえおアイウエオガパー・ＡＢＣ１２３abcXYZ019 -/()&,\"\t\n"
codes = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20).filter(
    lambda c: c not in ("99999999", "999999"))
names = st.text(TEXT_ALPHABET, min_size=1, max_size=40).map(str.strip).filter(bool)
optional_text = st.one_of(st.just(""), names)
kana = st.text("アイウエオカキクケコガギパピーヴ", max_size=20)
prices = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
quantities = st.decimals(min_value=-10**7, max_value=10**7, places=3, allow_nan=False, allow_infinity=False)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))
optional_prices = st.one_of(st.none(), prices)
optional_days = st.one_of(st.none(), days)


@st.composite
def jans(draw: st.DrawFn) -> str:
    body = draw(st.text("0123456789", min_size=12, max_size=12))
    return draw(st.sampled_from(["", body + jan_check_digit(body)]))


@st.composite
def products(draw: st.DrawFn) -> Product:
    start, end = sorted(draw(st.lists(days, min_size=2, max_size=2)))
    return Product(
        code=draw(codes), name=draw(names), name_kana=draw(kana), unit=draw(optional_text),
        case_quantity=draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=1000, places=0))),
        stock_managed=draw(st.booleans()), standard_price=draw(optional_prices),
        rank_prices=tuple(draw(st.lists(optional_prices, min_size=5, max_size=5))),
        list_price=draw(optional_prices), new_price_date=draw(optional_days),
        new_standard_price=draw(optional_prices),
        new_rank_prices=tuple(draw(st.lists(optional_prices, min_size=5, max_size=5))),
        new_list_price=draw(optional_prices), jan=draw(jans()), tax_class=draw(st.sampled_from(["", "1", "2"])),
        displayed=draw(st.booleans()), valid_from=draw(st.sampled_from([None, start])),
        valid_to=draw(st.sampled_from([None, end])), category_code=draw(st.one_of(st.just(""), codes)),
        maker_name=draw(optional_text), modified_on=draw(optional_days),
    )


@st.composite
def stock_levels(draw: st.DrawFn) -> StockLevel:
    as_of = draw(st.one_of(st.none(), st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1))))
    return StockLevel(
        product_code=draw(codes), warehouse_code=draw(st.sampled_from(["000001", "000002", "W3"])),
        # whole pieces CS-Cart can hold (issue 13: a fraction or more than 8,388,607 refuses the file)
        on_hand=draw(st.decimals(min_value=-10**6, max_value=8_388_607, places=0)),
        allocated=draw(st.decimals(min_value=0, max_value=10**6, places=0)),
        on_order=draw(st.decimals(min_value=0, max_value=10**6, places=0)), expected_on=draw(optional_days),
        available=draw(st.one_of(st.none(), quantities)),
        as_of=as_of.replace(microsecond=0, tzinfo=JST) if as_of else None,
    )


@st.composite
def customer_prices(draw: st.DrawFn) -> CustomerPrice:
    start = draw(optional_days)
    return CustomerPrice(
        customer_code=draw(codes), product_code=draw(codes), price=draw(prices),
        min_quantity=draw(st.decimals(min_value=1, max_value=1000, places=0)), valid_from=start,
        valid_to=start + timedelta(days=draw(st.integers(0, 400))) if start else None,
    )


def unique_by(key):  # type: ignore[no-untyped-def]
    return lambda records: list({key(r): r for r in records}.values())


def assert_round_trip(path: Path, file_type: str, records: list[Any], layout: FileLayout) -> None:
    """Records written in ``layout`` read back equal, without a problem."""
    result = read_file(write_records(path, file_type, records, layout=layout), file_type, SETTINGS, layout=layout)
    assert result.problems == []
    assert result.records == records


@pytest.mark.parametrize("encoding", ["cp932", "utf-16"])
@PROFILE
@given(records=st.lists(products(), min_size=1, max_size=15).map(unique_by(lambda p: p.code)))
def test_valid_products_round_trip(encoding: str, records: list[Product], tmp_path: Path) -> None:
    layout = SETTINGS.layout("products").changed(encoding=encoding)
    assert_round_trip(tmp_path / f"products-{encoding}.csv", "products", records, layout)


@PROFILE
@given(records=st.lists(stock_levels(), min_size=1, max_size=20).map(
    unique_by(lambda s: (s.warehouse_code, s.product_code))), delimiter=st.sampled_from(["comma", "tab"]))
def test_valid_stock_round_trips(records: list[StockLevel], delimiter: str, tmp_path: Path) -> None:
    layout = SETTINGS.layout("stock").changed(delimiter=delimiter, quoting="all")
    assert_round_trip(tmp_path / "stock.csv", "stock", records, layout)


@PROFILE
@given(records=st.lists(customer_prices(), min_size=1, max_size=20).map(
    unique_by(lambda p: (p.customer_code, p.product_code, p.min_quantity, p.valid_from))))
def test_valid_customer_prices_round_trip(records: list[CustomerPrice], tmp_path: Path) -> None:
    layout = SETTINGS.layout("customer_prices").changed(encoding="utf-8-sig", date_format="YYYY/MM/DD")
    assert_round_trip(tmp_path / "customer_prices.csv", "customer_prices", records, layout)


# No character that starts a prefecture name, so an address without a prefecture never reads as having one.
PLACE_ALPHABET = "中央区市町村丁目番地西北南ビルハイツ0123456789-"
places = st.text(PLACE_ALPHABET, max_size=16)
phones = st.one_of(st.just(""), st.from_regex(r"0[1-9]-[0-9]{4}-[0-9]{4}", fullmatch=True),
                   st.from_regex(r"0[5-9]0-[0-9]{4}-[0-9]{4}", fullmatch=True))


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    start, end = sorted(draw(st.lists(days, min_size=2, max_size=2)))
    name = draw(names)
    return Customer(
        code=draw(codes.filter(lambda c: c not in SETTINGS.misc_customer_codes)), name=name, name_kana=draw(kana),
        email=draw(st.one_of(st.just(""), st.from_regex(r"[a-z0-9.]{1,12}@example\.jp", fullmatch=True))),
        address=Address(
            company=name, postcode=draw(st.one_of(st.just(""), st.from_regex(r"[0-9]{7}", fullmatch=True))),
            prefecture=draw(st.sampled_from(("", *PREFECTURES))), city=draw(places), street=draw(places),
            building=draw(places), phone=draw(phones),
        ),
        price_rank=draw(st.sampled_from([None, 1, 2, 3, 4, 5])),
        rate_percent=draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=999, places=1))),
        price_rounding=draw(st.sampled_from(list(Rounding))),
        price_rounding_unit=draw(st.sampled_from([Decimal(1), Decimal(10), Decimal("0.01")])),
        credit_limit=draw(optional_prices), suspended=draw(st.booleans()),
        valid_from=draw(st.sampled_from([None, start])), valid_to=draw(st.sampled_from([None, end])),
        modified_on=draw(optional_days),
    )


@PROFILE
@given(records=st.lists(customers(), min_size=1, max_size=15).map(unique_by(lambda c: c.code)),
       encoding=st.sampled_from(["utf-16", "cp932", "utf-8-sig"]))
def test_valid_customers_round_trip(records: list[Customer], encoding: str, tmp_path: Path) -> None:
    layout = SETTINGS.layout("customers").changed(encoding=encoding)
    assert_round_trip(tmp_path / "customers.txt", "customers", records, layout)


@st.composite
def quantity_prices(draw: st.DrawFn) -> QuantityPrice:
    start = draw(optional_days)
    return QuantityPrice(
        product_code=draw(codes), price=draw(prices),
        min_quantity=draw(st.decimals(min_value=1, max_value=10**5, places=0)), valid_from=start,
        valid_to=start + timedelta(days=draw(st.integers(0, 400))) if start else None,
    )


@PROFILE
@given(records=st.lists(quantity_prices(), min_size=1, max_size=20).map(
    unique_by(lambda p: (p.product_code, p.min_quantity, p.valid_from))))
def test_valid_quantity_prices_round_trip(records: list[QuantityPrice], tmp_path: Path) -> None:
    layout = SETTINGS.layout("quantity_prices").changed(delimiter="tab", header_rows=2)
    assert_round_trip(tmp_path / "quantity_prices.csv", "quantity_prices", records, layout)


@st.composite
def slip_lines(draw: st.DrawFn) -> SalesSlipLine:
    amounts = st.one_of(st.none(), quantities)
    return SalesSlipLine(
        slip_date=draw(days), slip_no=draw(codes), serial=draw(codes), line_no=draw(st.integers(0, 999)),
        customer_code=draw(codes), product_code=draw(st.one_of(st.just(""), codes)),
        product_name=draw(optional_text), line_type=draw(st.sampled_from(["0", "1"])), quantity=draw(amounts),
        unit_price=draw(amounts), amount=draw(amounts), remarks=draw(optional_text),
        order_no=draw(st.one_of(st.just(""), codes)), order_line=draw(st.one_of(st.none(), st.integers(0, 999))),
        order_ref=draw(st.one_of(st.just(""), codes)), modified_on=draw(optional_days),
    )


@PROFILE
@given(records=st.lists(slip_lines(), min_size=1, max_size=20).map(
    unique_by(lambda line: (line.serial, line.line_no, line.line_type))))
def test_valid_sales_lines_round_trip_by_position(records: list[SalesSlipLine], tmp_path: Path) -> None:
    layout = SETTINGS.layout("sales_lines")
    assert_round_trip(tmp_path / "sales_lines.csv", "sales_lines", records, layout)


# ---- corruption --------------------------------------------------------------------------------------------


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    kinds = st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate_line", "swap_lines"])
    return draw(st.lists(st.tuples(kinds, st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4))


def mutate(data: bytes, steps: list[tuple[str, int, int]]) -> bytes:
    for kind, where, byte in steps:
        if not data:
            break
        at = where % len(data)
        if kind == "flip":
            data = data[:at] + bytes([byte]) + data[at + 1:]
        elif kind == "delete":
            data = data[:at] + data[at + 1 + byte % 8:]
        elif kind == "insert":
            data = data[:at] + bytes([byte]) * (1 + byte % 3) + data[at:]
        elif kind == "truncate":
            data = data[:at]
        else:
            newline = "\r\n".encode("utf-16-le") if data.startswith(b"\xff\xfe") else b"\r\n"
            lines = data.split(newline)
            if len(lines) < 3:
                continue
            first = 1 + where % (len(lines) - 2)
            other = 1 + byte % (len(lines) - 2)
            if kind == "duplicate_line":
                lines.insert(other, lines[first])
            else:
                lines[first], lines[other] = lines[other], lines[first]
            data = newline.join(lines)
    return data


@pytest.fixture(scope="module")
def exports(generated: GeneratedSet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every readable type as a file: the generated set plus a headerless 売上明細 export."""
    lines = [
        SalesSlipLine(slip_date=date(2026, 11, 24), slip_no=f"{10_000 + n // 3:08d}", serial=str(7000 + n // 3),
                      line_no=n % 3 + 1, customer_code="100001", product_code=f"{10_000_000 + n}",
                      product_name="紙コップ 小", quantity=Decimal(n + 1), unit_price=Decimal(120),
                      amount=Decimal(120 * (n + 1)), order_ref=f"CS{1000 + n // 3}")
        for n in range(30)
    ]
    sales = write_records(tmp_path_factory.mktemp("exports") / "sales_lines.csv", "sales_lines", lines,
                          layout=SETTINGS.layout("sales_lines"))
    return {**generated.paths, "sales_lines": sales}


@pytest.mark.parametrize("file_type", ["stock", "products", "customers", "customer_prices", "quantity_prices",
                                       "sales_lines"])
@PROFILE
@given(steps=mutations())
def test_corruption_never_crashes_and_never_yields_half_a_file(file_type: str, steps: list[tuple[str, int, int]],
                                                               exports: dict[str, Path], tmp_path: Path) -> None:
    source = exports[file_type]
    path = tmp_path / source.name
    path.write_bytes(mutate(source.read_bytes(), steps))
    result = read_file(path, file_type, SETTINGS)  # must not raise, whatever the bytes
    if not result.ok:
        assert result.records == []
        for problem in result.problems:
            assert problem.file == source.name and problem.message and problem.fix
            assert problem.line is None or problem.line >= 1
        assert "nothing from this file was applied" in result.report()


@PROFILE
@given(line=st.integers(2, 150), damage=st.sampled_from(["text", "drop_delimiter", "negative", "empty_key"]),
       seed=st.integers(0, 10**6))
def test_a_damaged_row_is_rejected_at_its_line(line: int, damage: str, seed: int, generated: GeneratedSet,
                                               tmp_path: Path) -> None:
    lines = generated.paths["stock"].read_bytes().decode("cp932").split("\r\n")
    line = min(line, len(lines) - 1)
    cells = lines[line - 1].split(",")
    rng = random.Random(seed)
    if damage == "text":
        cells[rng.choice([4, 5, 6, 8])] = rng.choice(["x", "1-2", "--", "十"])
    elif damage == "drop_delimiter":
        at = rng.randrange(len(cells) - 1)
        cells[at:at + 2] = [cells[at] + cells[at + 1]]
    elif damage == "negative":
        cells[rng.choice([5, 6])] = "-1"
    else:
        cells[rng.choice([0, 2])] = ""
    lines[line - 1] = ",".join(cells)
    path = tmp_path / "stock.csv"
    path.write_bytes("\r\n".join(lines).encode("cp932"))
    result = read_file(path, "stock", SETTINGS)
    assert not result.ok and result.records == []
    assert [p.line for p in result.problems] == [line]
