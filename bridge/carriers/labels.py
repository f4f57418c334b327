"""What every label writer shares: the row builder (text guard, address, phone, COD, date and slot checks), the
result records (rows, rejections, files) and CP932 CSV encoding.

A writer builds one row per order. A row with any problem is not written: it becomes a ``Rejection`` whose
message says what to fix, and the orders job puts that order on 保留.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal

from bridge.carriers.address import (
    AddressError,
    AddressParts,
    complete,
    format_postcode,
    normalize_phone,
    split_at,
)
from bridge.carriers.rules import CarrierCommon, MethodRule, Service, ShippingRules
from bridge.carriers.text import CarrierText, TextReport, truncate, width
from bridge.carriers.timeslots import BEFORE_10, BEFORE_17, NONE, UnknownSlot
from bridge.domain.customers import Address
from bridge.domain.orders import Order
from bridge.i18n import Text, _, joined


@dataclass(frozen=True, slots=True)
class LabelRequest:
    order: Order
    method: MethodRule
    service: Service


@dataclass(frozen=True, slots=True)
class Rejection:
    order_id: int
    carrier: str
    problems: tuple[Text, ...]

    @property
    def message(self) -> Text:
        return _("order {order} not exported to {carrier}: {problems}").format(
            order=self.order_id, carrier=self.carrier, problems=joined(self.problems, "; "))


@dataclass(slots=True)
class Row:
    order_id: int
    values: list[str]
    report: TextReport


@dataclass(frozen=True, slots=True)
class LabelFile:
    carrier: str
    file_name: str
    content: bytes
    order_ids: tuple[int, ...]
    substitutions: tuple[str, ...] = ()  # "order 12: name: '髙' (U+9AD9) written as '高'"
    warnings: tuple[Text, ...] = ()


@dataclass(frozen=True, slots=True)
class ExportResult:
    files: tuple[LabelFile, ...] = ()
    rejections: tuple[Rejection, ...] = ()


@dataclass(frozen=True, slots=True)
class CodAmount:
    amount: int
    tax: int


@dataclass
class RowBuilder:
    """Helpers for one order's row; everything it finds goes into ``report``."""

    carrier: str
    rules: ShippingRules
    carrier_rules: CarrierCommon
    request: LabelRequest
    ship_date: date
    report: TextReport = field(default_factory=TextReport)

    def __post_init__(self) -> None:
        self.guard = CarrierText(self.carrier_rules.charset, self.rules.text_table(), self.carrier)

    @property
    def order(self) -> Order:
        return self.request.order

    def text(self, name: str, value: str, limit: int, *, required: bool = False, lost: bool = False) -> str:
        return self.guard.fit(name, value, limit, self.report, required=required, check_lost=lost)

    def clean(self, name: str, value: str, *, lost: bool = True) -> str:
        return self.guard.clean(name, value.strip(), self.report, check_lost=lost).strip()

    def kana(self, name: str, value: str, limit: int = 50) -> str:
        return self.guard.kana(name, value, limit, self.report)

    def short(self, name: str, value: str, limit: int) -> str:
        return self.guard.shorten(name, value, limit, self.report)

    def code(self, name: str, value: str, limit: int) -> str:
        """半角英数 codes: anything else is left out with a warning (they are optional columns)."""
        value = value.strip()
        if value and (not value.isascii() or not value.replace("-", "").isalnum() or len(value) > limit):
            self.report.warnings.append(_("{name}: {value!r} is not 半角英数 ≤ {limit}; column left blank").format(
                                            name=name, value=value, limit=limit))
            return ""
        return value

    def phone(self, name: str, value: str, limit: int, *, fix: Text | None = None) -> str:
        try:
            phone = normalize_phone(value)
        except AddressError as exc:
            self.report.problem(name, exc.problem, fix or exc.fix)
            return ""
        if len(phone) > limit:
            phone = phone.replace("-", "")
        return phone

    def address(self, name: str, address: Address, *, fix: Text | None = None) -> AddressParts | None:
        try:
            parts = complete(address, self.report.warnings, name)
        except AddressError as exc:
            self.report.problem(name, exc.problem, fix or _("correct the address on the order"))
            return None
        return AddressParts(
            parts.postcode,
            self.clean(f"{name}.prefecture", parts.prefecture),
            self.clean(f"{name}.city", parts.city),
            self.clean(f"{name}.street", parts.street),
            self.clean(f"{name}.building", parts.building),
        )

    def postcode(self, parts: AddressParts | None, *, dashed: bool = True) -> str:
        if parts is None:
            return ""
        return format_postcode(parts.postcode) if dashed else parts.postcode

    def sender(self) -> tuple[Address, Text]:
        """ご依頼主 address and what to fix when it is wrong."""
        if self.order.direct_ship and self.rules.direct_ship_sender == "buyer":
            return self.order.billing, _("correct the buyer's billing address on the order (直送 sender)")
        return self.rules.shipper.address(), _("correct shipper in rules/shipping.yaml")

    def street_and_building(self, name: str, parts: AddressParts, street_limit: int, building_limit: int
                            ) -> tuple[str, str]:
        """Street within its limit, the overflow moved in front of the building; refused when that overflows."""
        head, overflow = split_at(parts.street, street_limit)
        building = f"{overflow} {parts.building}".strip() if overflow and parts.building else overflow or parts.building
        if overflow:
            self.report.warnings.append(_("{name}: street overflow {overflow!r} moved to the building column").format(
                                            name=name, overflow=overflow))
        if width(building) > building_limit:
            self.report.problem(
                f"{name}.building",
                _("{building!r} is {value} half-width units, {carrier} allows {building_limit}").format(
                    building=building, value=width(building), carrier=self.carrier, building_limit=building_limit),
                _("shorten the street or building on the order (the street overflow goes into the building column)"),
            )
            building = truncate(building, building_limit)
        return head, building

    def limit(self, name: str, value: str, limit: int, fix: Text) -> str:
        if width(value) > limit:
            self.report.problem(name, _("{value!r} is {width} half-width units, {carrier} allows {limit} (全角{full})")
                                .format(value=value, width=width(value), carrier=self.carrier, limit=limit,
                                        full=limit // 2), fix)
            return truncate(value, limit)
        return value

    def cod(self, maximum: int) -> CodAmount | None:
        if not self.request.service.is_cod:
            return None
        order = self.order
        amount = order.cod_amount if order.cod_amount is not None else order.total
        if amount != amount.to_integral_value():
            self.report.problem("cod_amount", _("{amount} is not whole yen").format(amount=amount),
                                _("correct the order total"))
            return None
        if not 1 <= amount <= maximum:
            self.report.problem("cod_amount", _("{amount} yen is outside 1–{maximum:,} for {carrier} COD").format(
                                                  amount=amount, maximum=maximum, carrier=self.carrier),
                                _("change the payment method or split the order"))
            return None
        rate = self.rules.cod.tax_rate_percent
        if order.cod_amount is None and order.tax_total is not None:
            tax = order.tax_total
        else:
            tax = (amount * rate / (100 + rate)).quantize(Decimal(1), rounding=ROUND_DOWN)
        if not 0 <= tax <= amount:
            self.report.problem("cod_tax", _("tax {tax} is not between 0 and the amount {amount}").format(
                                               tax=tax, amount=amount),
                                _("correct the order's tax total"))
            return None
        return CodAmount(int(amount), int(tax.to_integral_value(rounding=ROUND_DOWN)))

    def delivery_date(self, fmt: str) -> str:
        requested = self.order.delivery_date
        if requested is None:
            return ""
        if self.request.service.is_mail:
            self.report.warnings.append(_("delivery date {requested} ignored: {value} is delivered to the post box "
                                          "without a date").format(
                                            requested=requested, value=self.request.service.value))
            return ""
        if requested < self.ship_date:
            self.report.problem("delivery_date", _("requested {requested} is before the ship date {ship_date}").format(
                                                     requested=requested, ship_date=self.ship_date),
                                _("agree a new date with the customer and update the order"))
            return ""
        return requested.strftime(fmt)

    def slot(self) -> str:
        label = self.order.delivery_slot
        if not label.strip():
            return ""
        table = self.carrier_rules.slot_table(self.carrier)
        try:
            resolved = table.resolve(label)
        except UnknownSlot as exc:
            self.report.problem("delivery_slot", exc.text,
                                _("correct the time slot on the order or map it under carriers.{carrier}.time_slots in "
                                  "rules/shipping.yaml").format(carrier=self.carrier))
            return ""
        if resolved.slot == NONE:
            return ""
        if self.request.service.is_mail:
            self.report.warnings.append(_("time slot {label!r} ignored: {value} has none").format(
                                            label=label, value=self.request.service.value))
            return ""
        timed = resolved.slot in (BEFORE_10, BEFORE_17)
        if timed != (self.request.service is Service.TIME):
            self.report.problem(
                "delivery_slot",
                (_("slot {label!r} needs the タイム service") if timed else
                 _("slot {label!r} is not offered by the タイム service")).format(label=label),
                _("change the time slot or the shipping method on the order"),
            )
            return ""
        if resolved.warning:
            self.report.warnings.append(resolved.warning)
        return resolved.code

    def item_name(self, limit: int, *, required: bool) -> str:
        configured = self.request.method.item_name or self.carrier_rules.item_name
        if configured:
            return self.short("item_name", configured, limit)
        lines = self.order.lines
        if not lines:
            if required:
                self.report.problem("item_name", _("the order has no lines to name the goods"),
                                    _("set item_name for carriers.{carrier} in rules/shipping.yaml").format(
                                        carrier=self.carrier))
            return ""
        suffix = f" 他{len(lines) - 1}点" if len(lines) > 1 else ""
        name = self.clean("item_name", lines[0].name, lost=False)
        full = name + suffix
        if width(full) > limit:
            cut = truncate(name, max(limit - width(suffix), 0)) + suffix
            self.report.warnings.append(_("item_name: {full!r} shortened to {cut!r} ({limit} half-width units)").format(
                                            full=full, cut=cut, limit=limit))
            return cut
        return full


def numbered_row(width: int) -> tuple[list[str], Callable[[int, str], None]]:
    """A blank label row of ``width`` cells and its ``put(column, value)``, columns counted from 1 as the carriers'
    manuals number them."""
    row = [""] * width

    def put(column: int, value: str) -> None:
        row[column - 1] = value

    return row, put


def encode_csv(header: Sequence[str] | None, rows: Sequence[Sequence[str]], *, quote_all: bool = False) -> bytes:
    """CP932, CRLF, one header row; strict encoding (the guard has already made every value encodable)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("cp932", errors="strict")


def file_name(carrier_rules: CarrierCommon, stamp: str) -> str:
    return carrier_rules.file_name.replace("{timestamp}", stamp)
