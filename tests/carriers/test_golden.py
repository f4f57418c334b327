"""Label files byte for byte: CP932, CRLF, header, exact column count, codes, every text trap of carriers.md §7.

Regenerate after an intended change with ``BRIDGE_UPDATE_GOLDEN=1 pytest tests/carriers/test_golden.py`` and
review the diff of tests/carriers/golden/ before committing it.
"""

from __future__ import annotations

import csv
import io
import os

import pytest

from bridge.carriers import japanpost, sagawa, yamato
from bridge.carriers.export import build_label_files
from bridge.carriers.text import Charset, in_charset
from tests.carriers.samples import GOLDEN, GOLDEN_CASES, NOW, shipped_rules

MODULES = {"yamato": yamato, "sagawa": sagawa, "japanpost": japanpost}
TRAPS = "〜−—𠮷髙﨑①㈱"


def _export(carrier: str) -> bytes:
    result = build_label_files(GOLDEN_CASES[carrier], shipped_rules(), NOW, carrier=carrier)
    assert result.rejections == ()
    (label_file,) = result.files
    assert label_file.carrier == carrier and label_file.file_name.endswith("20261124_093000.csv")
    return label_file.content


@pytest.mark.parametrize("carrier", sorted(MODULES))
def test_label_file_matches_golden_bytes(carrier: str) -> None:
    content = _export(carrier)
    golden = GOLDEN / f"{carrier}.csv"
    if os.environ.get("BRIDGE_UPDATE_GOLDEN"):
        golden.write_bytes(content)
    assert content == golden.read_bytes()


@pytest.mark.parametrize("carrier", sorted(MODULES))
def test_label_file_shape(carrier: str) -> None:
    content = _export(carrier)
    module = MODULES[carrier]
    assert content.endswith(b"\r\n") and b"\n" not in content.replace(b"\r\n", b"")
    text = content.decode("cp932")  # strict: every byte is valid CP932
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == module.HEADER
    assert len(rows) == 1 + len(GOLDEN_CASES[carrier])
    assert {len(row) for row in rows} == {len(module.HEADER)}
    assert not any(ch in text for ch in TRAPS)


def test_column_counts_are_the_carriers() -> None:
    assert len(yamato.HEADER) == 95
    assert len(sagawa.HEADER) == 74
    assert len(japanpost.HEADER) == len(japanpost.COLUMNS)


def test_b2_file_is_jis_x_0208_only() -> None:
    text = _export("yamato").decode("cp932")
    assert all(in_charset(ch, Charset.JIS0208) for ch in text if ch not in "\r\n")


def _rows(carrier: str) -> dict[str, list[str]]:
    text = _export(carrier).decode("cp932")
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    key = {"yamato": 0, "sagawa": 9, "japanpost": 0}[carrier]
    return {row[key]: row for row in rows}


def test_b2_codes_and_order_id() -> None:
    rows = _rows("yamato")
    cod = rows["2005"]
    assert cod[1] == "2" and cod[33:35] == ["12345", "1122"]  # コレクト, 代金 and 内消費税 (10/110, down)
    assert cod[5:7] == ["2026/11/27", "1416"]
    assert cod[75] == "2005" and cod[74] == "注文番号"  # 検索キー1 repeats the order id
    assert cod[39:42] == ["031234567801", "", "01"]
    cool = rows["2101"]
    assert cool[2] == "2" and cool[30] == "ナマモノ" and cool[6] == "1921"
    nekopos = rows["2102"]
    assert nekopos[1] == "A" and nekopos[5] == ""
    company = rows["2004"]
    assert company[15:18] == ["株式会社サンプル物流センター", "", "御中"]
    assert company[11] == "東京都千代田区千代田三丁目四番五号"
    assert company[12] == "グランドサンプルタワー 北館12階"  # street overflow moved in front of the building


def test_sagawa_codes() -> None:
    rows = _rows("sagawa")
    cod = rows["2005"]
    assert cod[0] == "0" and cod[10] == "123456789012"
    assert cod[44:46] == ["20261127", "14"] and cod[47:49] == ["12345", "1122"] and cod[57] == "1"
    assert cod[60] == "20261124" and cod[61] == ""
    assert rows["2006"][4:6] == ["北海道札幌市中央区", "北１条西２丁目"]  # 都道府県 and 市区町村 from the postcode


def test_japanpost_codes() -> None:
    rows = _rows("japanpost")
    assert rows["2005"][3] == "2" and rows["2005"][27] == "53"
    assert rows["2101"][27] == "57" and rows["2101"][30] == "1"  # 20–21 written as 19–21; こわれもの
