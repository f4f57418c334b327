"""Rarer faults of a SMILE export, each explained with the file, line, column and a fix, in both languages; nothing
from a refused file is applied."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.smile import bytescan
from bridge.smile.reader import read_file
from bridge.smile.settings import SmileSettings

HEADER = "倉庫コード,倉庫名,商品コード,商品名,現在庫数量,引当数量,発注残数量,入荷予定日,有効在庫数量,操作日付\r\n"
ROW = "000001,本社倉庫,{code},紙コップ 小,120,20,0,,100,20261124\r\n"


def rows(count: int, first: int = 10000001) -> str:
    return "".join(ROW.format(code=first + i) for i in range(count))


def read(tmp_path: Path, data: bytes, encoding: str | None = None) -> tuple[str, list, object]:
    path = tmp_path / "zaiko.csv"
    path.write_bytes(data)
    smile = SmileSettings()
    layout = smile.layout("stock") if encoding is None else smile.layout("stock").changed(encoding=encoding)
    result = read_file(path, "stock", smile, layout=layout)
    return result.report(), result.problems, result


def say(lang: str, en: str, ja: str) -> str:
    return ja if lang == "ja" else en


def test_bom_in_the_middle_two_files_joined(tmp_path: Path, lang: str) -> None:
    data = (HEADER + rows(1)).encode("cp932") + b"\xef\xbb\xbf" + rows(2, 10000002).encode("cp932")
    report, problems, result = read(tmp_path, data)
    assert not result.ok and result.records == []  # type: ignore[attr-defined]
    assert (problems[0].line, problems[0].column) == (3, "1")
    assert "zaiko.csv:3, " in report
    assert say(lang, "in the middle of the file, at byte 162: two exports were probably joined",
               "ファイルの途中 (162 バイト目) に UTF-8 の BOM") in report
    assert say(lang, "do not join files with copy /b or cat", "copy /b や cat でつなげないでください") in report


def test_bom_in_the_middle_of_a_utf8_file(tmp_path: Path, lang: str) -> None:
    data = (HEADER + rows(1)).encode("utf-8") + b"\xef\xbb\xbf" + rows(1, 10000002).encode("utf-8")
    report, problems, _result = read(tmp_path, data, encoding="utf-8")
    assert problems[0].line == 3
    assert say(lang, "EF BB BF", "EF BB BF") in report and say(lang, "joined", "つなげた") in report


def test_header_row_missing(tmp_path: Path, lang: str) -> None:
    report, problems, _result = read(tmp_path, rows(3).encode("cp932"))
    assert len(problems) == 1 and problems[0].line == 1  # one clear message, not one per column
    assert say(lang, "line 1 is not a header row", "1 行目は見出し行ではありません") in report
    assert "smile.files.stock.header_rows: 0" in report
    assert say(lang, "export the file with its 項目名 (header) row", "項目名 (見出し) 行を付けて出力") in report


def test_header_row_different(tmp_path: Path, lang: str) -> None:
    header = "コード,名称,品番,品名,在庫,引当,発注残,入荷日,有効在庫,日付\r\n"
    report, problems, _result = read(tmp_path, (header + rows(2)).encode("cp932"))
    assert [p.line for p in problems] == [1, 1, 1]
    assert say(lang, "the required column 商品コード is not in the header", "必須の列 商品コード が見出しにありません") in report
    assert "smile.files.stock.columns.product_code" in report and "品番" in report  # the setting and what was found


def test_wrong_encoding_guess_says_what_the_file_is(tmp_path: Path, lang: str) -> None:
    report, problems, _result = read(tmp_path, (HEADER + rows(2)).encode("utf-8"))
    assert problems[0].line == 1
    assert say(lang, "the bytes are not valid cp932; the whole file reads as utf-8",
               "cp932 として正しくないバイト列です。ファイル全体が utf-8 として読める") in report
    assert "smile.files.stock.encoding: utf-8" in report


def test_cp932_file_read_as_utf8(tmp_path: Path, lang: str) -> None:
    report, _problems, _result = read(tmp_path, (HEADER + rows(1)).encode("cp932"), encoding="utf-8")
    assert "smile.files.stock.encoding" in report
    assert say(lang, "the header reads correctly as cp932", "cp932 として正しく読めます") in report \
        or say(lang, "whole file reads as cp932", "ファイル全体が cp932 として読める") in report


def test_truncated_multibyte_character(tmp_path: Path, lang: str) -> None:
    data = (HEADER + rows(1)).encode("cp932") + "000001,本社倉庫,10000002,紙".encode("cp932")[:-1] + b"\r\n"
    report, problems, _result = read(tmp_path, data)
    assert (problems[0].line, problems[0].column) == (3, "4")
    assert say(lang, "a two-byte character is cut in half: its first byte 0x8E is followed by a line break",
               "2 バイト文字が途中で切れています: 1 バイト目 0x8E の後が改行です") in report


def test_nul_bytes(tmp_path: Path, lang: str) -> None:
    data = (HEADER + rows(1)).encode("cp932") + b"000001,\x00\x00\x00,10000009,x,1,0,0,,1,20261124\r\n"
    report, problems, result = read(tmp_path, data)
    assert not result.ok and (problems[0].line, problems[0].column) == (3, "2")  # type: ignore[attr-defined]
    assert say(lang, "3 NUL byte(s) (0x00)", "NUL バイト (0x00) が 3 個") in report


def test_a_nul_character_in_utf16(tmp_path: Path, lang: str) -> None:
    data = (HEADER + rows(2) + "000001,本\x00社倉庫,10000009,x,1,0,0,,1,20261124\r\n").encode("utf-16")
    report, problems, result = read(tmp_path, data, encoding="utf-16")
    assert not result.ok and (problems[0].line, problems[0].column) == (4, "2")  # type: ignore[attr-defined]
    assert say(lang, "a NUL character (U+0000)", "NUL 文字 (U+0000) があります") in report
    assert say(lang, "export the file again from SMILE", "SMILE からもう一度出力") in report


def test_utf16_without_bom_is_named(tmp_path: Path, lang: str) -> None:
    report, _problems, _result = read(tmp_path, (HEADER + rows(2)).encode("utf-16-le"))
    assert say(lang, "looks like UTF-16 without a byte order mark", "BOM (バイト順マーク) のない UTF-16") in report


def test_mixed_newlines_are_read_with_a_note(tmp_path: Path, lang: str) -> None:
    text = HEADER + ROW.format(code=10000001) + ROW.format(code=10000002).replace("\r\n", "\n") + \
        ROW.format(code=10000003)
    _report, problems, result = read(tmp_path, text.encode("cp932"))
    assert problems == [] and len(result.records) == 3  # type: ignore[attr-defined]
    note = " ".join(result.notes)  # type: ignore[attr-defined]
    assert say(lang, "both CRLF (3) and LF alone (1); the first line that does not end in CRLF is line 3",
               "CRLF (3 行) と LF のみ (1 行) の混在です。CRLF で終わらない最初の行は 3 行目です") in note


def test_too_many_and_too_few_columns(tmp_path: Path, lang: str) -> None:
    extra = ROW.format(code=10000009).replace("\r\n", ",extra\r\n")
    report, problems, _result = read(tmp_path, (HEADER + rows(1) + extra + "000001,本社倉庫,10000010\r\n")
                                     .encode("cp932"))
    assert [(p.line, p.column) for p in problems] == [(3, "11"), (4, "3 (商品コード)")]
    assert say(lang, "the row has 11 columns, 1 more than the 10 expected", "この行は 11 列あり") in report
    assert say(lang, "the row has 3 columns, 7 fewer than the 10 expected", "この行は 3 列しかなく") in report


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.sampled_from([b"a,b\r\n", b"a,b\n", b"\xef\xbb\xbfa\r\n", b"x\x00y\n", b"long," * 50 + b"\n"]),
                      min_size=1, max_size=60),
       block=st.sampled_from([3, 7, 64, 1 << 20]))
def test_scan_finds_the_same_spots_whatever_the_block_size(tmp_path: Path, lines: list[bytes], block: int,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"".join(lines)
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    monkeypatch.setattr(bytescan, "BLOCK", block)
    found = bytescan.scan(path, ",")
    crlf = sum(line.endswith(b"\r\n") for line in lines)
    assert (found.crlf, found.lf_only) == (crlf, len(lines) - crlf)
    nul_lines = [n for n, line in enumerate(lines, 1) if b"\x00" in line]
    assert (found.nul.line if found.nul else None) == (nul_lines[0] if nul_lines else None)
    bom_lines = [n for n, line in enumerate(lines, 1) if line.startswith(b"\xef\xbb\xbf") and n > 1]
    assert (found.bom.line if found.bom else None) == (bom_lines[0] if bom_lines else None)
    bare = [n for n, line in enumerate(lines, 1) if not line.endswith(b"\r\n")]
    assert found.first_lf_only == (bare[0] if bare else None)
