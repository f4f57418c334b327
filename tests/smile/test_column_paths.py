"""The reader's whole-column fast paths give exactly what the per-cell (and csv module) paths give."""

from __future__ import annotations

import io
import itertools
from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.domain.time import JST
from bridge.smile.layout import FileLayout
from bridge.smile.reader import _RowSource
from bridge.smile.schema import PRODUCTS, STOCK, schema_for
from bridge.smile.settings import SmileSettings
from bridge.smile.text import fold_code, fold_codes, fold_kana, fold_kanas, fold_name, fold_names
from bridge.smile.values import column_parser_for, parser_for
from tests.smile.reference import assert_rows_as_csv_module, per_cell

# Characters that matter to the folds and the splitter: ASCII, spaces, separators, controls, full-width and
# half-width forms, hiragana, katakana (with voiced marks), kanji, quotes and line breaks.
_ALPHABET = st.sampled_from(list("aZ09 -.,\t\"\r\n\x00\x1e\x1f\u3000ＡＢ１２ｶﾞｷﾞﾊﾟｰあがぱアガ商品▲") + ["ｶ", "ﾞ", "ﾟ"])
_CELL = st.text(alphabet=_ALPHABET, max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELL, max_size=12))
def test_fold_columns_equal_the_cell_folds(cells: list[str]) -> None:
    assert fold_names(cells) == [fold_name(cell) for cell in cells]
    assert fold_kanas(cells) == [fold_kana(cell) for cell in cells]
    folded = fold_codes(cells)
    if folded is not None:
        assert folded == [fold_code(cell) for cell in cells]
    elif all(cell.isascii() for cell in cells):  # None only when a cell needs the per-cell path
        assert any(not cell.strip().isprintable() for cell in cells)


_NUMBERISH = st.text(alphabet=st.sampled_from(list("0123456789-.+e ,１▲")), max_size=7)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_NUMBERISH, st.sampled_from(["", "0", "12", "12.50", "-3", "8388608", "1.5"])),
                max_size=12), st.sampled_from(["standard_price", "on_hand", "available"]))
def test_decimal_column_parser_equals_the_cell_parser(cells: list[str], name: str) -> None:
    file_type = "products" if name == "standard_price" else "stock"
    spec = schema_for(file_type).spec(name)
    layout = SmileSettings().layout(file_type)
    column = column_parser_for(spec, layout)
    assert column is not None
    parse = parser_for(spec, layout)
    expected = per_cell(parse, cells)
    got = column(cells)
    if got is not None:  # the fast path answers only when every cell is a plain number in range
        assert expected is not None
        assert got == expected
        assert [str(value) for value in got] == [str(value) for value in expected]
    # and a second call (every text now known) answers the same
    assert column(cells) == got


def _outcome(parse: object, text: str) -> object:
    try:
        value = parse(text)  # type: ignore[operator]
    except ValueError as exc:
        return type(exc), str(exc)
    return value, str(value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789")), min_size=1, max_size=9),
       st.sampled_from([("stock", "on_hand"), ("stock", "allocated"), ("stock", "available"),
                        ("products", "standard_price"), ("quantity_prices", "min_quantity")]))
def test_a_plain_whole_number_parses_as_the_general_path_parses_it(digits: str, field: tuple[str, str]) -> None:
    # Digits alone take a shortcut; with spaces around them the same text takes the general path (strip, pattern,
    # limits): the value, its exponent and any refusal (over 8,388,607 pieces, a min_quantity of 0) must agree.
    file_type, name = field
    parse = parser_for(schema_for(file_type).spec(name), SmileSettings().layout(file_type))
    assert _outcome(parse, digits) == _outcome(parse, f" {digits} ")


_CSV_ALPHABET = st.sampled_from(list('ab1,;"\r\n\t ') + ["\x00", "商"])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_CSV_ALPHABET, max_size=60), st.sampled_from(["minimal", "none"]),
       st.sampled_from([",", "\t"]), st.integers(min_value=1, max_value=4))
def test_row_source_gives_the_csv_modules_rows(text: str, quoting: str, delimiter: str, chunk: int) -> None:
    layout = SmileSettings().layout("stock").changed(quoting=quoting, delimiter=delimiter)
    def rows_and_line() -> tuple[list[list[str]], int]:
        source = _RowSource(io.StringIO(text, newline=""), layout)
        got: list[list[str]] = []
        while rows := source.take(chunk):
            got.extend(rows)
        return got, source.line_num

    assert_rows_as_csv_module(text, layout, rows_and_line)


_OPTIONAL_DEC = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False))
_DAY = st.one_of(st.none(), st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)))
_TEXT = st.one_of(st.none(), st.sampled_from(["", "x", "ケース"]))


def _product_row() -> st.SearchStrategy[dict[str, object]]:
    kinds = {"code": st.sampled_from(["A1", "10000001"]), "text": _TEXT, "plain": _TEXT, "kana": _TEXT,
             "decimal": _OPTIONAL_DEC, "flag": st.one_of(st.none(), st.booleans()), "date": _DAY, "jan": _TEXT}
    return st.fixed_dictionaries({spec.name: kinds[spec.kind] for spec in PRODUCTS.fields})


def _stock_row() -> st.SearchStrategy[dict[str, object]]:
    moment = st.one_of(st.none(), st.just(datetime(2026, 11, 24, 6, 0, tzinfo=JST)))
    kinds = {"code": st.sampled_from(["000001", "10000001"]), "text": _TEXT, "decimal": _OPTIONAL_DEC,
             "date": _DAY, "datetime": moment}
    return st.fixed_dictionaries({spec.name: kinds[spec.kind] for spec in STOCK.fields})


@settings(max_examples=100, deadline=None)
@given(st.lists(_product_row(), max_size=6), st.lists(_stock_row(), max_size=6),
       st.sets(st.sampled_from([spec.name for spec in PRODUCTS.fields if not spec.required])))
def test_records_built_by_column_equal_those_built_by_row(products: list[dict[str, object]],
                                                         stock: list[dict[str, object]], absent: set[str]) -> None:
    for schema, rows, missing in ((PRODUCTS, products, absent), (STOCK, stock, set())):
        assert schema.make_columns is not None
        names = [name for name in schema.names if name not in missing]
        columns = {name: [row[name] for row in rows] for name in names}
        by_column = schema.make_columns(columns, len(rows))
        by_row = list(itertools.starmap(schema.make, ([row[n] if n not in missing else None for n in schema.names]
                                                      for row in rows)))
        assert by_column == by_row
        assert [repr(record) for record in by_column] == [repr(record) for record in by_row]


def test_layout_with_quoting_none_is_still_valid() -> None:
    assert isinstance(SmileSettings().layout("stock").changed(quoting="none"), FileLayout)


def _gs1(body: str) -> str:
    from bridge.smile.text import jan_check_digit

    return body + jan_check_digit(body)


_JAN_CELL = st.one_of(
    st.from_regex(r"[0-9]{12}", fullmatch=True).map(_gs1),  # valid JAN-13
    st.from_regex(r"[0-9]{7}", fullmatch=True).map(_gs1),  # valid JAN-8
    st.from_regex(r"[0-9]{13}|[0-9]{8}|[0-9]{1,14}", fullmatch=True),  # mostly a wrong check digit or length
    st.sampled_from(["", " ", "４９０１２３４５６７８９４", "49012345678a4"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_JAN_CELL, max_size=40))
def test_jan_column_equals_the_cell_parser(cells: list[str]) -> None:
    from bridge.smile.values import _jan, jan_column

    got = jan_column(cells)
    expected = per_cell(_jan, cells)
    if got is not None:  # the column path answers only when every cell is empty or a valid JAN
        assert got == expected
    elif all(cell.isascii() for cell in cells):
        assert expected is None  # some cell is not a valid JAN: the cell parser names it
