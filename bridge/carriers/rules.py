"""``rules/shipping.yaml``: which carrier and service each CS-Cart shipping method uses, the shipper block, the
carrier contract codes, time-slot codes, folders and schedules, notification timing and the delay watch.

``load_shipping_rules(path)`` validates the whole file; a problem is reported as ``file:line: key: message``.
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bridge.carriers.address import AddressError, normalize_phone, normalize_postcode
from bridge.carriers.text import DEFAULT_TEXT_MAP, Charset
from bridge.carriers.timeslots import (
    DEFAULT_CODES,
    DEFAULT_DEPRECATED,
    DEFAULT_REPLACED,
    KNOWN_SLOTS,
    SlotTable,
)
from bridge.carriers.tracking import DEFAULT_TRACKING_URLS
from bridge.domain.customers import Address
from bridge.domain.orders import Order
from bridge.errors import ConfigError
from bridge.i18n import Text, _, N_
from bridge.rules.yamlfile import read_rules_yaml, validated

CarrierName = Literal["yamato", "sagawa", "japanpost"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Service(str, Enum):
    """Carrier-neutral service names; each carrier module maps them to its own codes."""

    PREPAID = "prepaid"  # 発払い / 元払
    COD = "cod"  # コレクト / 代引
    RECIPIENT_PAYS = "recipient_pays"  # 着払い
    TIME = "time"  # B2 タイム
    COMPACT = "compact"  # 宅急便コンパクト
    COMPACT_COD = "compact_cod"  # 宅急便コンパクトコレクト
    NEKOPOS = "nekopos"  # ネコポス
    YU_PACKET = "yu_packet"  # ゆうパケット / クロネコゆうパケット

    @property
    def is_cod(self) -> bool:
        return self in (Service.COD, Service.COMPACT_COD)

    @property
    def is_mail(self) -> bool:
        """Post-box services: no delivery date or time slot."""
        return self in (Service.NEKOPOS, Service.YU_PACKET)


SERVICES_BY_CARRIER: dict[str, frozenset[Service]] = {
    "yamato": frozenset(Service),
    "sagawa": frozenset({Service.PREPAID, Service.COD, Service.RECIPIENT_PAYS}),
    "japanpost": frozenset({Service.PREPAID, Service.COD, Service.RECIPIENT_PAYS, Service.YU_PACKET}),
}
COD_VARIANT = {Service.PREPAID: Service.COD, Service.COMPACT: Service.COMPACT_COD}
JAPANPOST_HANDLING = ("こわれもの", "なまもの", "ビン類", "逆さま厳禁", "下積み厳禁")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _hhmm(values: list[str]) -> list[str]:
    for value in values:
        if not _HHMM.match(value):
            raise ValueError(_("{value!r} is not a time of day HH:MM (24 h, JST)").format(value=value))
    return sorted(set(values))


TimesOfDay = Annotated[list[str], AfterValidator(_hhmm)]
"""Times of day (JST) as ``HH:MM``, kept sorted without repeats (schedules, notification times)."""


class Shipper(_Model):
    """ご依頼主: printed as the sender on every label (and the buyer instead, for 直送 when configured)."""

    name: str = Field(min_length=1)
    name_kana: str = ""
    company: str = ""
    postcode: str
    prefecture: str = ""
    city: str = ""
    street: str = Field(min_length=1)
    building: str = ""
    phone: str
    code: str = Field("", pattern=r"^[0-9A-Za-z]{0,20}$")

    @field_validator("postcode", "phone")
    @classmethod
    def _normalized(cls, value: str, info: ValidationInfo) -> str:
        normalize = normalize_postcode if info.field_name == "postcode" else normalize_phone
        try:
            return normalize(value)
        except AddressError as exc:
            raise ValueError(_("{problem}; correct shipper.{field}").format(problem=exc.problem,
                                                                            field=info.field_name)) from None

    def address(self) -> Address:
        return Address(name=self.name, name_kana=self.name_kana, postcode=self.postcode, prefecture=self.prefecture,
                       city=self.city, street=self.street, building=self.building, phone=self.phone,
                       company=self.company)


class Schedule(_Model):
    """When the daemon writes label files: at fixed times of day (JST), or every N minutes."""

    times: TimesOfDay = Field(default_factory=list)
    every_minutes: int | None = Field(None, ge=1, le=1440)

    @model_validator(mode="after")
    def _one_kind(self) -> Schedule:
        if self.times and self.every_minutes:
            raise ValueError(_("give either times or every_minutes, not both"))
        return self


class CarrierCommon(_Model):
    enabled: bool = True
    charset: Charset = Charset.CP932
    output_dir: Path
    file_name: str = Field(pattern=r"\{timestamp\}")
    schedule: Schedule = Schedule(times=["10:00", "15:00"], every_minutes=None)
    time_slots: dict[str, str] = Field(default_factory=dict)
    replaced_slots: dict[str, str] = Field(default_factory=dict)
    deprecated_slots: list[str] = Field(default_factory=list)
    cod_max: int = Field(300_000, ge=1)
    item_name: str = ""  # blank: the first order line's name

    @field_validator("time_slots", "replaced_slots")
    @classmethod
    def _known_slots(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key not in KNOWN_SLOTS:
                raise ValueError(_("unknown time slot {key!r}; use one of {items}").format(
                                     key=key, items=', '.join(KNOWN_SLOTS)))
        return value

    def slot_table(self, carrier: str) -> SlotTable:
        return SlotTable(
            carrier,
            self.time_slots or DEFAULT_CODES[carrier],
            self.replaced_slots or DEFAULT_REPLACED.get(carrier, {}),
            tuple(self.deprecated_slots) or DEFAULT_DEPRECATED.get(carrier, ()),
        )


class YamatoRules(CarrierCommon):
    charset: Charset = Charset.JIS0208
    output_dir: Path = Path("carriers/yamato")
    file_name: str = Field("b2_{timestamp}.csv", pattern=r"\{timestamp\}")
    billing_customer_code: str = Field(pattern=r"^\d{10,12}$")  # ご請求先顧客コード
    billing_class_code: str = Field("", pattern=r"^(\d{3})?$")  # ご請求先分類コード
    freight_number: str = Field("01", pattern=r"^\d{2}$")  # 運賃管理番号
    honorific: str = "様"
    search_key_title: str = "注文番号"  # 検索キータイトル1; 検索キー1 holds the order id
    compact_cod_max: int = Field(30_000, ge=1)


class SagawaRules(CarrierCommon):
    output_dir: Path = Path("carriers/sagawa")
    file_name: str = Field("ehiden_{timestamp}.csv", pattern=r"\{timestamp\}")
    customer_code: str = Field(pattern=r"^\d{1,12}$")  # お客様コード
    package_type: str = Field("001", pattern=r"^\d{3}$")  # 荷姿 001 箱類
    speed: str = Field("", pattern=r"^(\d{3})?$")  # スピード指定, blank = normal
    cod_payment_type: str = Field("", pattern=r"^\d?$")  # 決済種別 (from the e-コレクト contract)
    date_seal: str = Field("", pattern=r"^(\d{3})?$")  # 指定シール for 配達日指定
    time_seal: str = Field("", pattern=r"^(\d{3})?$")  # 指定シール for 時間帯指定
    seal_codes: dict[str, str] = Field(default_factory=dict)  # handling note → 指定シール code

    @field_validator("seal_codes")
    @classmethod
    def _seal_codes(cls, value: dict[str, str]) -> dict[str, str]:
        for name, code in value.items():
            if not re.fullmatch(r"\d{3}", code):
                raise ValueError(_("seal code for {name!r} must be 3 digits, got {code!r}").format(
                                     name=name, code=code))
        return value


class JapanPostRules(CarrierCommon):
    output_dir: Path = Path("carriers/japanpost")
    file_name: str = Field("yupri_{timestamp}.csv", pattern=r"\{timestamp\}")
    honorific: str = "様"


class Carriers(_Model):
    yamato: YamatoRules | None = None
    sagawa: SagawaRules | None = None
    japanpost: JapanPostRules | None = None

    def get(self, name: str) -> CarrierCommon | None:
        return getattr(self, name, None)


class MethodRule(_Model):
    """One CS-Cart shipping method (by shipping_id and/or name) → carrier and service."""

    shipping_ids: list[int] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)
    carrier: CarrierName
    service: Service = Service.PREPAID
    cool: Literal["normal", "chilled", "frozen"] = "normal"
    handling: list[str] = Field(default_factory=list, max_length=3)  # 荷扱い (Yamato: up to 2)
    item_name: str | None = None

    @model_validator(mode="after")
    def _matches_something(self) -> MethodRule:
        if not self.shipping_ids and not self.names:
            raise ValueError(_("give shipping_ids or names (the CS-Cart shipping method this rule is for)"))
        if self.service not in SERVICES_BY_CARRIER[self.carrier]:
            offered = ", ".join(sorted(s.value for s in SERVICES_BY_CARRIER[self.carrier]))
            raise ValueError(_("{carrier} has no service {value!r} (offers: {offered})").format(
                                 carrier=self.carrier, value=self.service.value, offered=offered))
        return self


class CodRule(_Model):
    """Which payments are cash on delivery: the method's service becomes its COD variant (発払い → コレクト)."""

    payment_ids: list[int] = Field(default_factory=list)
    payment_names: list[str] = Field(default_factory=lambda: ["代金引換", "代引き", "代引"])
    tax_rate_percent: Decimal = Field(Decimal(10), ge=0, le=100)  # for 内消費税額 when the order has no tax total


class Notification(_Model):
    """When the shipping mail goes out: at once after 出荷済, or at the next of the given times (JST)."""

    mode: Literal["immediate", "times"] = "immediate"
    times: TimesOfDay = Field(default_factory=list)

    @model_validator(mode="after")
    def _times_given(self) -> Notification:
        if self.mode == "times" and not self.times:
            raise ValueError(_("mode 'times' needs at least one time, e.g. times: ['12:00', '17:00']"))
        return self

    def time_list(self) -> list[time]:
        return [time(int(t[:2]), int(t[3:])) for t in self.times]


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


class DelayWatch(_Model):
    business_days: int = Field(2, ge=0, le=60)  # max business days in 出荷指示
    weekend: list[Weekday] = Field(default_factory=lambda: list[Weekday](["sat", "sun"]))
    # Japan's national holidays (祝日, 振替休日, 国民の休日) come from the maintained jpholiday library;
    # false = only the weekend and the dates below are days off
    national_holidays: bool = True
    holidays: list[date] = Field(default_factory=list)  # the shop's own days off (年末年始, お盆 …)

    def weekend_numbers(self) -> frozenset[int]:
        return frozenset(_WEEKDAYS[day] for day in self.weekend)


class DeliveryDates(_Model):
    """お届け希望日 / 時間帯 the add-on offers at checkout, per shipping method (its carrier's slots in time_slots).
    The earliest date: the first business day (tomorrow after the cut-off) ships, plus ``lead_business_days`` more
    business days, plus ``transit_days``; business days are those of delay_watch (weekend, holidays)."""

    enabled: bool = True
    lead_business_days: int = Field(1, ge=0, le=30)
    """Business days between the first possible ship day and the ship day the customer may count on."""
    transit_days: int = Field(1, ge=0, le=14)
    """Days from shipping to the door (the carrier's usual 翌日配達 = 1)."""
    cutoff: str = "12:00"
    """Orders placed at or after this time (JST) count from the next day."""
    range_days: int = Field(14, ge=1, le=90)
    """How many days from the earliest the customer may choose."""

    @field_validator("cutoff")
    @classmethod
    def _cutoff(cls, value: str) -> str:
        return _hhmm([value])[0]


class Results(_Model):
    """Result files (issued data, generic CSV): picked up from the inbox under SMILE's safe-folder rules."""

    inbox_dir: Path = Path("carriers/inbox")
    archive_dir: Path = Path("carriers/archive")  # applied files, in YYYYMMDD folders
    error_dir: Path = Path("carriers/error")  # refused files, with NAME.error.txt beside them


class ShippingRules(_Model):
    version: Literal[1] = 1
    shipper: Shipper
    direct_ship_sender: Literal["buyer", "shipper"] = "buyer"  # 直送: whose name the label shows as sender
    cod: CodRule = CodRule.model_validate({})
    methods: list[MethodRule] = Field(min_length=1)
    carriers: Carriers
    tracking_urls: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_TRACKING_URLS))
    text_map: dict[str, str] = Field(default_factory=dict)  # additions to / overrides of the built-in table
    results: Results = Results()
    notification: Notification = Notification()
    delay_watch: DelayWatch = DelayWatch.model_validate({})
    delivery_dates: DeliveryDates = DeliveryDates.model_validate({})

    @field_validator("tracking_urls")
    @classmethod
    def _url_templates(cls, value: dict[str, str]) -> dict[str, str]:
        for carrier, template in value.items():
            if "{no}" not in template or not template.startswith("https://"):
                raise ValueError(_("{carrier}: a tracking URL must start with https:// and contain {{no}}").format(
                                     carrier=carrier))
        return {**DEFAULT_TRACKING_URLS, **value}

    @field_validator("text_map")
    @classmethod
    def _single_characters(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if len(key) != 1:
                raise ValueError(_("text_map keys are single characters, got {key!r}").format(key=key))
        return value

    @model_validator(mode="after")
    def _methods_fit_carriers(self) -> ShippingRules:
        problems: list[str] = []
        for index, method in enumerate(self.methods):
            where = f"methods[{index}]"
            carrier = self.carriers.get(method.carrier)
            if carrier is None:
                problems.append(_("{where}: carrier {carrier} is not configured under carriers").format(
                                    where=where, carrier=method.carrier))
                continue
            if method.carrier == "yamato" and len(method.handling) > 2:
                problems.append(_("{where}: B2 prints at most 2 handling notes (荷扱い１, ２)").format(where=where))
            if method.carrier == "sagawa":
                assert isinstance(carrier, SagawaRules)
                missing = [note for note in method.handling if note not in carrier.seal_codes]
                if missing:
                    problems.append(_("{where}: handling {missing} has no 指定シール code in "
                                      "carriers.sagawa.seal_codes").format(where=where, missing=missing))
            if method.carrier == "japanpost":
                unknown = [note for note in method.handling if note not in JAPANPOST_HANDLING]
                if unknown:
                    problems.append(_("{where}: handling {unknown} is not a ゆうプリR flag ({items})").format(
                                        where=where, unknown=unknown, items=', '.join(JAPANPOST_HANDLING)))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def text_table(self) -> dict[str, str]:
        return {**DEFAULT_TEXT_MAP, **self.text_map}

    def carrier_rules(self, name: str) -> CarrierCommon:
        found = self.carriers.get(name)
        if found is None:
            raise KeyError(_("carrier {name} is not configured under carriers in rules/shipping.yaml").format(
                               name=name))
        return found


def load_shipping_rules(path: Path | str) -> ShippingRules:
    """Read and validate ``rules/shipping.yaml``; raises ``ConfigError`` naming file, line and key."""
    path = Path(path)
    root = read_rules_yaml(path, N_("shipping rules"))
    if not isinstance(root, dict):
        raise ConfigError(_("{path}: the top level must be a mapping (shipper:, methods:, carriers: …)").format(
                              path=path))
    return validated(ShippingRules, root, path, N_("shipping rules"), "rules/shipping.yaml",
                     locate=_method_of)


def _method_of(loc: list[Any], message: str) -> list[Any]:
    """A cross-field check names the method it is about: point at that method's line."""
    found = _METHOD_REF.search(message) if not loc else None
    return ["methods", int(found.group(1))] if found else loc


_METHOD_REF = re.compile(r"methods\[(\d+)\]")


def resolve_service(order: Order, rules: ShippingRules) -> tuple[MethodRule, Service] | Text:
    """The method rule and the effective service for ``order``, or a message saying what rule to add."""
    for method in rules.methods:
        by_id = any(shipping_id in method.shipping_ids for shipping_id in order.shipping_ids)
        if by_id or (order.shipping_method and order.shipping_method in method.names):
            service = method.service
            if _is_cod_payment(order, rules.cod) and not service.is_cod:
                if service not in COD_VARIANT:
                    return (_("payment {payment_method!r} is cash on delivery but service {value} of {carrier} has no "
                              "COD "
                              "variant; change the order's payment or shipping").format(
                                payment_method=order.payment_method, value=service.value, carrier=method.carrier))
                service = COD_VARIANT[service]
            return method, service
    ids = ", ".join(str(i) for i in order.shipping_ids) or _("none")
    return (_("no rule in rules/shipping.yaml for shipping method {shipping_method!r} (shipping_id {ids}); add "
              "one under methods").format(shipping_method=order.shipping_method, ids=ids))


def _is_cod_payment(order: Order, cod: CodRule) -> bool:
    return (order.payment_id is not None and order.payment_id in cod.payment_ids) or (
        bool(order.payment_method) and order.payment_method in cod.payment_names)
