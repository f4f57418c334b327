"""Tracking numbers (伝票番号): shape, 7DR check digit, and the carriers' tracking URLs (carriers.md §4–5)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from bridge.i18n import _

DOMESTIC_CARRIERS = ("yamato", "sagawa", "japanpost")

# carriers.md §4; the rules may add carriers (e.g. 福山通運) or replace a template.
# The carriers' names as customers know them (shipment comments, the customer mails).
CARRIER_NAMES: dict[str, str] = {"yamato": "ヤマト運輸", "sagawa": "佐川急便", "japanpost": "日本郵便"}

DEFAULT_TRACKING_URLS: dict[str, str] = {
    "yamato": "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id={no}",
    "sagawa": "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo={no}",
    "japanpost": "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={no}"
                 "&searchKind=S002&locale=ja",
}

_SEPARATORS = re.compile(r"[\s\-‐－ー―]")
_S10 = re.compile(r"^[A-Z]{2}\d{9}[A-Z]{2}$")
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def normalize_number(raw: str) -> str:
    """'3897-1107-4012', '３８９７ １１０７ ４０１２' → '389711074012'."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()


def check_7dr(digits: str) -> bool:
    """The 7DR check: the first 11 digits modulo 7 equal the last digit."""
    return len(digits) == 12 and digits.isdigit() and int(digits[:11]) % 7 == int(digits[11])


def check_s10(number: str) -> bool:
    """UPU S10 (international, e.g. EMS ``EE123456785JP``) mod-11 check digit."""
    body = number[2:10]
    total = sum(int(d) * w for d, w in zip(body, _S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    check = {10: 0, 11: 5}.get(check, check)
    return int(number[10]) == check


@dataclass(frozen=True, slots=True)
class TrackingCheck:
    raw: str
    number: str  # normalised: digits (or S10 letters), no separators
    carriers: tuple[str, ...]  # which carriers the shape fits
    warnings: tuple[str, ...] = ()
    error: str = ""  # non-empty: not a tracking number at all

    @property
    def valid(self) -> bool:
        return not self.error

    @property
    def display(self) -> str:
        """How a label prints it: NNNN-NNNN-NNNN."""
        n = self.number
        return f"{n[:4]}-{n[4:8]}-{n[8:]}" if len(n) == 12 and n.isdigit() else n


def check_number(raw: str, carrier: str | None = None) -> TrackingCheck:
    """Validate a tracking number; a failing check digit is a warning, a wrong shape an error."""
    number = normalize_number(raw)
    if not number:
        return TrackingCheck(raw, number, (), error=_("tracking number is empty"))
    if len(number) == 12 and number.isdigit():
        carriers = DOMESTIC_CARRIERS
        warnings: tuple[str, ...] = ()
        if not check_7dr(number):
            expected = int(number[:11]) % 7
            warning = _("tracking number {number} fails the 7DR check digit (last digit {last}, expected "
                        "{expected}); check it for a typing error").format(number=number, last=number[11],
                                                                         expected=expected)
            warnings = (warning,)
        return _for_carrier(TrackingCheck(raw, number, carriers, warnings), carrier)
    if len(number) == 11 and number.isdigit():
        registered = "11-digit number: a Japan Post 書留 number, not ゆうパック"
        return _for_carrier(TrackingCheck(raw, number, ("japanpost",), (registered,)), carrier)
    if _S10.match(number):
        warnings = () if check_s10(number) else (
            _("international number {number} fails the S10 check digit").format(number=number),)
        return _for_carrier(TrackingCheck(raw, number, ("japanpost",), warnings), carrier)
    return TrackingCheck(raw, number, (), error=_(
        "{value!r} is not a tracking number: Yamato, Sagawa and ゆうパック numbers have 12 digits").format(value=raw))


def _for_carrier(check: TrackingCheck, carrier: str | None) -> TrackingCheck:
    if carrier is None or carrier not in DOMESTIC_CARRIERS or carrier in check.carriers:
        return check
    return TrackingCheck(check.raw, check.number, check.carriers, check.warnings,
                         error=_("{number} is not a {carrier} tracking number (12 digits expected)").format(
                             number=check.number, carrier=carrier))


def tracking_url(carrier: str, number: str, templates: Mapping[str, str] | None = None) -> str:
    """The carrier's tracking page for ``number``; raises ``KeyError`` naming the carrier when none is set."""
    table = DEFAULT_TRACKING_URLS if templates is None else templates
    if carrier not in table:
        raise KeyError(f"no tracking URL for carrier {carrier!r}; add it under tracking_urls in rules/shipping.yaml")
    return table[carrier].replace("{no}", normalize_number(number))
