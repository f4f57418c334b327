"""``rules/pricing.yaml`` and the price rules: the full CS-Cart tier set per product, the unit price a customer pays,
scheduled prices (新単価 from 新単価実施日 00:00 JST), the 直送 surcharge and the extra slip lines for SMILE.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from bridge.domain.catalog import CustomerPrice, PriceTier, Product, TierSet
from bridge.domain.customers import Customer
from bridge.domain.money import Rounding
from bridge.domain.time import business_date
from bridge.i18n import _
from bridge.rules.common import Percent, RoundingRule, RulesModel

RANKS = (1, 2, 3, 4, 5)
ZERO = Decimal(0)
HUNDRED = Decimal(100)


class RateBase(str, Enum):
    """What 単価掛率 multiplies. SMILE's public sources do not say, so it is a rule (smile.md §7)."""

    LIST_PRICE = "list_price"  # 上代単価; products without one fall back to the standard price
    STANDARD_PRICE = "standard_price"  # the price CS-Cart computes for the line (標準 or the rank/quantity tier)

    @property
    def addon_value(self) -> str:
        """The spelling of the add-on's ``smile_price_rate_base`` column (PriceSelector::RATE_BASE_*)."""
        return "list_price" if self is RateBase.LIST_PRICE else "price"


class ScheduledPrices(RulesModel):
    enabled: bool = True
    """Switch to the 新…単価 columns at 00:00 JST of 新単価実施日 (the hourly prices job picks it up)."""


class QuantityTiers(RulesModel):
    enabled: bool = True
    """Write 数量別単価 rows as CS-Cart quantity tiers (lower_limit = the row's minimum quantity)."""
    drop_not_cheaper: bool = True
    """Leave out a tier that is not cheaper than the base price (CS-Cart would never pick it)."""
    max_tiers: int = Field(20, ge=0, le=200)
    """At most this many quantity tiers per product; the lowest quantities are kept."""

    @model_validator(mode="after")
    def _some_tiers_when_on(self) -> QuantityTiers:
        if self.enabled and self.max_tiers == 0:
            raise ValueError(_("max_tiers 0 writes no quantity tier although quantity tiers are on; set max_tiers "
                               "to 1 or more, or enabled: false"))
        return self


class SlipLine(RulesModel):
    """An extra line of the SMILE 受注 slip (shipping fee, 直送 surcharge): its own item code, tax rate and class."""

    item_code: str = Field("99999999", pattern=r"^[0-9A-Za-z\-]{1,20}$")
    """SMILE 商品コード of the line; 99999999 is SMILE's 諸口 (hand-typed) product."""
    item_name: str = Field(min_length=1, max_length=36)
    """商品名 printed on the slip (at most 36 half-width units in SMILE)."""
    tax_rate_percent: Percent = Decimal(10)
    tax_class: str = Field("", max_length=8)
    """SMILE 課税区分 / 税分類 code for the line; blank = the slip default."""


class DirectShip(RulesModel):
    """直送 (shipping straight to the buyer's customer): what it costs. Who may use it is in order_flow.yaml."""

    surcharge_percent: Percent = Decimal(10)
    """Surcharge as a percent of the products subtotal."""
    rounding: RoundingRule = RoundingRule(mode=Rounding.DOWN, unit=Decimal(1))
    tolerance: Decimal = Field(Decimal(0), ge=0)
    """Yen the surcharge CS-Cart charged may differ from the rule before the order goes to 保留."""
    slip_line: SlipLine = SlipLine(item_name="直送手数料")


class Tax(RulesModel):
    default_rate_percent: Percent = Decimal(10)
    rates_by_class: dict[str, Percent] = Field(default_factory=dict)
    """SMILE 消費税率区分 / 税分類 value of a product → its rate, e.g. {"2": 8} for 軽減税率."""

    def rate_for(self, product: Product) -> Decimal:
        return self.rates_by_class.get(product.tax_class, self.default_rate_percent)


class PricingRules(RulesModel):
    version: Literal[1] = 1
    rank_usergroups: dict[Annotated[int, Field(ge=1, le=5)], str] = Field(
        default_factory=lambda: {rank: f"ランク{rank}" for rank in RANKS})
    """単価ランク → CS-Cart usergroup name (one group per rank; the prices job creates missing ones)."""
    create_missing_usergroups: bool = True
    rate_base: RateBase = RateBase.LIST_PRICE
    """What a customer's 単価掛率 multiplies: list_price (上代単価) or standard_price."""
    price_rounding: RoundingRule = RoundingRule(mode=Rounding.HALF_UP, unit=Decimal("0.01"))
    """Applied to every SMILE price before it goes to CS-Cart (CS-Cart keeps 2 decimals)."""
    scheduled_prices: ScheduledPrices = ScheduledPrices()
    quantity_tiers: QuantityTiers = QuantityTiers()
    direct_ship: DirectShip = DirectShip()
    shipping_fee: SlipLine = SlipLine(item_name="送料")
    payment_fee: SlipLine = SlipLine(item_name="代引手数料")
    """The order's payment surcharge (代引手数料) as its own slip line."""
    tax: Tax = Tax()

    @field_validator("rank_usergroups")
    @classmethod
    def _ranks(cls, value: dict[int, str]) -> dict[int, str]:
        names = [name.strip() for name in value.values()]
        if any(not name for name in names):
            raise ValueError(_("a usergroup name is empty"))
        if len(set(names)) != len(names):
            raise ValueError(_("two ranks share one usergroup name; give each rank its own group"))
        return dict(sorted(value.items()))


# -- records the prices job hands in ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuantityPrice:
    """One 数量別単価 row (assumed layout, smile.md §7): from ``min_quantity`` on, the unit price is ``price``."""

    min_quantity: int
    price: Decimal
    rank: int | None = None  # None = everyone; 1–5 = only that rank's usergroup
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        return not ((self.valid_from and day < self.valid_from) or (self.valid_to and day > self.valid_to))


@dataclass(frozen=True, slots=True)
class EffectivePrices:
    """A product's prices in force at one moment, rounded by ``price_rounding``."""

    standard: Decimal | None
    ranks: tuple[Decimal | None, ...]
    list_price: Decimal | None
    scheduled: bool  # True when the 新…単価 columns are in force


@dataclass(frozen=True, slots=True)
class UnitPrice:
    price: Decimal
    source: Literal["customer_price", "rate", "tier", "base"]


class PriceMissing(ValueError):
    """The product has no 標準売上単価, so no tier set can be written."""


# -- evaluation -------------------------------------------------------------------------------------------------


def scheduled_in_force(product: Product, rules: PricingRules, now: datetime) -> bool:
    """True from 00:00 JST of 新単価実施日 on (``now`` may be in any zone; it must be aware)."""
    return (rules.scheduled_prices.enabled and product.new_price_date is not None
            and business_date(now) >= product.new_price_date)


def effective_prices(product: Product, rules: PricingRules, now: datetime) -> EffectivePrices:
    """Prices in force at ``now``. After the switch each price comes from its 新 column when that column has a
    positive value; an empty 新 column keeps the current price (SMILE leaves columns that do not change empty)."""
    scheduled = scheduled_in_force(product, rules, now)

    def pick(current: Decimal | None, new: Decimal | None) -> Decimal | None:
        chosen = new if scheduled and new is not None and new > 0 else current
        return None if chosen is None else rules.price_rounding.apply(chosen)

    ranks = tuple(
        pick(_at(product.rank_prices, i), _at(product.new_rank_prices, i)) for i in range(len(RANKS))
    )
    return EffectivePrices(
        standard=pick(product.standard_price, product.new_standard_price),
        ranks=ranks,
        list_price=pick(product.list_price, product.new_list_price),
        scheduled=scheduled,
    )


def _at(values: tuple[Decimal | None, ...], index: int) -> Decimal | None:
    return values[index] if index < len(values) else None


def compile_tier_set(
    product: Product,
    rules: PricingRules,
    usergroup_ids: Mapping[int, int],
    quantity_prices: Iterable[QuantityPrice] = (),
    *,
    now: datetime,
) -> TierSet:
    """The complete CS-Cart tier set of ``product`` at ``now`` (write it whole: CS-Cart replaces all tiers).

    * base row (usergroup 0, lower_limit 1) = 標準売上単価; ``TierSet.rows()`` puts it first;
    * one row per rank with a positive price, at lower_limit 1 for that rank's usergroup (``usergroup_ids``:
      rank → CS-Cart usergroup_id; a rank without an id is left out, so create the groups first);
    * quantity tiers valid today (JST), rounded, minimum quantity ≥ 2; with ``drop_not_cheaper`` only those below
      the base price; at most ``max_tiers``;
    * every (usergroup, lower_limit) occurs once; on a clash the lower price wins.
    """
    prices = effective_prices(product, rules, now)
    if prices.standard is None:
        raise PriceMissing(_("product {code}: no 標準売上単価, so there is no base price to write").format(
                               code=product.code))
    base = prices.standard
    rows: dict[tuple[int, int], Decimal] = {}

    def put(usergroup_id: int, lower_limit: int, price: Decimal) -> None:
        key = (usergroup_id, lower_limit)
        if key == (0, 1):
            return  # the base row, written from ``base``
        rows[key] = min(price, rows.get(key, price))

    for rank, price in zip(RANKS, prices.ranks, strict=True):
        group = usergroup_ids.get(rank)
        if price is not None and price > 0 and group is not None and group > 0:
            put(group, 1, price)

    if rules.quantity_tiers.enabled:
        today = business_date(now)
        tiers = []
        for row in quantity_prices:
            price = rules.price_rounding.apply(row.price)
            group = 0 if row.rank is None else usergroup_ids.get(row.rank)
            if (group is None or row.min_quantity < 2 or price <= 0 or not row.valid_on(today)
                    or (rules.quantity_tiers.drop_not_cheaper and price >= base)):
                continue
            tiers.append((group, row.min_quantity, price))
        for group, lower_limit, price in sorted(tiers)[: rules.quantity_tiers.max_tiers]:
            put(group, lower_limit, price)

    tiers_out = tuple(PriceTier(usergroup_id=g, lower_limit=q, price=p) for (g, q), p in sorted(rows.items()))
    return TierSet(product_code=product.code, base_price=base, tiers=tiers_out)


def tier_price(tier_set: TierSet, usergroup_ids: Iterable[int], quantity: Decimal | int) -> Decimal:
    """The price CS-Cart computes for a line: the lowest row whose usergroup is 0 or one of the customer's groups
    and whose lower_limit is at or below the quantity (percentage rows are a discount off the base price)."""
    groups = {0, *usergroup_ids}
    candidates = [tier_set.base_price]
    for row in tier_set.rows():
        if row.usergroup_id in groups and row.lower_limit <= quantity:
            price = tier_set.base_price * (1 - row.price / HUNDRED) if row.percentage else row.price
            candidates.append(price)
    return min(candidates)


def best_customer_price(
    rows: Iterable[CustomerPrice], customer_code: str, product_code: str, quantity: Decimal | int, today: date
) -> CustomerPrice | None:
    """The add-on's ``PriceSelector::bestCustomerRow``: the highest ``min_quantity`` not above the quantity, valid
    today; on a tie the row whose validity started last."""
    best: CustomerPrice | None = None
    for row in rows:
        if row.customer_code != customer_code or row.product_code != product_code or row.min_quantity > quantity:
            continue
        if (row.valid_from and today < row.valid_from) or (row.valid_to and today > row.valid_to):
            continue
        if best is None or row.min_quantity > best.min_quantity or (
            row.min_quantity == best.min_quantity and (row.valid_from or date.min) > (best.valid_from or date.min)
        ):
            best = row
    return best


def customer_unit_price(
    product: Product,
    customer: Customer,
    rules: PricingRules,
    now: datetime,
    *,
    quantity: Decimal | int = 1,
    usergroup_ids: Mapping[int, int] | None = None,
    customer_prices: Sequence[CustomerPrice] = (),
    quantity_prices: Sequence[QuantityPrice] = (),
) -> UnitPrice:
    """The unit price ``customer`` pays for ``quantity`` of ``product`` at ``now``, exactly as the add-on's
    ``PriceSelector::select`` computes it at checkout:

    1. a 得意先別単価 row (``best_customer_price``) → that price (source ``customer_price``);
    2. else, when the customer's 単価掛率 ``r`` > 0:
       ``price = round_{単価処理区分}(B × r / 100, 単価処理単位)`` where ``B`` is the product's 上代単価 when
       ``rate_base`` is ``list_price`` and the product has a positive list price, otherwise the CS-Cart price of
       step 3 (source ``rate``); rounding: down = toward zero, half_up = half away from zero, up = away from zero;
    3. else the CS-Cart price: the lowest tier row for usergroup 0 or the customer's rank group with lower_limit
       ≤ quantity (source ``tier`` when a rank or quantity row is cheaper than the base, else ``base``).

    All prices are the effective ones at ``now`` (新単価 from 00:00 JST of 新単価実施日), rounded by
    ``price_rounding`` before step 2 multiplies them.
    """
    today = business_date(now)
    row = best_customer_price(customer_prices, customer.code, product.code, quantity, today)
    if row is not None:
        return UnitPrice(row.price, "customer_price")
    ids = dict(usergroup_ids) if usergroup_ids is not None else {rank: 1000 + rank for rank in RANKS}
    tier_set = compile_tier_set(product, rules, ids, quantity_prices, now=now)
    groups = [ids[customer.price_rank]] if customer.price_rank in ids else []
    computed = tier_price(tier_set, groups, quantity)
    rate = customer.rate_percent
    if rate is not None and rate > 0:
        list_price = effective_prices(product, rules, now).list_price
        use_list = rules.rate_base is RateBase.LIST_PRICE and list_price is not None and list_price > 0
        base = list_price if use_list and list_price is not None else computed
        unit = customer.price_rounding_unit if customer.price_rounding_unit > 0 else Decimal(1)
        return UnitPrice(customer.price_rounding.apply(base * rate / HUNDRED, unit), "rate")
    return UnitPrice(computed, "tier" if computed < tier_set.base_price else "base")


def direct_ship_surcharge(subtotal: Decimal, rules: PricingRules) -> Decimal:
    """The 直送 surcharge for a products subtotal (the add-on's ``DirectShipSurcharge::amount``):
    ``round(subtotal × surcharge_percent / 100)`` by ``direct_ship.rounding``; 0 for a non-positive subtotal."""
    rate = rules.direct_ship.surcharge_percent
    if subtotal <= 0 or rate <= 0:
        return ZERO
    return rules.direct_ship.rounding.apply(subtotal * rate / HUNDRED)


def surcharge_mismatch(charged: Decimal, subtotal: Decimal, rules: PricingRules) -> str | None:
    """A reason when the surcharge CS-Cart charged differs from the rule by more than ``tolerance``, else None."""
    expected = direct_ship_surcharge(subtotal, rules)
    if abs(charged - expected) <= rules.direct_ship.tolerance:
        return None
    return (_("直送 surcharge charged ¥{charged} but the rule gives ¥{expected} ({surcharge_percent} % of "
              "¥{subtotal}, rounded {value})").format(
                charged=charged, expected=expected, surcharge_percent=rules.direct_ship.surcharge_percent,
                subtotal=subtotal, value=rules.direct_ship.rounding.mode.value))


def rank_usergroup_ids(rules: PricingRules, usergroups_by_name: Mapping[str, int]) -> tuple[dict[int, int], list[str]]:
    """Rank → usergroup_id from CS-Cart's usergroups (by name), and the names still missing (to be created)."""
    found = {rank: usergroups_by_name[name] for rank, name in rules.rank_usergroups.items() if name in usergroups_by_name}
    missing = [name for rank, name in rules.rank_usergroups.items() if rank not in found]
    return found, missing
