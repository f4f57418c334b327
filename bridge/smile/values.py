"""Cell text ↔ typed value, per field kind; parsers raise ``ValueError`` whose message explains the problem.

Parsers are built once per file (``parser_for``) and keep small caches: prices, quantities and dates repeat a lot
in a 100k-row master, and one shared ``Decimal``/``date`` per distinct text keeps memory and time down.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.domain.money import Rounding
from bridge.domain.time import JST
from bridge.i18n import N_, _
from bridge.smile.layout import FileLayout
from bridge.smile.schema import ROUNDING_WRITE, FieldSpec
from bridge.smile.text import (
    fold_code,
    fold_codes,
    fold_kana,
    fold_kanas,
    fold_name,
    fold_names,
    normalize_postcode,
    valid_jan,
)

Parser = Callable[[str], Any]
# Parses one column of a chunk at once, or returns None to fall back to the cell parser (which explains a bad cell).
ColumnParser = Callable[[Sequence[str]], list[Any] | None]

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_INT = re.compile(r"-?\d+")
_SLASH_DATE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
_CACHE_LIMIT = 100_000
_NO_DATE = {"0", "00000000", "0000/00/00"}

FIXES = {
    "code": N_("remove the invisible character from the code in SMILE (retype it) and export the file again"),
    "decimal": N_("write a plain number such as 1200 or 12.5 (digits, optional minus sign and decimal point)"),
    "int": N_("write a whole number such as 3"),
    "date": N_("write the date as {date_format}, e.g. {example}, or leave the cell empty"),
    "datetime": N_("write YYYYMMDD or YYYYMMDDhhmmss, e.g. 20261124093000"),
    "choice": N_("use one of: {choices}"),
    "jan": N_("write the 8- or 13-digit JAN with its check digit, or leave the cell empty"),
    "postcode": N_("write the 7-digit postcode, e.g. 1000001 or 100-0001"),
    "phone": N_("write a Japanese phone number starting with 0, e.g. 03-1234-5678"),
    "range": N_("correct the value in SMILE and export the file again"),
    "required": N_("fill in this column; every row needs it"),
}


def fix_for(spec: FieldSpec, layout: FileLayout) -> str:
    example = "20261124" if layout.date_format == "YYYYMMDD" else "2026/11/24"
    choices = ", ".join(spec.choices or ())
    return _(FIXES.get(spec.kind, FIXES["range"])).format(
        date_format=layout.date_format, example=example, choices=choices
    )


class OutOfRange(ValueError):
    """A well-formed value outside the field's limits (negative price, rank 7)."""


def _bounded(spec: FieldSpec) -> Callable[[Decimal], Decimal]:
    low, high, whole = spec.minimum, spec.maximum, spec.whole

    def check(value: Decimal) -> Decimal:
        if low is not None and value < low:
            raise OutOfRange(_("must not be negative") if low == 0 else _("must be at least {low}").format(low=low))
        if high is not None and value > high:
            raise OutOfRange(_("must be at most {high:,}").format(high=high))
        if whole and value != value.to_integral_value():
            raise OutOfRange(_("{value} must be a whole number (CS-Cart keeps stock in whole pieces)").format(
                value=value))
        return value

    return check


def _decimal_text(spec: FieldSpec, layout: FileLayout) -> Parser:
    """The decimal of one cell's text (no cache): plain numbers, or full-width, ▲/△ and grouped ones normalised."""
    check = _bounded(spec)
    grouping = layout.thousands_separator
    low, high = spec.minimum, spec.maximum

    def parse(text: str) -> Decimal | None:
        if text.isdigit() and text.isascii():  # a plain whole number, most cells: whole by construction
            value = Decimal(text)
            if (high is None or value <= high) and (low is None or value >= low):
                return value
            return check(value)  # out of range: raises, naming the limit
        if not text:
            return None
        clean = text.strip()
        if not clean:
            return None
        if not _NUMBER.fullmatch(clean):
            clean = unicodedata.normalize("NFKC", clean).replace("▲", "-").replace("△", "-").replace(" ", "")
            if grouping:
                clean = clean.replace(",", "")
            clean = clean.removeprefix("+")
            if not _NUMBER.fullmatch(clean):
                raise ValueError(_("not a number"))
        try:
            return check(Decimal(clean))
        except InvalidOperation:
            raise ValueError(_("not a number")) from None

    return parse


def _decimal_parser(spec: FieldSpec, layout: FileLayout) -> Parser:
    cache: dict[str, Decimal] = {}
    uncached = _decimal_text(spec, layout)

    def parse(text: str) -> Decimal | None:
        hit = cache.get(text)
        if hit is not None:
            return hit
        value: Decimal | None = uncached(text)
        if value is not None and len(cache) < _CACHE_LIMIT:
            cache[text] = value
        return value

    return parse


class _KnownDecimals(dict[str, Decimal | None]):
    """Cell text → Decimal, the texts not seen yet parsed on first lookup (``__missing__``): a whole column goes
    through one C-level ``map(known.__getitem__, cells)``, with a Python call only for a text never seen before."""

    __slots__ = ("parse",)

    def __init__(self, parse: Parser) -> None:
        super().__init__()
        self.parse = parse

    def __missing__(self, text: str) -> Decimal | None:
        value: Decimal | None = self.parse(text)  # ValueError for a bad cell: the cell path then names it
        self[text] = value
        return value


def _int_parser(spec: FieldSpec, layout: FileLayout) -> Parser:
    check = _bounded(spec)

    def parse(text: str) -> int | None:
        clean = unicodedata.normalize("NFKC", text).strip()
        if not clean:
            return None
        if not _INT.fullmatch(clean):
            raise ValueError(_("not a whole number"))
        return int(check(Decimal(clean)))

    return parse


def _date_parser(spec: FieldSpec, layout: FileLayout) -> Parser:
    cache: dict[str, date | None] = {}
    slashed = layout.date_format == "YYYY/MM/DD"

    def parse(text: str) -> date | None:
        if not text:
            return None
        if text in cache:
            return cache[text]
        clean = unicodedata.normalize("NFKC", text).strip()
        if not clean or clean in _NO_DATE:
            value = None
        else:
            try:
                if slashed:
                    match = _SLASH_DATE.fullmatch(clean)
                    if not match:
                        raise ValueError
                    value = date(int(match[1]), int(match[2]), int(match[3]))
                else:
                    if len(clean) != 8 or not clean.isdigit():
                        raise ValueError
                    value = date(int(clean[:4]), int(clean[4:6]), int(clean[6:]))
            except ValueError:
                raise ValueError(_("not a date in the form {format}").format(format=layout.date_format)) from None
        if len(cache) < _CACHE_LIMIT:
            cache[text] = value
        return value

    return parse


def _datetime_parser(spec: FieldSpec, layout: FileLayout) -> Parser:
    cache: dict[str, datetime | None] = {}

    def parse(text: str) -> datetime | None:
        if not text:
            return None
        if text in cache:
            return cache[text]
        digits = re.sub(r"[/:\s-]", "", unicodedata.normalize("NFKC", text))
        value: datetime | None = None
        try:
            if not digits or digits in _NO_DATE:
                value = None
            elif len(digits) in (8, 14) and digits.isdigit():
                parts = [int(digits[a:b]) for a, b in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14))
                         if b <= len(digits)]
                value = datetime(*parts, tzinfo=JST)  # type: ignore[misc, arg-type]
            else:
                raise ValueError
        except (ValueError, TypeError):
            raise ValueError(_("not a date (YYYYMMDD) or date and time (YYYYMMDDhhmmss)")) from None
        if len(cache) < _CACHE_LIMIT:
            cache[text] = value
        return value

    return parse


def _flag_parser(spec: FieldSpec, layout: FileLayout, false_values: tuple[str, ...]) -> Parser:
    falses = {unicodedata.normalize("NFKC", v).strip().casefold() for v in false_values}

    def parse(text: str) -> bool | None:
        if not text or text.isspace():
            return None
        return unicodedata.normalize("NFKC", text).strip().casefold() not in falses

    return parse


def _choice_parser(spec: FieldSpec, layout: FileLayout) -> Parser:
    choices = {unicodedata.normalize("NFKC", k).strip(): v for k, v in (spec.choices or {}).items()}

    def parse(text: str) -> Any:
        key = unicodedata.normalize("NFKC", text).strip()
        if not key:
            return None
        if key not in choices:
            raise ValueError(_("not one of the known codes"))
        return choices[key]

    return parse


def _jan(text: str) -> str | None:
    code = fold_code(text)
    if not code:
        return None
    if not valid_jan(code):
        raise ValueError(_("not a valid JAN (8 or 13 digits with a correct check digit)"))
    return code


def _phone(text: str) -> str | None:
    clean = unicodedata.normalize("NFKC", text).strip().replace("ー", "-").replace("−", "-")
    if not clean:
        return None
    digits = "".join(ch for ch in clean if ch.isdigit())
    if not (digits.startswith("0") and 10 <= len(digits) <= 11) or not re.fullmatch(r"[\d()\- ]+", clean):
        raise ValueError(_("not a Japanese phone number (10 or 11 digits starting with 0)"))
    return clean


def _postcode(text: str) -> str | None:
    return normalize_postcode(text) if text and not text.isspace() else None


_SIMPLE: dict[str, Parser] = {
    "code": fold_code,
    "text": fold_name,
    "plain": str.strip,
    "kana": fold_kana,
    "jan": _jan,
    "postcode": _postcode,
    "phone": _phone,
}


def parser_for(spec: FieldSpec, layout: FileLayout, false_values: tuple[str, ...] | None = None) -> Parser:
    """The parser of one non-empty cell; empty cells are handled by the reader (None / required)."""
    if spec.kind in _SIMPLE:
        return _SIMPLE[spec.kind]
    if spec.kind == "decimal":
        return _decimal_parser(spec, layout)
    if spec.kind == "int":
        return _int_parser(spec, layout)
    if spec.kind == "date":
        return _date_parser(spec, layout)
    if spec.kind == "datetime":
        return _datetime_parser(spec, layout)
    if spec.kind == "flag":
        return _flag_parser(spec, layout, false_values if false_values is not None else spec.false_values)
    if spec.kind == "choice":
        return _choice_parser(spec, layout)
    raise ValueError(f"unknown field kind {spec.kind!r}")


def column_parser_for(spec: FieldSpec, layout: FileLayout,
                      shared: dict[tuple[Any, ...], _KnownDecimals] | None = None) -> ColumnParser | None:
    """A whole-column parser for kinds where C-level passes beat a call per cell: plain decimals, and codes, names,
    kana and JANs (which ``fold_codes`` and friends fold in one pass).

    Decimal columns with the same limits may share one table of known texts (``shared``, one per file): the eight
    price columns of a 商品マスター hold the same few thousand prices.
    """
    if spec.kind == "code":
        return fold_codes
    if spec.kind == "text":
        return fold_names
    if spec.kind == "kana":
        return fold_kanas
    if spec.kind == "jan":
        return jan_column
    if spec.kind != "decimal":
        return None
    low, high = spec.minimum, spec.maximum
    # grows over the file: each distinct text becomes one Decimal
    fresh = _KnownDecimals(_decimal_text(spec, layout))
    fresh[""] = None
    known = fresh if shared is None else shared.setdefault((low, high, spec.whole), fresh)
    if known is fresh:  # small whole numbers (quantities, most stock cells) are known from the first chunk on
        fresh.update((text, value) for text, value in _SMALL.items()
                     if (low is None or value >= low) and (high is None or value <= high))
    lookup = known.__getitem__

    def parse_column(cells: Sequence[str]) -> list[Any] | None:
        try:
            return list(map(lookup, cells))  # once the file's prices are known, one C-level pass
        except ValueError:
            return None  # something to reject: the cell parser names the cell

    return parse_column


def jan_column(cells: Sequence[str]) -> list[str | None] | None:
    """``_jan`` over a column when every cell is empty or a valid JAN; None when one is not (the cell parser then
    names it). The check digits are verified a column at a time (``_check_digits_hold``)."""
    codes = fold_codes(cells)
    if codes is None:
        return None
    filled = list(filter(None, codes))
    joined = "".join(filled)
    if not joined.isdigit():  # ASCII (fold_codes) digits only
        return None if joined else [None] * len(codes)
    lengths = set(map(len, filled))
    if not lengths <= {8, 13}:
        return None
    for length in lengths:
        same = filled if len(lengths) == 1 else [code for code in filled if len(code) == length]
        if not _check_digits_hold(same, length):
            return None
    if len(filled) == len(codes):  # every cell holds a JAN
        every: list[str | None] = list(codes)
        return every
    return [code or None for code in codes]


_DIGIT_VALUES = bytes.maketrans(b"0123456789", bytes(range(10)))
_MULTIPLES_OF_TEN = bytes(range(0, 256, 10))


def _check_digits_hold(codes: list[str], length: int) -> bool:
    """Whether every one of ``codes`` (ASCII digits, each ``length`` long: 8 or 13) has a correct GS1 check digit.

    Weights from the right are 1 (the check digit), 3, 1, 3 …; a code is valid when its weighted digit sum is a
    multiple of 10. The sums of all codes are taken at once, with no Python step per code: digit position ``p`` of
    every code is one byte string (a slice of the joined digits), read as one big integer with a byte per code;
    adding those integers, each times its weight, adds the codes' digits lane by lane, and no lane carries into the
    next (at most 7·9 + 6·3·9 = 225 < 256), so the bytes of the total are the codes' sums.
    """
    if not codes:
        return True
    digits = "".join(codes).encode("ascii").translate(_DIGIT_VALUES)
    total = 0
    for position in range(length):
        weight = 3 if (length - 1 - position) % 2 else 1
        total += weight * int.from_bytes(digits[position::length], "big")
    sums = total.to_bytes(len(codes), "big")
    return not sums.translate(None, _MULTIPLES_OF_TEN)  # every sum removed: all multiples of 10


# "0" … "1023" as the Decimals the cell parser makes of them (Decimal(7) == Decimal("7"), exponent 0 both)
_SMALL: dict[str, Decimal] = {str(number): Decimal(number) for number in range(1024)}


def format_value(spec: FieldSpec, value: Any, layout: FileLayout, false_values: tuple[str, ...] | None = None) -> str:
    """The cell text the reader turns back into ``value`` (generator, round-trip tests)."""
    if value is None:
        return ""
    if spec.kind == "date":
        day: date = value
        return day.strftime(layout.strptime_format)
    if spec.kind == "datetime":
        moment: datetime = value
        return moment.astimezone(JST).strftime("%Y%m%d%H%M%S")
    if spec.kind == "flag":
        falses = false_values if false_values is not None else spec.false_values
        return "0" if value else falses[0]
    if spec.kind == "choice":
        if isinstance(value, Rounding):
            return ROUNDING_WRITE[value]
        return str(value)
    if spec.kind == "decimal" and layout.decimal_places is not None:
        return f"{value:.{layout.decimal_places}f}"
    return str(value)
