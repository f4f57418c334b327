"""Width folding and normalisation of the text SMILE files carry (codes, headers, kana, postcodes)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import jaconv

# Dash look-alikes in hand-typed postcodes and phones; NFKC leaves 'ー' (U+30FC) alone, so it is listed here.
_DASHES = "-‐‑‒–—―−－ーｰ"
_POSTCODE_STRIP = re.compile(f"[〒\\s{re.escape(_DASHES)}]")


def normalize_header(text: str) -> str:
    """Header cell → comparison key: NFKC (ｺｰﾄﾞ = コード, ランク１ = ランク1, № = No), no spaces, case folded."""
    folded = unicodedata.normalize("NFKC", text.replace("\ufeff", ""))
    return "".join(folded.split()).casefold()


def fold_code(text: str) -> str:
    """Codes are compared as ASCII: full-width digits and letters become half-width, spaces go.

    Raises ``ValueError`` for a control or format character (NUL, a line break, a stray BOM): such a code would
    never match the same code typed elsewhere.
    """
    code = text.strip() if text.isascii() else unicodedata.normalize("NFKC", text).strip()
    if not code.isprintable():
        from bridge.i18n import _

        raise ValueError(_("the code contains a control character, line break or invisible character"))
    return code


def fold_codes(cells: Sequence[str]) -> list[str] | None:
    """``fold_code`` over a column at C speed when every cell is printable ASCII; None when one is not (the caller
    then folds cell by cell, which also names the bad cell)."""
    joined = "".join(cells)
    if not joined.isascii():
        return None
    if joined.isprintable():  # no control character anywhere, and the only ASCII space strip() removes is " "
        return list(map(str.strip, cells)) if " " in joined else list(cells)
    codes = list(map(str.strip, cells))
    return codes if all(map(str.isprintable, codes)) else None


_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]+")
_HIRAGANA = re.compile("[\u3041-\u3096]")
_HIRA_TO_KATA = {code: code + 0x60 for code in range(0x3041, 0x3097)}


def _widen_kana(match: re.Match[str]) -> str:
    # NFKC on the half-width run only: it widens ｶ and composes ｶﾞ → ガ, leaving the rest of the text as typed.
    return unicodedata.normalize("NFKC", match[0])


def fold_name(text: str) -> str:
    """Names keep 全角 but half-width katakana become full-width (ﾃｽﾄ → テスト); ASCII is left as typed."""
    text = text.strip()
    if text.isascii() or max(text) < "\uff61" or not _HALFWIDTH_KANA.search(text):
        return text
    return _HALFWIDTH_KANA.sub(_widen_kana, text)


def fold_kana(text: str) -> str:
    """フリガナ as the domain stores it: 全角カタカナ (half-width and hiragana folded)."""
    text = fold_name(text)
    if text.isascii() or min(text) > "\u3096" or not _HIRAGANA.search(text):
        return text
    return text.translate(_HIRA_TO_KATA)


_SEPARATOR = "\x1e"  # joins a column's cells for one pass over the text; never produced by the folds


def fold_names(cells: Sequence[str]) -> list[str]:
    """``fold_name`` over a column: one regex pass over the joined cells instead of a call per cell."""
    names = list(map(str.strip, cells))
    joined = _SEPARATOR.join(names)
    if joined.isascii() or max(joined, default="") < "\uff61" or not _HALFWIDTH_KANA.search(joined):
        return names
    if joined.count(_SEPARATOR) != len(names) - 1:  # a cell holds the separator itself
        return list(map(fold_name, cells))
    return _HALFWIDTH_KANA.sub(_widen_kana, joined).split(_SEPARATOR)


def fold_kanas(cells: Sequence[str]) -> list[str]:
    """``fold_kana`` over a column."""
    names = fold_names(cells)
    joined = _SEPARATOR.join(names)
    if joined.isascii() or min(joined) > "\u3096" or not _HIRAGANA.search(joined):
        return names
    if joined.count(_SEPARATOR) != len(names) - 1:
        return list(map(fold_kana, cells))
    return joined.translate(_HIRA_TO_KATA).split(_SEPARATOR)


def to_halfwidth_kana(text: str) -> str:
    """What SMILE's 索引 columns hold: half-width katakana and ASCII."""
    return jaconv.z2h(jaconv.hira2kata(text), kana=True, ascii=True, digit=True)


def normalize_postcode(text: str) -> str:
    """'〒100－0001', '１００ー０００１' → '1000001'; raises ``ValueError`` unless 7 digits remain."""
    digits = _POSTCODE_STRIP.sub("", unicodedata.normalize("NFKC", text))
    if len(digits) != 7 or not digits.isdigit():
        raise ValueError(f"not a 7-digit postcode: {text!r}")
    return digits


def display_width(text: str) -> int:
    """Length in half-width units: full-width (and ambiguous CJK) characters count 2."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "FWA" else 1 for ch in text)


def jan_check_digit(body: str) -> str:
    """GS1 check digit of the digits before it (JAN-8 / JAN-13): weights 3, 1, 3 … from the right."""
    total = 3 * sum(map(int, body[::-1][::2])) + sum(map(int, body[::-1][1::2]))
    return str((10 - total % 10) % 10)


def valid_jan(code: str) -> bool:
    if len(code) not in (8, 13) or not code.isascii() or not code.isdigit():
        return False
    # Sum over the ASCII bytes (C speed), minus the '0' offsets: weights 3, 1, 3 … leftwards from the check digit.
    raw = code.encode("ascii")
    threes, ones = raw[-2::-2], raw[-3::-2]
    total = 3 * (sum(threes) - 48 * len(threes)) + sum(ones) - 48 * len(ones)
    return (10 - total % 10) % 10 == raw[-1] - 48
