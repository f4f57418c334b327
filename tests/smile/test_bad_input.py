"""Bad files are refused whole, with every problem located (file, line, column, value) and a fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.smile.generator import GeneratedSet
from bridge.smile.reader import FileProblem, ReadResult, iter_records, read_file
from bridge.smile.settings import SmileSettings

STOCK_HEADER = "倉庫コード,倉庫名,商品コード,商品名,現在庫数量,引当数量,発注残数量,入荷予定日,有効在庫数量,操作日付\r\n"
GOOD_ROW = "000001,本社倉庫,10000001,紙コップ 小,120,20,0,,100,20261124\r\n"

WriteText = Callable[..., Path]
EditCell = Callable[..., tuple[Path, int]]


def stock(write_text: WriteText, *rows: str, header: str = STOCK_HEADER, **kwargs: object) -> Path:
    return write_text("stock.csv", header + "".join(rows), **kwargs)


def read_stock(path: Path, settings: SmileSettings, **changes: object) -> ReadResult:
    layout = settings.layout("stock").changed(**changes) if changes else None
    return read_file(path, "stock", settings, layout=layout)


def only(result: ReadResult) -> FileProblem:
    assert not result.ok and result.records == []
    assert len(result.problems) == 1, result.report()
    return result.problems[0]


def test_a_good_file_reads(write_text: WriteText, smile_settings: SmileSettings) -> None:
    result = read_stock(stock(write_text, GOOD_ROW), smile_settings)
    assert result.ok and len(result.records) == 1 and result.records[0].on_hand == 120


def test_wrong_encoding_names_the_encoding_the_file_is_in(write_text: WriteText,
                                                          smile_settings: SmileSettings) -> None:
    path = stock(write_text, GOOD_ROW, encoding="utf-8")
    result = read_stock(path, smile_settings)
    assert not result.ok and result.records == []
    assert any("utf-8" in p.fix for p in result.problems), result.report()


def test_an_undecodable_byte_is_located_by_line_and_column(write_text: WriteText,
                                                           smile_settings: SmileSettings) -> None:
    path = stock(write_text, GOOD_ROW, GOOD_ROW.replace("10000001", "10000002"))
    data = path.read_bytes().replace("紙コップ 小".encode("cp932"), b"\x82\xff", 1)  # 0x82 then an invalid trail
    path.write_bytes(data)
    problem = only(read_stock(path, smile_settings))
    assert (problem.line, problem.column) == (2, "4")
    assert "not valid cp932" in problem.message


def test_a_last_line_without_a_line_break_is_taken_as_truncated(write_text: WriteText,
                                                                smile_settings: SmileSettings) -> None:
    problem = only(read_stock(stock(write_text, GOOD_ROW, GOOD_ROW.rstrip("\r\n")), smile_settings))
    assert "truncated" in problem.message and "still being written" in problem.message


def test_a_last_line_cut_short_is_refused(write_text: WriteText, smile_settings: SmileSettings) -> None:
    problem = only(read_stock(stock(write_text, GOOD_ROW, "000001,本社倉庫,10000002,紙\r\n"), smile_settings))
    assert problem.line == 3 and "fewer than the 10 expected" in problem.message


def test_a_missing_column_names_it_and_how_to_map_it(write_text: WriteText, smile_settings: SmileSettings) -> None:
    header = STOCK_HEADER.replace("現在庫数量,", "")
    row = GOOD_ROW.replace("120,", "", 1)
    problem = only(read_stock(stock(write_text, row, header=header), smile_settings))
    assert "現在庫数量" in problem.message and "smile.files.stock.columns.on_hand" in problem.fix


def test_an_extra_column_is_located(write_text: WriteText, smile_settings: SmileSettings) -> None:
    problem = only(read_stock(stock(write_text, GOOD_ROW, GOOD_ROW.replace("\r\n", ",余分\r\n")), smile_settings))
    assert (problem.line, problem.column, problem.value) == (3, "11", "余分")
    assert "1 more than the 10 expected" in problem.message


@pytest.mark.parametrize("quantity", ["abc", "12個", "1.2.3", "NaN", "1e3", "--5"])
def test_a_non_numeric_quantity_is_located(quantity: str, write_text: WriteText,
                                           smile_settings: SmileSettings) -> None:
    problem = only(read_stock(stock(write_text, GOOD_ROW.replace(",120,", f",{quantity},")), smile_settings))
    assert (problem.file, problem.line, problem.column, problem.value) == ("stock.csv", 2, "5 (現在庫数量)", quantity)
    assert problem.message == "not a number" and "plain number" in problem.fix


def test_a_negative_price_is_refused(generated: GeneratedSet, smile_settings: SmileSettings, edit_cell: EditCell,
                                     tmp_path: Path) -> None:
    path, column = edit_cell(generated.paths["products"], tmp_path, smile_settings.layout("products"), 6,
                             "標準売上単価", "-100")
    problem = only(read_file(path, "products", smile_settings))
    assert (problem.line, problem.value, problem.message) == (6, "-100", "must not be negative")
    assert problem.column == f"{column} (標準売上単価)"


def test_a_duplicate_key_names_the_first_line(write_text: WriteText, smile_settings: SmileSettings) -> None:
    other = GOOD_ROW.replace("10000001", "10000009")
    problem = only(read_stock(stock(write_text, GOOD_ROW, other, GOOD_ROW), smile_settings))
    assert problem.line == 4 and "first on line 2" in problem.message
    assert "倉庫コード 000001" in problem.message and "商品コード 10000001" in problem.message


def test_duplicates_are_found_across_chunks(write_text: WriteText, smile_settings: SmileSettings) -> None:
    rows = [GOOD_ROW.replace("10000001", f"2{n:07d}") for n in range(5000)]
    rows.append(rows[10])
    problem = only(read_stock(stock(write_text, *rows), smile_settings))
    assert problem.line == 5002 and "first on line 12" in problem.message


def test_an_empty_file_is_refused(write_text: WriteText, smile_settings: SmileSettings) -> None:
    assert "empty" in only(read_stock(write_text("stock.csv", ""), smile_settings)).message


def test_a_file_with_only_its_header_is_refused(write_text: WriteText, smile_settings: SmileSettings) -> None:
    problem = only(read_stock(stock(write_text), smile_settings))
    assert "no data rows" in problem.message
    assert read_stock(stock(write_text), smile_settings, allow_empty=True).ok


@pytest.mark.parametrize(
    ("encoding", "bom", "layout_encoding", "expected"),
    [
        ("utf-16-le", b"", "utf-16", "has no byte order mark"),
        ("utf-16-le", b"\xff\xfe", "cp932", "UTF-16 byte order mark, but the layout says cp932"),
        ("utf-8", b"\xef\xbb\xbf", "cp932", "UTF-8 byte order mark, but the layout says cp932"),
        ("utf-8", b"\xef\xbb\xbf", "utf-16", "has a utf-8-sig byte order mark"),
    ],
)
def test_a_bom_that_contradicts_the_layout_is_refused(encoding: str, bom: bytes, layout_encoding: str,
                                                       expected: str, write_text: WriteText,
                                                       smile_settings: SmileSettings) -> None:
    path = stock(write_text, GOOD_ROW, encoding=encoding, bom=bom)
    problem = only(read_stock(path, smile_settings, encoding=layout_encoding))
    assert expected in problem.message and "smile.files.stock.encoding" in problem.fix


def test_a_utf8_bom_is_accepted_when_the_layout_says_utf8(write_text: WriteText,
                                                          smile_settings: SmileSettings) -> None:
    path = stock(write_text, GOOD_ROW, encoding="utf-8", bom=b"\xef\xbb\xbf")
    assert read_stock(path, smile_settings, encoding="utf-8").ok


def test_half_and_full_width_mixtures_are_folded(write_text: WriteText, smile_settings: SmileSettings) -> None:
    header = "倉庫ｺｰﾄﾞ,倉庫名,商品ｺｰﾄﾞ,商品名,現在庫数量,受注残数量,発注残数量,入荷予定日,有効在庫数,操作日付\r\n"
    row = "０００００２,ﾎﾝｼｬｿｳｺ,ＡＢ－１２３,ｶﾐｺｯﾌﾟ,１，２００,　３,0,２０２６１２０１,▲5,20261124093000\r\n"
    result = read_stock(stock(write_text, row, header=header), smile_settings, thousands_separator=True,
                        quoting="none")
    assert result.ok, result.report()
    level = result.records[0]
    assert (level.warehouse_code, level.product_code) == ("000002", "AB-123")
    assert (str(level.on_hand), str(level.allocated), str(level.available)) == ("1200", "3", "-5")
    assert level.expected_on is not None and level.expected_on.isoformat() == "2026-12-01"
    assert level.as_of is not None and level.as_of.isoformat() == "2026-11-24T09:30:00+09:00"


def test_every_problem_of_a_file_is_reported_at_once(write_text: WriteText, smile_settings: SmileSettings) -> None:
    rows = [
        GOOD_ROW,
        GOOD_ROW.replace("10000001", "10000002").replace(",120,", ",x,"),
        GOOD_ROW.replace("10000001", "10000003").replace(",20261124", ",20261340"),
        GOOD_ROW.replace("10000001", ""),
        GOOD_ROW.replace("10000001", "10000004").replace(",20,", ",-1,"),
    ]
    result = read_stock(stock(write_text, *rows), smile_settings)
    assert [(p.line, p.column) for p in result.problems] == [
        (3, "5 (現在庫数量)"), (4, "10 (操作日付)"), (5, "3 (商品コード)"), (6, "6 (引当数量)"),
    ]
    assert result.records == [] and result.problem_count == 4
    assert "nothing from this file was applied" in result.report()


def test_an_unclosed_quote_is_located(write_text: WriteText, smile_settings: SmileSettings) -> None:
    problem = only(read_stock(stock(write_text, GOOD_ROW, '000001,"本社倉庫,10000002,紙,1,0,0,,1,20261124\r\n'),
                              smile_settings))
    assert problem.line == 3 and "quot" in problem.fix


def test_misc_codes_are_skipped_not_applied(write_text: WriteText, smile_settings: SmileSettings) -> None:
    result = read_stock(stock(write_text, GOOD_ROW, GOOD_ROW.replace("10000001", "99999999")), smile_settings)
    assert result.ok and [r.product_code for r in result.records] == ["10000001"]
    assert result.skipped == [(3, "諸口 code 99999999")]


def test_a_validity_that_ends_before_it_starts_is_refused(write_text: WriteText,
                                                          smile_settings: SmileSettings) -> None:
    path = write_text("customer_prices.csv", "得意先コード,商品コード,数量下限,売上単価,適用開始日,適用終了日\r\n"
                                             "100001,10000001,1,900,20261201,20261101\r\n")
    problem = only(read_file(path, "customer_prices", smile_settings))
    assert problem.line == 2 and problem.column == "6 (適用終了日)" and "ends before it starts" in problem.message


@pytest.mark.parametrize(
    ("file_type", "column", "line", "cell", "message"),
    [
        ("products", "ＪＡＮ", 2, "4901234567890", "not a valid JAN"),
        ("customers", "郵便番号", 3, "123-45", "not a 7-digit postcode"),
        ("customers", "電話番号", 4, "12345678", "not a Japanese phone"),
        ("customers", "単価ランク", 5, "7", "must be at most 5"),
        ("customers", "単価処理区分", 6, "9", "not one of the known codes"),
    ],
)
def test_customer_and_product_formats_are_checked(file_type: str, column: str, line: int, cell: str, message: str,
                                                  generated: GeneratedSet, smile_settings: SmileSettings,
                                                  edit_cell: EditCell, tmp_path: Path) -> None:
    path, _ = edit_cell(generated.paths[file_type], tmp_path, smile_settings.layout(file_type), line, column, cell)
    problem = only(read_file(path, file_type, smile_settings))
    assert problem.line == line and problem.value == cell and message in problem.message


@pytest.mark.parametrize("misc_code", ["999999", "99999991"])
def test_misc_customer_codes_are_skipped_not_applied(misc_code: str, generated: GeneratedSet,
                                                     smile_settings: SmileSettings, edit_cell: EditCell,
                                                     tmp_path: Path) -> None:
    layout = smile_settings.layout("customers")
    path, _ = edit_cell(generated.paths["customers"], tmp_path, layout, 5, "得意先コード", misc_code)
    result = read_file(path, "customers", smile_settings)
    assert result.ok, result.report()
    assert result.skipped == [(5, f"諸口 code {misc_code}")]
    assert misc_code not in {c.code for c in result.records}
    assert len(result.records) == len(generated.customers) - 1


def test_a_misc_code_row_is_never_a_duplicate_key(write_text: WriteText, smile_settings: SmileSettings) -> None:
    misc = GOOD_ROW.replace("10000001", "99999999")
    result = read_stock(stock(write_text, misc, GOOD_ROW, misc), smile_settings)
    assert result.ok and [line for line, _ in result.skipped] == [2, 4]


def test_a_problem_reads_as_file_line_column_value_and_fix(write_text: WriteText,
                                                           smile_settings: SmileSettings) -> None:
    problem = only(read_stock(stock(write_text, GOOD_ROW.replace(",120,", ",１２個,")), smile_settings))
    assert str(problem) == ("stock.csv:2, column 5 (現在庫数量), value '１２個': not a number. Fix: write a plain "
                            "number such as 1200 or 12.5 (digits, optional minus sign and decimal point)")


def test_streamed_records_equal_the_whole_read(generated: GeneratedSet, smile_settings: SmileSettings) -> None:
    path = generated.paths["products"]
    streamed = ReadResult(path=path, file_type="products")
    records = list(iter_records(path, "products", streamed, settings=smile_settings,
                                layout=smile_settings.layout("products")))
    assert streamed.ok and records == generated.products and streamed.rows == len(records)


def test_a_streaming_consumer_learns_of_a_late_problem_at_the_end(write_text: WriteText,
                                                                  smile_settings: SmileSettings) -> None:
    """Streamed records of a bad file may come before its problem: only ``result.ok`` after the last one says
    whether they may be applied (``read_file`` and the inbox never hand them out)."""
    rows = [GOOD_ROW.replace("10000001", f"2{n:07d}") for n in range(5000)]
    rows.append(GOOD_ROW.replace(",120,", ",x,"))
    path = stock(write_text, *rows)
    streamed = ReadResult(path=path, file_type="stock")
    records = iter_records(path, "stock", streamed, settings=smile_settings, layout=smile_settings.layout("stock"))
    first = next(records)
    assert first.product_code == "20000000" and streamed.ok
    rest = list(records)
    assert len(rest) == 4999 and not streamed.ok
    assert [(p.line, p.value) for p in streamed.problems] == [(5002, "x")]


@pytest.mark.parametrize("code", ["\ufeffA1", '"A\r\n1"', "A\u200b1"])
def test_a_code_with_an_invisible_character_is_refused(code: str, write_text: WriteText,
                                                       smile_settings: SmileSettings) -> None:
    path = stock(write_text, GOOD_ROW.replace("10000001", code), encoding="utf-8")
    problem = only(read_stock(path, smile_settings, encoding="utf-8"))
    assert (problem.line, problem.column) == (2, "3 (商品コード)")
    assert "invisible character" in problem.message and "retype" in problem.fix


def test_a_nul_byte_is_refused_as_a_damaged_file(write_text: WriteText, smile_settings: SmileSettings) -> None:
    path = stock(write_text, GOOD_ROW.replace("10000001", "A\x001"), encoding="utf-8")
    problem = only(read_stock(path, smile_settings, encoding="utf-8"))
    assert (problem.line, problem.column) == (2, "3")
    assert "NUL byte" in problem.message and "export the file again" in problem.fix


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_a_nul_character_in_a_utf16_file_is_refused_with_its_line(write_text: WriteText,
                                                                   smile_settings: SmileSettings,
                                                                   quoted: bool) -> None:
    """UTF-16 text is all NUL bytes, so the byte scan that refuses NUL in the other encodings does not run: the
    reader must still find a NUL character, here in a column no record keeps (商品名), on the block path and after
    a quoted value has handed the file to the csv module."""
    rows = [GOOD_ROW.replace("10000001", f"1{n:07d}") for n in range(9000)]
    if quoted:  # the csv module reads from line 12 on; the NUL is past the lines its first chunk took
        rows[10] = rows[10].replace("紙コップ 小", '"紙コップ, 小"')
    rows[8500] = rows[8500].replace("紙コップ 小", "紙コップ\x00小")
    path = stock(write_text, *rows, encoding="utf-16")
    problem = only(read_stock(path, smile_settings, encoding="utf-16"))
    assert (problem.line, problem.column) == (8502, "4")
    assert "NUL character (U+0000)" in problem.message and "export the file again" in problem.fix


def test_a_row_spanning_lines_is_named_by_its_first_line(write_text: WriteText,
                                                         smile_settings: SmileSettings) -> None:
    spanning = GOOD_ROW.replace("紙コップ 小", '"紙コップ\r\n小"')
    late = GOOD_ROW.replace("10000001", "10000002").replace(",120,", ",x,")
    problem = only(read_stock(stock(write_text, spanning, late), smile_settings))
    assert problem.line == 4  # header 1, the spanning row 2–3


def test_a_repeated_header_reads_its_first_column_and_says_so(write_text: WriteText,
                                                              smile_settings: SmileSettings) -> None:
    header = STOCK_HEADER.replace("商品名,", "商品名,商品コード,")
    row = GOOD_ROW.replace("紙コップ 小,", "紙コップ 小,OTHER,")
    result = read_stock(stock(write_text, row, header=header), smile_settings)
    assert result.ok and result.records[0].product_code == "10000001"
    assert "header 商品コード is in columns 3, 5; column 3 is read for product_code" in result.notes


def test_an_endless_value_is_explained(write_text: WriteText, smile_settings: SmileSettings) -> None:
    problem = only(read_stock(stock(write_text, GOOD_ROW.replace("本社倉庫", "x" * 200_000)), smile_settings))
    assert problem.line == 2 and "longer than 131,072 characters" in problem.fix
