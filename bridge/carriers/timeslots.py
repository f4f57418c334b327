"""Delivery time slots: the customer's label (CS-Cart.jp stores Japanese text) → one canonical slot → carrier code.

Labels arrive in many spellings: 14時～16時, 14時〜16時, １４時-１６時頃, 14:00-16:00, 14-16時. ``parse_slot``
folds them all to a canonical key (``"14-16"``, ``"am"``, ``"none"`` …); the rules map each key to a carrier code
(carriers.md §6).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from bridge.i18n import Text, _

NONE = "none"
MORNING = "am"  # 午前中 (8–12)
BEFORE_10 = "by-10"  # 午前10時まで (B2 タイム only)
BEFORE_17 = "by-17"  # 午後5時まで (B2 タイム only)

KNOWN_SLOTS = (NONE, MORNING, "12-14", "14-16", "16-18", "18-20", "19-21", "18-21", "20-21", BEFORE_10, BEFORE_17)

LABELS_JA = {
    NONE: "指定なし", MORNING: "午前中", "12-14": "12時～14時", "14-16": "14時～16時", "16-18": "16時～18時",
    "18-20": "18時～20時", "19-21": "19時～21時", "18-21": "18時～21時", "20-21": "20時～21時",
    BEFORE_10: "午前10時まで", BEFORE_17: "午後5時まで",
}

# carriers.md §6. Codes a carrier no longer sells are mapped on with a warning (see ``SlotTable.resolve``).
DEFAULT_CODES: dict[str, dict[str, str]] = {
    "yamato": {NONE: "", MORNING: "0812", "12-14": "1214", "14-16": "1416", "16-18": "1618", "18-20": "1820",
               "19-21": "1921", BEFORE_10: "0010", BEFORE_17: "0017"},
    "sagawa": {NONE: "", MORNING: "01", "12-14": "12", "14-16": "14", "16-18": "16", "18-20": "18", "19-21": "19",
               "18-21": "04"},
    # Our ゆうプリR filter converts these values (R-Waybill codes) to its 配達希望時間帯 items; see docs/carriers.md.
    "japanpost": {NONE: "", MORNING: "51", "12-14": "52", "14-16": "53", "16-18": "54", "18-20": "55",
                  "19-21": "57"},
}

# Slots a carrier stopped selling: still accepted, with a warning, as the slot in the value.
DEFAULT_REPLACED: dict[str, dict[str, str]] = {
    "yamato": {"20-21": "19-21"},
    "japanpost": {"20-21": "19-21"},
}
DEFAULT_DEPRECATED: dict[str, tuple[str, ...]] = {"yamato": ("12-14",)}

_DASHES = "~〜～-－ー―‐‑–—−ｰ"
_NONE_WORDS = {"", "指定なし", "なし", "希望なし", "指定無し", "無し", "特になし", "時間指定なし", "none"}
_RANGE = re.compile(r"^(\d{1,2})(?::00)?(?:時)?-(\d{1,2})(?::00)?(?:時)?$")
_MORNING = {"午前中", "午前", "am"}
_BEFORE = re.compile(r"^(午前|午後)?(\d{1,2})時?まで$")


class UnknownSlot(ValueError):
    """A label that matches no slot; the message says what was read."""

    def __init__(self, text: Text) -> None:
        super().__init__(text)
        self.text = text


def normalize_label(label: str) -> str:
    """Fold widths, dashes, spaces, 頃 and 指定 so spellings compare equal: '１４時〜１６時頃' → '14時-16時'."""
    text = unicodedata.normalize("NFKC", label).strip().lower()
    for dash in _DASHES:
        text = text.replace(dash, "-")
    text = "".join(text.split())
    for noise in ("頃", "ごろ", "ころ", "の間", "指定:", "時間帯:"):
        text = text.replace(noise, "")
    text = text.replace("から", "-").replace("〜", "-")
    return text.strip("-")


def parse_slot(label: str) -> str:
    """Canonical slot key of a customer label; raises ``UnknownSlot`` with the label when nothing matches."""
    text = normalize_label(label)
    found = _match(text)
    if found is None and "(" in text:  # 午前中(8時-12時): the words outside the brackets, else inside
        found = _match(_BRACKETS.sub("", text)) or next(
            (slot for inner in _BRACKETS.findall(text) if (slot := _match(inner.strip("()")))), None)
    if found is None:
        raise UnknownSlot(_("delivery time slot {label!r} is not one the bridge knows (known: {known})").format(
            label=label, known=", ".join(LABELS_JA[key] for key in KNOWN_SLOTS)))
    return found


_BRACKETS = re.compile(r"\([^()]*\)")


def _match(text: str) -> str | None:
    if text in _NONE_WORDS:
        return NONE
    if text in _MORNING:
        return MORNING
    match = _RANGE.match(text)
    if match:
        start, end = int(match.group(1)), int(match.group(2))
        if (start, end) == (8, 12):
            return MORNING
        key = f"{start}-{end}"
        if key in KNOWN_SLOTS:
            return key
    match = _BEFORE.match(text)
    if match:
        hour = int(match.group(2)) + (12 if match.group(1) == "午後" and int(match.group(2)) < 12 else 0)
        return {10: BEFORE_10, 17: BEFORE_17}.get(hour)
    return None


@dataclass(frozen=True, slots=True)
class SlotCode:
    slot: str  # canonical key actually used
    code: str
    warning: Text | None = None


@dataclass(frozen=True, slots=True)
class SlotTable:
    """One carrier's slot → code table with its replaced and deprecated slots."""

    carrier: str
    codes: Mapping[str, str]
    replaced: Mapping[str, str]
    deprecated: tuple[str, ...] = ()

    @classmethod
    def default(cls, carrier: str) -> SlotTable:
        return cls(carrier, DEFAULT_CODES[carrier], DEFAULT_REPLACED.get(carrier, {}),
                   DEFAULT_DEPRECATED.get(carrier, ()))

    def resolve(self, label: str) -> SlotCode:
        """Label → code; raises ``UnknownSlot`` when the label or the carrier cannot serve it."""
        slot = parse_slot(label)
        warning = None
        if slot in self.replaced:
            target = self.replaced[slot]
            warning = _("time slot {slot} is no longer sold by {carrier}; written as {target}").format(
                slot=LABELS_JA[slot], carrier=self.carrier, target=LABELS_JA[target])
            slot = target
        if slot not in self.codes:
            offered = ", ".join(LABELS_JA[key] for key in self.codes if key != NONE)
            raise UnknownSlot(_("{carrier} has no time slot {slot} (offers: {offered})").format(
                carrier=self.carrier, slot=LABELS_JA[slot], offered=offered))
        if slot in self.deprecated:
            warning = _("time slot {slot} is an old {carrier} slot; check the label prints it").format(
                slot=LABELS_JA[slot], carrier=self.carrier)
        return SlotCode(slot, self.codes[slot], warning)
