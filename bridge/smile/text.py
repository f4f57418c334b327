"""Width folding and normalisation of the text SMILE files carry (codes, headers, kana, postcodes)."""

from __future__ import annotations

import re
import unicodedata

import jaconv

# Dash look-alikes in hand-typed postcodes and phones; NFKC leaves 'ー' (U+30FC) alone, so it is listed here.
_DASHES = "-‐‑‒–—―−－ーｰ"
_POSTCODE_STRIP = re.compile(f"[〒\\s{re.escape(_DASHES)}]")


def normalize_header(text: str) -> str:
    """Header cell → comparison key: NFKC (ｺｰﾄﾞ = コード, ランク１ = ランク1, № = No), no spaces, case folded."""
    folded = unicodedata.normalize("NFKC", text.replace("\ufeff", ""))
    return "".join(folded.split()).casefold()


def fold_code(text: str) -> str:
    """Codes are compared as ASCII: full-width digits and letters become half-width, spaces go."""
    if text.isascii():
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


def fold_name(text: str) -> str:
    """Names keep 全角 but half-width katakana become full-width (ﾃｽﾄ → テスト); ASCII is left as typed."""
    text = text.strip()
    if text.isascii():
        return text
    return jaconv.h2z(text, kana=True, ascii=False, digit=False)


def fold_kana(text: str) -> str:
    """フリガナ as the domain stores it: 全角カタカナ (half-width and hiragana folded)."""
    text = text.strip()
    if not text or text.isascii():
        return text
    return jaconv.hira2kata(jaconv.h2z(text, kana=True, ascii=False, digit=False))


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
    """GS1 check digit of the digits before it (JAN-8 / JAN-13)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def valid_jan(code: str) -> bool:
    return len(code) in (8, 13) and code.isdigit() and jan_check_digit(code[:-1]) == code[-1]
