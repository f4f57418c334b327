"""Customer time-slot labels in every spelling → canonical slot → each carrier's code (carriers.md §6)."""

from __future__ import annotations

import pytest

from bridge.carriers.timeslots import SlotTable, UnknownSlot, normalize_label, parse_slot


@pytest.mark.parametrize(("label", "slot"), [
    ("指定なし", "none"), ("", "none"), ("  ", "none"), ("希望なし", "none"),
    ("午前中", "am"), ("午前中（8時～12時）", "am"), ("8時～12時", "am"), ("AM", "am"),
    ("12時～14時", "12-14"), ("14時～16時", "14-16"), ("14時〜16時", "14-16"), ("14時-16時", "14-16"),
    ("１４時～１６時", "14-16"), ("14時ー16時", "14-16"), ("14時－16時頃", "14-16"), ("14:00-16:00", "14-16"),
    ("14-16時", "14-16"), ("14時から16時", "14-16"), ("１６時〜１８時頃", "16-18"), ("18時～20時", "18-20"),
    ("19時～21時", "19-21"), ("18時～21時", "18-21"), ("20時～21時", "20-21"),
    ("午前10時まで", "by-10"), ("午後5時まで", "by-17"),
])
def test_label_spellings(label: str, slot: str) -> None:
    assert parse_slot(label) == slot


def test_normalize_label_folds_widths_dashes_and_koro() -> None:
    assert normalize_label("１４時 〜 １６時頃") == "14時-16時"


@pytest.mark.parametrize("label", ["夜間", "13時～15時", "いつでも", "25時～26時"])
def test_unknown_labels_are_refused_with_the_known_ones(label: str) -> None:
    with pytest.raises(UnknownSlot, match="known: 指定なし, 午前中"):
        parse_slot(label)


@pytest.mark.parametrize(("carrier", "codes"), [
    ("yamato", {"午前中": "0812", "12時～14時": "1214", "14時～16時": "1416", "16時～18時": "1618",
                "18時～20時": "1820", "19時～21時": "1921", "午前10時まで": "0010", "午後5時まで": "0017"}),
    ("sagawa", {"午前中": "01", "12時～14時": "12", "14時～16時": "14", "16時～18時": "16", "18時～20時": "18",
                "19時～21時": "19", "18時～21時": "04"}),
    ("japanpost", {"午前中": "51", "12時～14時": "52", "14時～16時": "53", "16時～18時": "54", "18時～20時": "55",
                   "19時～21時": "57"}),
])
def test_carrier_codes(carrier: str, codes: dict[str, str]) -> None:
    table = SlotTable.default(carrier)
    assert {label: table.resolve(label).code for label in codes} == codes
    assert table.resolve("指定なし").code == ""


def test_abolished_20_21_is_written_as_19_21_with_a_warning() -> None:
    for carrier in ("yamato", "japanpost"):
        resolved = SlotTable.default(carrier).resolve("20時～21時")
        assert resolved.slot == "19-21" and "no longer sold" in resolved.warning


def test_yamato_12_14_is_accepted_with_a_warning() -> None:
    resolved = SlotTable.default("yamato").resolve("12時～14時")
    assert resolved.code == "1214" and "old yamato slot" in resolved.warning


def test_slot_the_carrier_does_not_offer_is_refused_naming_its_offer() -> None:
    with pytest.raises(UnknownSlot, match="yamato has no time slot 18時～21時 .offers: 午前中"):
        SlotTable.default("yamato").resolve("18時～21時")
    with pytest.raises(UnknownSlot, match="sagawa has no time slot 20時～21時"):
        SlotTable.default("sagawa").resolve("20時～21時")
