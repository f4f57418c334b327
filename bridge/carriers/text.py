"""Carrier text guard: what a label printer can hold, in the carrier's own units.

Every value written to a label file passes through ``CarrierText``: a substitution table first (〜 → ～,
— → ―, 髙 → 高, ① → 1 …, carriers.md §7), then a strict check that the character exists in the carrier's
character set (JIS X 0208 for B2クラウド, CP932 otherwise). Substitutions and problems are collected in a
``TextReport`` so the caller can log each one and refuse a row that cannot be made valid.

Widths are counted in half-width units, which for CP932 text is its byte length: a 全角16 limit is 32.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

import jaconv

from bridge.i18n import Text, _

# carriers.md §7 plus the usual 機種依存文字; every value here is JIS X 0208 (a test checks it).
DEFAULT_TEXT_MAP: dict[str, str] = {
    # Code points that change on a CP932 round trip: write the form that reads back the same.
    "〜": "～", "−": "－", "‖": "∥", "¢": "￠", "£": "￡", "¬": "￢",
    # Not encodable in CP932 at all.
    "—": "―", "–": "－", "𠮷": "吉", "\u00a0": " ", "\u200b": "", "\ufeff": "",
    # CP932 extensions (NEC/IBM) that are not JIS X 0208.
    "髙": "高", "﨑": "崎", "\ufa10": "塚", "德": "徳", "濵": "濱", "栁": "柳", "琇": "秀", "\uf9dc": "隆",
    "\ufa19": "神",
    "①": "1", "②": "2", "③": "3", "④": "4", "⑤": "5", "⑥": "6", "⑦": "7", "⑧": "8", "⑨": "9", "⑩": "10",
    "⑪": "11", "⑫": "12", "⑬": "13", "⑭": "14", "⑮": "15", "⑯": "16", "⑰": "17", "⑱": "18", "⑲": "19",
    "⑳": "20",
    "Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "Ⅴ": "V", "Ⅵ": "VI", "Ⅶ": "VII", "Ⅷ": "VIII", "Ⅸ": "IX",
    "Ⅹ": "X", "ⅰ": "i", "ⅱ": "ii", "ⅲ": "iii", "ⅳ": "iv", "ⅴ": "v",
    "㈱": "(株)", "㈲": "(有)", "㈹": "(代)", "㍿": "株式会社", "№": "No.", "℡": "TEL", "㏍": "KK",
    "㎏": "kg", "㎝": "cm", "㎜": "mm", "㎞": "km", "㎡": "m2", "㍉": "ミリ", "㌔": "キロ", "㌢": "センチ",
    "㍍": "メートル", "㌘": "グラム", "㌧": "トン", "㍑": "リットル",
    "＂": "”", "＇": "’", "￤": "｜", "¦": "｜",
}

# Characters a CS-Cart database may have turned a lost (non-BMP) character into (cscart.md §4.1).
_LOST_MARKERS = ("?", "？")


class Charset(str, Enum):
    JIS0208 = "jis0208"  # B2クラウド: "JIS第一・第二水準のみ" (plus ASCII and half-width katakana)
    CP932 = "cp932"


@dataclass(frozen=True, slots=True)
class Substitution:
    field: str
    original: str
    replacement: str

    def __str__(self) -> str:
        return (f"{self.field}: {self.original!r} (U+{ord(self.original[0]):04X}) written as "
                f"{self.replacement!r}")


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """Why a value cannot be written, and what the operator does about it."""

    field: str
    message: Text
    fix: Text

    def __str__(self) -> str:
        return self.text()

    def text(self) -> Text:
        return _("{field}: {problem}; {fix}").format(field=self.field, problem=self.message, fix=self.fix)


@dataclass(slots=True)
class TextReport:
    """Collects what happened to one label row: substitutions (logged), warnings, problems (row refused)."""

    substitutions: list[Substitution] = field(default_factory=list)
    warnings: list[Text] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)

    def problem(self, field_name: str, message: Text, fix: Text) -> None:
        self.problems.append(FieldProblem(field_name, message, fix))

    @property
    def ok(self) -> bool:
        return not self.problems


def width(text: str) -> int:
    """Width in half-width units (= CP932 bytes) of text the guard has already cleaned."""
    return len(text.encode("cp932"))


def char_width(ch: str) -> int:
    try:
        return len(ch.encode("cp932"))
    except UnicodeEncodeError:
        return 2


def in_charset(ch: str, charset: Charset) -> bool:
    """Whether one character can be written; JIS X 0208 is checked on the bytes CP932 would write."""
    try:
        encoded = ch.encode("cp932")
    except UnicodeEncodeError:
        return False
    if charset is Charset.CP932:
        return True
    try:  # Python's shift_jis is exactly JIS X 0201 + JIS X 0208; NEC/IBM extension bytes do not decode
        encoded.decode("shift_jis")
    except UnicodeDecodeError:
        return False
    return True


def to_fullwidth(text: str) -> str:
    """ASCII, digits and half-width kana as 全角 (what e飛伝Ⅲ counts in)."""
    return jaconv.h2z(text, kana=True, ascii=True, digit=True)


def truncate(text: str, limit: int) -> str:
    """The longest prefix within ``limit`` half-width units, never ending on a base without its (han)dakuten."""
    out: list[str] = []
    used = 0
    for ch in text:
        w = char_width(ch)
        if used + w > limit:
            if out and ch in "ﾞﾟ\u3099\u309a":  # the cut would separate a base from its mark: drop both
                out.pop()
            break
        out.append(ch)
        used += w
    return "".join(out)


class CarrierText:
    """The guard for one carrier: its character set and substitution table."""

    def __init__(self, charset: Charset = Charset.JIS0208, table: Mapping[str, str] | None = None,
                 carrier: str = "") -> None:
        self.charset = charset
        self.carrier = carrier or "the carrier"
        self._table = dict(DEFAULT_TEXT_MAP if table is None else table)

    def clean(self, field_name: str, text: str, report: TextReport, *, check_lost: bool = False) -> str:
        """Substitute, then drop (and report) what the charset cannot hold; the result always encodes."""
        if not text:
            return ""
        text = "".join(" " if ch in "\r\n\t\v\f" else ch for ch in text)
        if any(unicodedata.combining(ch) for ch in text):
            text = _compose_marks(field_name, text, report)
        out: list[str] = []
        for ch in text:
            replacement = self._table.get(ch)
            if replacement is None and unicodedata.normalize("NFC", ch) != ch:
                replacement = unicodedata.normalize("NFC", ch)  # 互換漢字 and the like: canonical twin
            if replacement is not None:
                report.substitutions.append(Substitution(field_name, ch, replacement))
                ch = replacement
            for part in ch:
                if in_charset(part, self.charset):
                    out.append(part)
                else:
                    report.problem(
                        field_name,
                        _("character {part!r} (U+{value:04X}) cannot be printed by {carrier} ({value2})").format(
                            part=part, value=ord(part), carrier=self.carrier, value2=self.charset.value),
                        _("correct it in the order, or add it to text_map in rules/shipping.yaml"),
                    )
        cleaned = "".join(out)
        if check_lost and any(marker in cleaned for marker in _LOST_MARKERS):
            report.warnings.append(
                _("{field_name}: {cleaned!r} contains '?', which may be a character CS-Cart could not store; check "
                  "it against the customer's input").format(field_name=field_name, cleaned=cleaned)
            )
        return cleaned

    def fit(self, field_name: str, text: str, limit: int, report: TextReport, *, required: bool = False,
            check_lost: bool = False) -> str:
        """Clean ``text`` and refuse it (report a problem) when it is longer than ``limit`` half-width units."""
        cleaned = self.clean(field_name, text.strip(), report, check_lost=check_lost).strip()
        if required and not cleaned:
            report.problem(field_name, _("is empty"), _("fill it in on the order (it is required on the label)"))
        if width(cleaned) > limit:
            report.problem(
                field_name,
                _("{cleaned!r} is {value} half-width units wide, {carrier} allows {limit} (全角{value2})").format(
                    cleaned=cleaned, value=width(cleaned), carrier=self.carrier, limit=limit, value2=limit // 2),
                _("shorten it on the order"),
            )
            return truncate(cleaned, limit)
        return cleaned

    def shorten(self, field_name: str, text: str, limit: int, report: TextReport) -> str:
        """Clean and cut to ``limit`` with a warning: for descriptive columns (品名) where a cut is harmless."""
        cleaned = self.clean(field_name, text.strip(), report).strip()
        if width(cleaned) > limit:
            cut = truncate(cleaned, limit)
            report.warnings.append(_("{field_name}: {cleaned!r} shortened to {cut!r} ({limit} half-width units)")
                                   .format(field_name=field_name, cleaned=cleaned, cut=cut, limit=limit))
            return cut
        return cleaned

    def kana(self, field_name: str, text: str, limit: int, report: TextReport) -> str:
        """A カナ column: half-width katakana only; anything else leaves the column blank, with a warning."""
        converted = to_halfwidth_kana(text.strip())
        if not converted:
            return ""
        bad = sorted({ch for ch in converted if not _is_kana_column_char(ch)})
        if bad:
            report.warnings.append(
                _("{field_name}: {text!r} is not katakana (has {items!r}); column left blank").format(
                    field_name=field_name, text=text, items=''.join(bad))
            )
            return ""
        if width(converted) > limit:
            cut = truncate(converted, limit)
            report.warnings.append(_("{field_name}: {converted!r} shortened to {cut!r} ({limit} characters)").format(
                                       field_name=field_name, converted=converted, cut=cut, limit=limit))
            return cut
        return converted


def _compose_marks(field_name: str, text: str, report: TextReport) -> str:
    """か + U+3099 → が: only the pairs are composed (and reported), nothing else is normalised."""
    out: list[str] = []
    for ch in text:
        if out and unicodedata.combining(ch):
            pair = out[-1] + ch
            composed = unicodedata.normalize("NFC", pair)
            if len(composed) == 1:
                report.substitutions.append(Substitution(field_name, pair, composed))
                out[-1] = composed
                continue
        out.append(ch)
    return "".join(out)


# Small katakana with no half-width form, and kana that have none either.
_KANA_FOLD = str.maketrans({"ヵ": "カ", "ヶ": "ケ", "ヮ": "ワ", "ヰ": "イ", "ヱ": "エ", "ゎ": "わ", "ゐ": "い", "ゑ": "え",
                            "　": " "})


def to_halfwidth_kana(text: str) -> str:
    """ﾔﾏﾀﾞ ﾀﾛｳ from やまだ　たろう / ヤマダ タロウ; full-width letters and digits become ASCII."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).translate(_KANA_FOLD)
    return jaconv.z2h(jaconv.hira2kata(text), kana=True, ascii=True, digit=True)


def _is_kana_column_char(ch: str) -> bool:
    return "\uff61" <= ch <= "\uff9f" or (ch.isascii() and (ch.isalnum() or ch in " ()-./"))
