"""The carrier text guard: substitutions reported, strict charsets, widths in half-width units, カナ columns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.carriers.text import (
    DEFAULT_TEXT_MAP,
    CarrierText,
    Charset,
    TextReport,
    in_charset,
    to_halfwidth_kana,
    truncate,
    width,
)


@pytest.mark.parametrize(("trap", "written"), [
    ("〜", "～"), ("−", "－"), ("‖", "∥"), ("—", "―"), ("𠮷", "吉"), ("髙", "高"), ("﨑", "崎"), ("①", "1"),
    ("㈱", "(株)"), ("¢", "￠"), ("£", "￡"), ("¬", "￢"),
])
def test_every_trap_is_substituted_and_reported(trap: str, written: str) -> None:
    report = TextReport()
    assert CarrierText(Charset.JIS0208, carrier="yamato").clean("name", f"A{trap}B", report) == f"A{written}B"
    assert [(s.field, s.original, s.replacement) for s in report.substitutions] == [("name", trap, written)]
    assert report.ok
    # what is written reads back the same from CP932: no silent round-trip change
    assert f"A{written}B".encode("cp932").decode("cp932") == f"A{written}B"


def test_the_shipped_table_writes_only_jis_x_0208() -> None:
    for original, replacement in DEFAULT_TEXT_MAP.items():
        assert original != replacement
        assert all(in_charset(ch, Charset.JIS0208) for ch in replacement), original


def test_cp932_extension_passes_cp932_but_not_jis_x_0208() -> None:
    # ∮ (NEC row 13) is in CP932, not in JIS X 0208, and not in the table
    report = TextReport()
    assert CarrierText(Charset.CP932, carrier="sagawa").clean("street", "a∮b", report) == "a∮b"
    assert report.ok
    report = TextReport()
    assert CarrierText(Charset.JIS0208, carrier="yamato").clean("street", "a∮b", report) == "ab"
    (problem,) = report.problems
    assert problem.field == "street" and "U+222E" in problem.message and "text_map" in problem.fix


def test_unmappable_character_is_a_problem_naming_the_fix() -> None:
    report = TextReport()
    assert CarrierText(carrier="yamato").clean("shipping.name", "山田😀", report) == "山田"
    assert "U+1F600" in str(report.problems[0]) and "rules/shipping.yaml" in str(report.problems[0])


def test_operator_table_overrides_the_default() -> None:
    report = TextReport()
    guard = CarrierText(table={**DEFAULT_TEXT_MAP, "①": "(1)", "😀": ""})
    assert guard.clean("x", "①😀", report) == "(1)"
    assert len(report.substitutions) == 2 and report.ok


def test_compatibility_ideograph_and_combining_mark_are_reported() -> None:
    report = TextReport()
    assert CarrierText().clean("x", "\ufa10か\u3099", report) == "塚が"
    assert [s.original for s in report.substitutions] == ["か\u3099", "\ufa10"]


def test_control_characters_become_spaces() -> None:
    assert CarrierText().clean("x", "千代田\r\n1-1\t", TextReport()) == "千代田  1-1 "


def test_question_mark_in_a_name_is_flagged_as_possibly_lost() -> None:
    report = TextReport()
    CarrierText().clean("shipping.name", "?田 太郎", report, check_lost=True)
    assert "CS-Cart could not store" in report.warnings[0]


def test_widths_count_full_width_as_two() -> None:
    assert width("ABC") == 3 and width("山田") == 4 and width("ﾔﾏﾀﾞ") == 4 and width("ａ") == 2


def test_fit_refuses_over_long_value_with_its_width() -> None:
    report = TextReport()
    name = "寿限無寿限無五劫の擦り切れ海砂利水魚の"  # 全角19
    assert width(CarrierText(carrier="yamato").fit("shipping.name", name, 32, report)) <= 32
    (problem,) = report.problems
    assert "38 half-width units" in problem.message and "allows 32 (全角16)" in problem.message


def test_fit_required_empty_is_a_problem() -> None:
    report = TextReport()
    CarrierText().fit("shipping.name", "  ", 32, report, required=True)
    assert report.problems[0].message == "is empty"


@pytest.mark.parametrize(("given_kana", "written"), [
    ("ヤマダ　タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"), ("やまだ たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"), ("ﾔﾏﾀﾞ ﾀﾛｳ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
    ("ヴァイオリン", "ｳﾞｧｲｵﾘﾝ"), ("ヶ丘", "ｹ丘"), ("パン・ケーキ", "ﾊﾟﾝ･ｹｰｷ"), ("ＡＢＣ商会", "ABC商会"),
])
def test_halfwidth_kana(given_kana: str, written: str) -> None:
    assert to_halfwidth_kana(given_kana) == written


def test_kana_column_refuses_kanji_by_leaving_it_blank_with_a_warning() -> None:
    report = TextReport()
    assert CarrierText().kana("shipping.name_kana", "山田タロウ", 50, report) == ""
    assert "not katakana" in report.warnings[0] and report.ok


def test_kana_column_is_cut_at_50_without_orphaning_a_dakuten() -> None:
    report = TextReport()
    written = CarrierText().kana("k", "ア" * 49 + "ガ", 50, report)
    assert written == "ｱ" * 49 and "shortened" in report.warnings[0]


def test_truncate_keeps_dakuten_with_its_base() -> None:
    assert truncate("ｶﾞｷﾞ", 3) == "ｶﾞ"
    assert truncate("ｶﾞ", 1) == ""


_texts = st.text(alphabet=st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
    st.sampled_from(list("〜−—𠮷髙﨑①㈱‖¢£¬ｶﾞﾟア山田髙ﾔﾏﾀﾞ \u3099\ufa10")),
), max_size=40)


@settings(max_examples=300, deadline=None)
@given(text=_texts, limit=st.integers(min_value=2, max_value=64),
       charset=st.sampled_from([Charset.JIS0208, Charset.CP932]))
def test_guard_output_always_encodes_and_fits(text: str, limit: int, charset: Charset) -> None:
    report = TextReport()
    written = CarrierText(charset).fit("f", text, limit, report)
    encoded = written.encode("cp932")  # strict
    assert len(encoded) <= limit
    assert all(in_charset(ch, charset) for ch in written)
    if report.ok:
        assert width(written) <= limit


@settings(max_examples=200, deadline=None)
@given(text=_texts)
def test_kana_output_is_halfwidth_katakana_or_blank(text: str) -> None:
    report = TextReport()
    written = CarrierText().kana("k", text, 50, report)
    assert len(written.encode("cp932")) <= 50
    assert all("\uff61" <= ch <= "\uff9f" or ch.isascii() for ch in written)
