"""Files for SMILE: atomic, CRLF, in the layout's encoding, text guarded, lengths checked in the layout's unit."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.errors import ValidationFailed
from bridge.smile.layout import FileLayout
from bridge.smile.settings import DEFAULT_SUBSTITUTIONS, SmileSettings
from bridge.smile.textguard import TextGuard
from bridge.smile.writer import write_batch


def order_layout(settings: SmileSettings, **changes: object) -> FileLayout:
    return settings.layout("order_import").changed(**changes)


def row(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "受注日付": date(2026, 11, 24), "受注№": "10001", "行": 1, "得意先ｺｰﾄﾞ": "100001", "得意先名１": "山田商店",
        "商品ｺｰﾄﾞ": "10000001", "商品名": "紙コップ 小", "数量": Decimal(10), "単価": Decimal(120),
        "金額": Decimal(1200), "オーダー№": "CS10001",
    }
    base.update(values)
    return base


def read_back(path: Path, layout: FileLayout) -> list[list[str]]:
    text = path.read_bytes().decode(layout.encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter))


def test_one_batch_is_one_complete_crlf_file(smile_settings: SmileSettings, tmp_path: Path) -> None:
    layout = order_layout(smile_settings)
    report = write_batch([row(), row(行=2, 商品名="ゴム手袋 Ｍ")], directory=tmp_path, batch="b0001",
                         layout=layout, settings=smile_settings)
    assert report.rows == 2 and report.changes == []
    assert report.path.name.startswith("juchu_") and report.path.name.endswith("_b0001.csv")
    assert [p.name for p in tmp_path.iterdir()] == [report.path.name]  # no temporary file left behind
    raw = report.path.read_bytes()
    assert raw.count(b"\r\n") == 3 and b"\n" not in raw.replace(b"\r\n", b"")
    header, first, second = read_back(report.path, layout)
    assert header == list(layout.columns) and len(header) == 70
    values = dict(zip(header, first, strict=True))
    assert (values["受注日付"], values["商品名"], values["倉庫ｺｰﾄﾞ"], values["消費税率％"]) == (
        "20261124", "紙コップ 小", "000001", "10")
    assert dict(zip(header, second, strict=True))["商品名"] == "ゴム手袋 Ｍ"


def test_characters_outside_jis_are_substituted_and_reported(smile_settings: SmileSettings,
                                                             tmp_path: Path) -> None:
    layout = order_layout(smile_settings)
    report = write_batch([row(得意先名１="㈱髙﨑商店", 商品名="𠮷野家セット①—特製")], directory=tmp_path,
                         batch="b0002", layout=layout, settings=smile_settings)
    changes = {(c.column, c.written) for c in report.changes}
    assert changes == {("得意先名１", "(株)高崎商店"), ("商品名", "吉野家セット(1)―特製")}
    assert all(c.row == 1 and c.reason.startswith("substituted") for c in report.changes)
    assert "髙→高" in next(c.reason for c in report.changes if c.column == "得意先名１")
    values = dict(zip(*read_back(report.path, layout)[:2], strict=True))
    assert values["得意先名１"] == "(株)高崎商店"


def test_a_character_without_substitution_refuses_the_whole_batch(smile_settings: SmileSettings,
                                                                  tmp_path: Path) -> None:
    layout = order_layout(smile_settings)
    with pytest.raises(ValidationFailed) as refused:
        write_batch([row(), row(行=2, 備考="絵文字😀と㐂")], directory=tmp_path, batch="b0003", layout=layout,
                    settings=smile_settings)
    assert list(tmp_path.iterdir()) == []
    [problem] = refused.value.problems
    assert problem.startswith("row 2, column 備考") and "😀㐂" in problem and "smile.substitutions" in problem


def test_unmappable_characters_can_be_replaced_instead(smile_settings: SmileSettings, tmp_path: Path) -> None:
    layout = order_layout(smile_settings, unmappable="replace")
    report = write_batch([row(備考="😀")], directory=tmp_path, batch="b0004", layout=layout, settings=smile_settings)
    [change] = report.changes
    assert change.written == "〓" and "😀→〓" in change.reason


def test_lengths_count_full_width_as_two_and_truncate_or_refuse(smile_settings: SmileSettings,
                                                                tmp_path: Path) -> None:
    layout = order_layout(smile_settings)
    long_name = "あ" * 20 + "ABC"  # 43 half-width units: fits 48
    longer = "い" * 30  # 60 units: over 36 for 商品名 (truncate) and over 48 for 納品先住所１ (refuse)
    report = write_batch([row(得意先名１=long_name, 商品名=longer)], directory=tmp_path, batch="b0005", layout=layout,
                         settings=smile_settings)
    [change] = report.changes
    assert (change.column, change.written, change.reason) == ("商品名", "い" * 18, "truncated to 36 halfwidth")
    with pytest.raises(ValidationFailed) as refused:
        write_batch([row(納品先住所１=longer)], directory=tmp_path, batch="b0006", layout=layout,
                    settings=smile_settings)
    assert "is 60 halfwidth long, the limit is 48" in refused.value.problems[0]


def test_byte_lengths_are_measured_in_the_target_encoding() -> None:
    guard = TextGuard("cp932")
    assert guard.length("ｱｲｳ", "bytes") == 3 and guard.length("アイウ", "bytes") == 6
    assert guard.length("アイウ", "halfwidth") == 6 and guard.length("アイウ", "chars") == 3
    assert guard.truncate("アイウ", 5, "bytes") == "アイ"
    assert TextGuard("utf-8").length("アイウ", "bytes") == 9


def test_a_batch_id_is_written_once(smile_settings: SmileSettings, tmp_path: Path) -> None:
    layout = order_layout(smile_settings, name_pattern="juchu_{batch}.csv")
    write_batch([row()], directory=tmp_path, batch="b0007", layout=layout, settings=smile_settings)
    with pytest.raises(ValidationFailed):
        write_batch([row()], directory=tmp_path, batch="b0007", layout=layout, settings=smile_settings)


def test_unknown_columns_and_empty_batches_are_refused(smile_settings: SmileSettings, tmp_path: Path) -> None:
    layout = order_layout(smile_settings)
    with pytest.raises(ValidationFailed) as refused:
        write_batch([row(色="赤")], directory=tmp_path, batch="b0008", layout=layout, settings=smile_settings)
    assert "'色' is not in smile.files.order_import.columns" in refused.value.problems[0]
    with pytest.raises(ValidationFailed):
        write_batch([], directory=tmp_path, batch="b0009", layout=layout, settings=smile_settings)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-8-sig", "cp932"])
def test_the_layout_encoding_and_delimiter_are_used(encoding: str, smile_settings: SmileSettings,
                                                    tmp_path: Path) -> None:
    layout = order_layout(smile_settings, encoding=encoding, delimiter="tab", repertoire="encoding")
    report = write_batch([row(得意先名１="髙橋商店")], directory=tmp_path, batch="b0010", layout=layout,
                         settings=smile_settings)
    raw = report.path.read_bytes()
    assert raw.startswith(b"\xff\xfe") == (encoding == "utf-16")
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    values = dict(zip(*read_back(report.path, layout)[:2], strict=True))
    assert values["得意先名１"] == "髙橋商店" and report.changes == []  # cp932 and Unicode hold 髙


def test_halfwidth_columns_are_written_half_width(smile_settings: SmileSettings, tmp_path: Path) -> None:
    layout = order_layout(smile_settings)
    columns = dict(layout.columns)
    columns["納品先名"] = columns["納品先名"].model_copy(update={"halfwidth": True})
    layout = layout.changed(columns=columns)
    report = write_batch([row(納品先名="ヤマダショウテン")], directory=tmp_path, batch="b0011", layout=layout,
                         settings=smile_settings)
    assert dict(zip(*read_back(report.path, layout)[:2], strict=True))["納品先名"] == "ﾔﾏﾀﾞｼｮｳﾃﾝ"


def test_every_shipped_substitution_can_be_written_to_a_jis_file() -> None:
    guard = TextGuard("cp932", repertoire="jis_x_0208", substitutions=DEFAULT_SUBSTITUTIONS)
    for original, replacement in DEFAULT_SUBSTITUTIONS.items():
        assert not guard.holds(original), original
        assert all(guard.holds(ch) for ch in replacement), (original, replacement)


def test_a_site_writes_its_own_column_list_from_the_same_rows(tmp_path: Path) -> None:
    """The minimal 20-column 受注取込 (UTF-16 TSV): fewer columns, two renamed; rows keep the shipped field names."""
    from bridge.config import load_settings

    config = tmp_path / "bridge.yaml"
    config.write_text(
        "smile:\n"
        "  files:\n"
        "    order_import:\n"
        "      encoding: utf-16\n"
        "      delimiter: tab\n"
        "      quoting: none\n"
        "      repertoire: encoding\n"
        "      name_pattern: 'juchu_torikomi_{batch}.txt'\n"
        "      columns:\n"
        "        伝票日付: {source: 受注日付}\n"
        "        伝票№: null\n"
        "        得意先ｺｰﾄﾞ: {max_length: 8}\n"
        "        得意先名１: {max_length: 48, overflow: truncate}\n"
        "        商品ｺｰﾄﾞ: null\n"
        "        商品名: {max_length: 36, overflow: truncate}\n"
        "        数量: null\n"
        "        単価: null\n"
        "        備考: {source: [オーダー№, 受注№]}\n",
        encoding="utf-8",
    )
    settings = load_settings(config).smile
    layout = settings.layout("order_import")
    out = tmp_path / "out"
    report = write_batch([row(メールアドレス="a@example.jp", 納期=date(2026, 11, 30), 備考="午前着")], directory=out,
                         batch="b0012", layout=layout, settings=settings)
    assert report.path.name == "juchu_torikomi_b0012.txt" and report.path.read_bytes().startswith(b"\xff\xfe")
    header, first = read_back(report.path, layout)
    assert header == ["伝票日付", "伝票№", "得意先ｺｰﾄﾞ", "得意先名１", "商品ｺｰﾄﾞ", "商品名", "数量", "単価", "備考"]
    assert first == ["20261124", "", "100001", "山田商店", "10000001", "紙コップ 小", "10", "120", "CS10001"]
    with pytest.raises(ValidationFailed) as refused:  # a field no 受注 layout knows is still a caller's mistake
        write_batch([row(色="赤")], directory=out, batch="b0013", layout=layout, settings=settings)
    assert "'色' is not in smile.files.order_import.columns" in refused.value.problems[0]


def test_byte_limits_count_cp932_bytes_when_writing(smile_settings: SmileSettings, tmp_path: Path) -> None:
    layout = order_layout(smile_settings, length_unit="bytes")
    columns = dict(layout.columns)
    columns["商品名"] = columns["商品名"].model_copy(update={"max_length": 7})
    columns["得意先名１"] = columns["得意先名１"].model_copy(update={"max_length": 6, "overflow": "refuse"})
    layout = layout.changed(columns=columns)
    report = write_batch([row(商品名="ｶﾐｺｯﾌﾟA", 得意先名１="ABC")], directory=tmp_path, batch="b0014", layout=layout,
                         settings=smile_settings)
    assert report.changes == []  # 6 half-width kana and 1 ASCII, 1 byte each: 7 bytes fit
    report = write_batch([row(商品名="紙コップ小", 得意先名１="ABC")], directory=tmp_path, batch="b0015", layout=layout,
                         settings=smile_settings)
    [change] = report.changes
    assert (change.written, change.reason) == ("紙コッ", "truncated to 7 bytes")  # never half a character
    with pytest.raises(ValidationFailed) as refused:
        write_batch([row(得意先名１="山田商店")], directory=tmp_path, batch="b0016", layout=layout,
                    settings=smile_settings)
    assert "is 8 bytes long, the limit is 6" in refused.value.problems[0]


def test_a_file_without_quoting_gets_no_delimiter_or_line_break_inside_a_value(smile_settings: SmileSettings,
                                                                              tmp_path: Path) -> None:
    layout = order_layout(smile_settings, encoding="utf-16", delimiter="tab", quoting="none")
    report = write_batch([row(商品名='紙コップ\t"8オンス"', 備考="午前\r\n着")], directory=tmp_path, batch="b0017",
                         layout=layout, settings=smile_settings)
    assert {(c.column, c.written) for c in report.changes} == {("商品名", '紙コップ "8オンス"'), ("備考", "午前  着")}
    assert all("no quoting" in c.reason for c in report.changes)
    text = report.path.read_bytes().decode("utf-16")
    assert "\\" not in text and text.count("\r\n") == 2  # no escapes; header and one row
    header, first = (line.split("\t") for line in text.lstrip("\ufeff").split("\r\n")[:2])
    values = dict(zip(header, first, strict=True))
    assert (values["商品名"], values["備考"]) == ('紙コップ "8オンス"', "午前  着")


def test_substitutions_and_truncations_are_counted(smile_settings: SmileSettings, tmp_path: Path) -> None:
    from bridge.metrics import REGISTRY

    def count(reason: str) -> float:
        return REGISTRY.get_sample_value("bridge_smile_text_substitutions_total",
                                         {"layout": "order_import", "reason": reason}) or 0.0

    before = (count("substituted"), count("truncated"))
    write_batch([row(得意先名１="髙﨑商店", 商品名="い" * 30), row(行=2, 備考="①")], directory=tmp_path, batch="b0018",
                layout=order_layout(smile_settings), settings=smile_settings)
    assert (count("substituted") - before[0], count("truncated") - before[1]) == (2, 1)
