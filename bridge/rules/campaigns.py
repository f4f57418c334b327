"""``rules/campaigns.yaml``: campaigns (period, target, conditions, benefits), validated here and compiled into
CS-Cart promotions through the add-on by the campaigns job. Times are JST; a date alone means 00:00 JST of that day
for ``start`` and the whole day (until 24:00 JST) for ``end``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from bridge.domain.time import JST, jst_midnight, to_utc
from bridge.rules.common import Percent, RulesModel

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Period(RulesModel):
    start: datetime
    """First moment (JST). A date alone = 00:00 JST of that day."""
    end: datetime
    """Last day or moment (JST). A date alone = the whole day; a time = the campaign ends at that moment."""

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: object) -> object:
        return _as_jst(value, end=False)

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: object) -> object:
        return _as_jst(value, end=True)

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            start, end = (f"{moment.astimezone(JST):%Y-%m-%d %H:%M} JST" for moment in (self.start, self.end))
            raise ValueError(f"the period ends at {end}, not after its start {start} "
                             "(an end date alone means the end of that day)")
        return self

    def contains(self, now: datetime) -> bool:
        return self.start <= to_utc(now) < self.end


def _as_jst(value: object, *, end: bool) -> object:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=JST)
    if isinstance(value, date):
        return jst_midnight(value + timedelta(days=1)) if end else jst_midnight(value)
    if isinstance(value, str):
        try:
            return _as_jst(date.fromisoformat(value), end=end)
        except ValueError:
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=JST)
    return value


class Target(RulesModel):
    """Who and what the campaign is for. ``all: true`` or at least one list."""

    all: bool = False
    categories: list[str] = Field(default_factory=list)
    """SMILE 商品分類コード."""
    products: list[str] = Field(default_factory=list)
    """SMILE 商品コード."""
    customer_groups: list[str] = Field(default_factory=list)
    """CS-Cart usergroup names (e.g. ランク1)."""
    regions: list[str] = Field(default_factory=list)
    """都道府県 of the delivery address."""

    @model_validator(mode="after")
    def _something(self) -> Target:
        listed = self.categories or self.products or self.customer_groups or self.regions
        if self.all and listed:
            raise ValueError("all: true targets everything; remove the lists or set all: false")
        if not self.all and not listed:
            raise ValueError("give all: true or at least one of categories, products, customer_groups, regions")
        return self


class Conditions(RulesModel):
    """All given conditions must hold for the order."""

    min_order_amount: Decimal | None = Field(None, gt=0)
    """Products subtotal in yen (tax as CS-Cart shows it)."""
    min_quantity: int | None = Field(None, ge=1)
    """Units of target products in the cart."""
    products_all: list[str] = Field(default_factory=list)
    """Product combination: every one of these codes must be in the cart."""
    customer_groups: list[str] = Field(default_factory=list)
    weekdays: list[Weekday] = Field(default_factory=list)
    """Only on these days (JST); empty = every day of the period."""


class Discount(RulesModel):
    type: Literal["discount"]
    percent: Percent | None = None
    amount: Decimal | None = Field(None, gt=0)
    """Yen off."""
    applies_to: Literal["products", "order"] = "products"

    @model_validator(mode="after")
    def _one(self) -> Discount:
        if (self.percent is None) == (self.amount is None):
            raise ValueError("give either percent or amount")
        return self


class BonusItem(RulesModel):
    type: Literal["bonus_item"]
    product_code: str = Field(min_length=1)
    quantity: int = Field(1, ge=1)


class FreeShipping(RulesModel):
    type: Literal["free_shipping"]


class Points(RulesModel):
    type: Literal["points"]
    points: int = Field(ge=1)


class Coupon(RulesModel):
    type: Literal["coupon"]
    code: str = Field(pattern=r"^[A-Za-z0-9_\-]{3,32}$")
    """The code the customer types; the discount is given when it is entered."""
    percent: Percent | None = None
    amount: Decimal | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> Coupon:
        if (self.percent is None) == (self.amount is None):
            raise ValueError("give either percent or amount")
        return self


Benefit = Annotated[Discount | BonusItem | FreeShipping | Points | Coupon, Field(discriminator="type")]


class Campaign(RulesModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")
    """Stable id (lower case, digits, - and _): the promotion in CS-Cart is found by it; never reuse one."""
    name: str = Field(min_length=1)
    enabled: bool = True
    priority: int = Field(0, ge=0)
    """Higher first."""
    stop_other: bool = False
    """No lower-priority campaign applies to an order this one applied to."""
    period: Period
    target: Target
    conditions: Conditions = Conditions()
    benefits: list[Benefit] = Field(min_length=1)


class CampaignRules(RulesModel):
    version: Literal[1] = 1
    campaigns: list[Campaign] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> CampaignRules:
        seen: set[str] = set()
        for campaign in self.campaigns:
            if campaign.id in seen:
                raise ValueError(f"campaign id {campaign.id!r} is used twice")
            seen.add(campaign.id)
        return self


def active_campaigns(rules: CampaignRules, now: datetime) -> list[Campaign]:
    """Enabled campaigns whose period contains ``now`` and whose weekdays (JST) include today; highest priority
    first, then by id."""
    weekday = WEEKDAYS[to_utc(now).astimezone(JST).weekday()]
    active = [c for c in rules.campaigns if c.enabled and c.period.contains(now)
              and (not c.conditions.weekdays or weekday in c.conditions.weekdays)]
    return sorted(active, key=lambda c: (-c.priority, c.id))
