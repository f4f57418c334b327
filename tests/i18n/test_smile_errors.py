"""SMILE file errors in both languages: file, line, column, value and a fix, in the operator's language."""

from __future__ import annotations

from pathlib import Path

from bridge.smile.reader import read_file
from bridge.smile.settings import SmileSettings

HEADER = "倉庫コード,倉庫名,商品コード,商品名,現在庫数量,引当数量,発注残数量,入荷予定日,有効在庫数量,操作日付\r\n"
ROW = "000001,本社倉庫,10000001,紙コップ 小,{qty},20,0,,100,20261124\r\n"

EXPECTED = {
    "en": ("stock.csv: 2 problem(s); nothing from this file was applied.", "not a number. Fix: write a plain number",
           "duplicate key"),
    "ja": ("stock.csv: 2 件の問題があります。このファイルの内容は何も反映していません。",
           "数値ではありません。対処: 1200 や 12.5 のような数値で書いてください", "が重複しています (最初は 3 行目)"),
}


def test_smile_file_problems_in_both_languages(tmp_path: Path, lang: str) -> None:
    path = tmp_path / "stock.csv"
    second = ROW.format(qty="5").replace("10000001", "10000002")
    path.write_bytes((HEADER + ROW.format(qty="十二") + second + second).encode("cp932"))
    result = read_file(path, "stock", SmileSettings())
    assert not result.ok
    report = result.report()
    head, not_a_number, duplicate = EXPECTED[lang]
    assert report.splitlines()[0] == head
    assert "stock.csv:2, " in report and not_a_number in report and "'十二'" in report
    assert "stock.csv:4: " in report and duplicate in report
