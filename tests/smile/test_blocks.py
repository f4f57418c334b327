"""The reader's block path (whole blocks of plain lines split at once, columns sliced) reads exactly what the row
path and the csv module read: the same rows, records, problems, skipped rows and notes, whatever the block size."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.smile import reader
from bridge.smile.reader import PlainBlock, ReadResult, _RowSource, read_file
from bridge.smile.settings import SmileSettings
from bridge.smile.text import jan_check_digit
from bridge.smile.values import _jan, jan_column
from tests.smile.reference import assert_rows_as_csv_module, per_cell

STOCK_HEADER = "倉庫コード,倉庫名,商品コード,商品名,現在庫数量,引当数量,発注残数量,入荷予定日,有効在庫数量,操作日付"
ROW = "{w},本社倉庫,{code},紙コップ 小,{qty},20,0,,100,20261124"

_CSV_ALPHABET = st.sampled_from(list('ab1,;"\r\n\t ') + ["\x00", "商"])


def _rows_by_blocks(text: str, layout: object, block_chars: int) -> tuple[list[list[str]], int]:
    source = _RowSource(io.StringIO(text, newline=""), layout, block_chars=block_chars)  # type: ignore[arg-type]
    delimiter = layout.delimiter  # type: ignore[attr-defined]
    got: list[list[str]] = []
    while True:
        plain, rows = source.take_block()
        if plain is not None:
            got.extend(line.split(delimiter) for line in plain.lines())
        elif rows:
            got.extend(rows)
        else:
            return got, source.line_num


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_CSV_ALPHABET, max_size=12), max_size=12), st.sampled_from(["minimal", "none"]),
       st.sampled_from([",", "\t"]), st.integers(min_value=1, max_value=40))
def test_blocks_give_the_csv_modules_rows(lines: list[str], quoting: str, delimiter: str, block: int) -> None:
    text = "\n".join(lines)
    layout = SmileSettings().layout("stock").changed(quoting=quoting, delimiter=delimiter)
    assert_rows_as_csv_module(text, layout, lambda: _rows_by_blocks(text, layout, block))


@st.composite
def _lines_of_widths(draw: st.DrawFn) -> tuple[list[list[str]], int]:
    width = draw(st.integers(min_value=1, max_value=6))
    count = draw(st.integers(min_value=1, max_value=12))
    widths = [width] * count
    change = draw(st.sampled_from(["none", "one", "compensating", "any"]))
    if change == "one":
        widths[draw(st.integers(0, count - 1))] = draw(st.integers(1, 8))
    elif change == "compensating" and count >= 2:  # one line a cell short, a later one a cell over: same total
        first = draw(st.integers(0, count - 2))
        shift = draw(st.integers(1, max(1, width - 1)))
        widths[first] = max(1, width - shift)
        widths[draw(st.integers(first + 1, count - 1))] = width + (width - widths[first])
    elif change == "any":
        widths = draw(st.lists(st.integers(1, 8), min_size=count, max_size=count))
    cell = st.text(alphabet=st.sampled_from(list("ab1 商")), max_size=3)
    return [draw(st.lists(cell, min_size=w, max_size=w)) for w in widths], width


@settings(max_examples=400, deadline=None)
@given(_lines_of_widths(), st.sampled_from(["\n", "\r\n"]), st.sampled_from([",", "\t"]))
def test_a_block_gives_columns_only_when_every_line_has_the_width(lines_width: tuple[list[list[str]], int],
                                                                  newline: str, delimiter: str) -> None:
    rows, width = lines_width
    text = "".join(delimiter.join(row) + newline for row in rows)
    got = PlainBlock(text, newline, len(rows)).columns(width, delimiter, range(width))
    if all(len(row) == width for row in rows):
        assert got is not None
        assert {index: list(cells) for index, cells in got.items()} == {
            index: [row[index] for row in rows] for index in range(width)}
    else:
        assert got is None


def _row_path_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_RowSource, "take_block", lambda self: (None, self.take(reader._CHUNK)))


def _summary(result: ReadResult) -> tuple[object, ...]:
    return (result.ok, result.rows, [str(p) for p in result.problems], result.problem_count, result.skipped,
            result.notes, [repr(r) for r in result.records])


_CELL_DAMAGE = st.sampled_from(["", "x", "-1", "1.5", "１２", '"7"', " 3 ", "8388608"])


@st.composite
def _stock_files(draw: st.DrawFn, extra: int = 0) -> str:
    """A 在庫 file with damage drawn line by line; ``extra`` unmapped columns after the ten (a wide file, whose
    lines are split only as far as the mapped columns go)."""
    count = draw(st.integers(min_value=1, max_value=60))
    warehouses = draw(st.sampled_from([["000001"], ["000001", "000002"], [f"{n:06d}" for n in range(20)]]))
    lines = []
    for number in range(count):
        warehouse = warehouses[number % len(warehouses)] if draw(st.booleans()) else warehouses[0]
        code = draw(st.sampled_from([f"1{number:07d}", f"1{number:07d}", "10000001", "99999999"]))
        line = ROW.format(w=warehouse, code=code, qty=number) + ",x" * extra
        change = draw(st.sampled_from(["none", "none", "none", "cell", "width", "short", "blank", "cr"]))
        if change == "cell":
            cells = line.split(",")
            cells[draw(st.sampled_from([4, 5, 7, 9]))] = draw(_CELL_DAMAGE)
            line = ",".join(cells)
        elif change == "width":
            line = line + ",extra" if draw(st.booleans()) else line.rsplit(",", 2)[0]
        elif change == "short":  # cut within the mapped columns: a wide file's line splits into fewer pieces
            line = ",".join(line.split(",")[:draw(st.integers(1, 9))])
        elif change == "blank":
            lines.append("")
        elif change == "cr":
            line += "\r"
        lines.append(line)
    header = STOCK_HEADER + "".join(f",予備{n}" for n in range(extra))
    return header + "\r\n" + "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(_stock_files(), _stock_files(extra=12)), block_chars=st.sampled_from([1, 64, 200, 1 << 16]),
       rows=st.integers(min_value=1, max_value=8))
def test_the_block_path_reads_what_the_row_path_reads(text: str, block_chars: int, rows: int, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "stock.csv"
    path.write_bytes(text.encode("cp932"))
    smile = SmileSettings()
    with monkeypatch.context() as patch:
        patch.setattr(reader, "_BLOCK_CHARS", block_chars)
        patch.setattr(reader, "_BLOCK_ROWS", rows)
        patch.setattr(reader, "_BLOCK_MIN", 1)
        blocks = _summary(read_file(path, "stock", smile))
    with monkeypatch.context() as patch:
        _row_path_only(patch)
        by_rows = _summary(read_file(path, "stock", smile))
    assert blocks == by_rows


def _stock(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "stock.csv"
    path.write_bytes((STOCK_HEADER + "\r\n" + "".join(row + "\r\n" for row in rows)).encode("cp932"))
    return path


def _duplicates(result: ReadResult) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in result.problems]


@pytest.mark.parametrize("block_chars", [100, 1 << 16])
def test_duplicates_across_blocks_with_warehouses_mixed(tmp_path: Path, block_chars: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "_BLOCK_CHARS", block_chars)
    monkeypatch.setattr(reader, "_BLOCK_ROWS", 3)
    monkeypatch.setattr(reader, "_BLOCK_MIN", 1)
    rows = [ROW.format(w=f"{n % 3:06d}", code=f"1{n // 3:07d}", qty=n) for n in range(60)]
    rows.append(ROW.format(w="000002", code="10000004", qty=1))  # the same as row 15 (line 16): 000002, 10000004
    rows.append(ROW.format(w="000007", code="10000004", qty=1))  # another warehouse: no duplicate
    result = read_file(_stock(tmp_path, rows), "stock", SmileSettings())
    assert _duplicates(result) == [(62, "duplicate key 倉庫コード 000002, 商品コード 10000004 (first on line 16)")]


def test_many_warehouses_in_one_block_and_a_duplicate_after_a_rejected_row(tmp_path: Path) -> None:
    rows = [ROW.format(w=f"{n:06d}", code="10000001", qty=n) for n in range(40)]
    rows.append(ROW.format(w="000003", code="10000001", qty="x"))  # rejected: not a duplicate
    rows.append(ROW.format(w="000003", code="10000001", qty=1))  # a duplicate of line 5
    result = read_file(_stock(tmp_path, rows), "stock", SmileSettings())
    assert [(p.line, p.value) for p in result.problems] == [(42, "x"), (43, None)]
    assert result.problems[1].message == "duplicate key 倉庫コード 000003, 商品コード 10000001 (first on line 5)"


def test_a_repeated_code_column_shares_one_string(tmp_path: Path) -> None:
    rows = [ROW.format(w=" 000001" if n == 3 else "000001", code=f"1{n:07d}", qty=n) for n in range(3000)]
    result = read_file(_stock(tmp_path, rows), "stock", SmileSettings())
    assert result.ok and {level.warehouse_code for level in result.records} == {"000001"}
    assert len({id(level.warehouse_code) for level in result.records}) < 10


def _jans(draw: st.DrawFn) -> str:
    body = draw(st.text(alphabet="0123456789", min_size=7, max_size=12).filter(lambda b: len(b) in (7, 12)))
    return body + jan_check_digit(body)


_JAN_CELL = st.one_of(st.composite(_jans)(), st.sampled_from(["", " ", "4901234567894", "49012345", "490123456789",
                                                              "4901234567890", "４９０１２３４５６７８９４", "12345670",
                                                              " 12345670", "1234567a"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_JAN_CELL, max_size=12))
def test_jan_column_equals_the_cell_parser(cells: list[str]) -> None:
    expected = per_cell(_jan, cells)
    got = jan_column(cells)
    if got is not None:
        assert got == expected
    elif expected is not None:  # the column path may decline (non-ASCII to fold): never wrongly
        assert not "".join(cells).isascii()


def test_a_plain_file_is_read_by_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated files (unquoted, CRLF) take the block path: no row is split on its own."""
    rows = [ROW.format(w="000001", code=f"1{n:07d}", qty=n) for n in range(5000)]
    path = _stock(tmp_path, rows)
    taken: list[int] = []
    take = _RowSource.take
    monkeypatch.setattr(_RowSource, "take", lambda self, count: taken.append(count) or take(self, count))
    result = read_file(path, "stock", SmileSettings())
    assert result.ok and len(result.records) == 5000
    assert taken == [1]  # the header only


@pytest.mark.parametrize(("column", "text"), [
    (0, "000001"), (0, " 000001"), (0, "０００００１"), (0, ""), (2, "10000001"), (4, "7"), (4, "x"), (4, "１２"), (4, ""),
    (5, "-1"), (5, "1.5"), (6, "8388608"), (7, "20261301"), (7, ""), (8, "3"), (9, "20261124060000"), (9, "nope"),
])
def test_a_column_with_one_text_reads_as_the_per_text_paths_read_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    column: int, text: str) -> None:
    rows = []
    for n in range(1500):  # more than a chunk's _UNIQUE_AFTER: the whole-column look applies
        cells = ROW.format(w="000001", code=f"1{n:07d}", qty=n).split(",")
        cells[column] = text
        rows.append(",".join(cells))
    path = _stock(tmp_path, rows)
    shared = _summary(read_file(path, "stock", SmileSettings()))
    monkeypatch.setattr(reader._ChunkState, "_parse_constant", lambda self, column, cells: None)
    assert shared == _summary(read_file(path, "stock", SmileSettings()))
