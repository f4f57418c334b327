"""``rules/campaigns.yaml``: campaigns (period, target, conditions, benefits), validated here and compiled into
CS-Cart promotions through the add-on by the campaigns job (bridge/sync/campaigns/). Times are JST; a date alone
means 00:00 JST of that day for ``start`` and the whole day (until 24:00 JST) for ``end``.

Besides the campaigns, the file holds what the compilation and the effect report need: ``categories`` (SMILE
商品分類コード → CS-Cart category ids) and ``costs`` (what free shipping costs the shop per order). ``state_at``
says where a campaign stands at a moment (planned / running / ended / disabled) and ``explain`` puts a campaign in
one Japanese sentence for ``bridge rules check``."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from bridge.domain.time import JST, jst_midnight, to_utc
from bridge.i18n import _
from bridge.rules.common import Percent, RulesModel, require_unique

_COUPON = re.compile(r"[A-Za-z0-9_\-]{3,32}")
PREFECTURES: tuple[str, ...] = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県",
    "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県",
    "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)
"""In JIS X 0401 order: the position + 1 is the prefecture code CS-Cart's Japanese states use (東京都 = 13)."""

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
            raise ValueError(_("the period ends at {end}, not after its start {start} (an end date alone means the end "
                               "of that "
                               "day)").format(end=end, start=start))
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
    customers: list[str] = Field(default_factory=list)
    """SMILE 得意先コード of specific customers (a customer-specific campaign)."""
    regions: list[str] = Field(default_factory=list)
    """都道府県 of the delivery address (e.g. 東京都)."""

    @field_validator("regions")
    @classmethod
    def _prefectures(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in PREFECTURES]
        if unknown:
            raise ValueError(_("unknown 都道府県 {items}; write the full name, e.g. 東京都, 大阪府, 北海道").format(
                                 items=', '.join(unknown)))
        return value

    @model_validator(mode="after")
    def _something(self) -> Target:
        listed = self.categories or self.products or self.customer_groups or self.customers or self.regions
        if self.all and listed:
            raise ValueError(_("all: true targets everything; remove the lists or set all: false"))
        if not self.all and not listed:
            raise ValueError(_("give all: true or at least one of categories, products, customer_groups, customers, "
                               "regions"))
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
    coupon_codes: list[str] = Field(default_factory=list)
    """The customer must enter one of these codes at checkout."""
    max_uses: int | None = Field(None, ge=1)
    """Usage cap: the campaign stops applying after this many orders (CS-Cart counts them)."""

    @field_validator("coupon_codes")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not _COUPON.fullmatch(code)]
        if bad:
            raise ValueError(_("coupon code(s) {items}: use 3–32 letters, digits, - and _").format(
                                 items=', '.join(bad)))
        return value


class Discount(RulesModel):
    type: Literal["discount"]
    percent: Percent | None = None
    amount: Decimal | None = Field(None, gt=0)
    """Yen off."""
    applies_to: Literal["products", "order"] = "products"
    """products = the target's products and categories (the whole cart when the target names none); order = the
    order subtotal."""

    @model_validator(mode="after")
    def _one(self) -> Discount:
        if (self.percent is None) == (self.amount is None):
            raise ValueError(_("give either percent or amount"))
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
            raise ValueError(_("give either percent or amount"))
        return self


Benefit = Annotated[Discount | BonusItem | FreeShipping | Points | Coupon, Field(discriminator="type")]


class Campaign(RulesModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")
    """Stable id (lower case, digits, - and _): the promotion in CS-Cart is found by it; never reuse one."""
    name: str = Field(min_length=1)
    enabled: bool = True
    priority: int = Field(0, ge=0, le=9999)
    """0 … 9999, higher first (written to CS-Cart as 10000 − priority: CS-Cart applies lower numbers first)."""
    stop_other: bool = False
    """No other campaign applies after this one applied to an order. CS-Cart applies every stop_other campaign
    before the others, whatever their priority."""
    period: Period
    target: Target
    conditions: Conditions = Conditions()
    benefits: list[Benefit] = Field(min_length=1)
    fixed_cost: Decimal = Field(Decimal(0), ge=0)
    """Yen the campaign costs besides its discounts (flyers, ads): counted in the effect report's cost."""

    @model_validator(mode="after")
    def _one_coupon(self) -> Campaign:
        if sum(1 for b in self.benefits if isinstance(b, Coupon)) > 1:
            raise ValueError(_("at most one coupon benefit per campaign (a coupon gates the whole promotion)"))
        return self


class Costs(RulesModel):
    """What the effect report counts as the cost of a benefit besides the discount itself."""

    free_shipping_per_order: Decimal = Field(Decimal(0), ge=0)
    """Yen the shop pays the carrier for one order it ships free (the shipping cost it gave away)."""


class SlipRules(RulesModel):
    """How a campaign's discount appears on the SMILE 受注 slip: its own 値引 line naming the campaign id."""

    discount_item_code: str = Field("NB-01", min_length=1)
    """SMILE 商品コード of the 値引 line (a 値引 item in 商品マスター)."""
    discount_item_name: str = Field("値引", min_length=1)
    """Start of the line's 商品名; the campaign id follows."""
    discount_tax_class: str = "1"
    """課税区分 of the line (1 = taxed like the products it reduces)."""
    discount_sign: Literal["price", "quantity"] = "price"
    """Where the minus goes on a 値引 line: price = 数量 1, 単価 −¥ (default); quantity = 数量 −1, 単価 ¥. Not confirmed
    against SMILE (docs/orders.md, "Campaign lines on the slip"): use what your SMILE's 受注 import accepts."""
    discount_columns: dict[str, str] = Field(default_factory=dict)
    """Other columns of the 受注 import set on 値引 lines only, e.g. {取引区分属性: "3"} if your SMILE marks 値引 by
    取引区分属性; each must be a column of the order_import layout (a file with another is refused)."""
    bonus_line: Literal["zero_price", "omit"] = "zero_price"
    """A bonus item: zero_price = its own line at ¥0 naming the campaign (SMILE's stock follows it); omit = not on the
    slip (when your SMILE refuses ¥0 lines; the gift then leaves SMILE's stock by hand)."""


    @model_validator(mode="after")
    def _own_columns(self) -> SlipRules:
        taken = sorted(set(self.discount_columns) & BRIDGE_SLIP_COLUMNS)
        if taken:
            raise ValueError(_("discount_columns cannot set {items}: the bridge writes those itself (use "
                               "discount_item_code, "
                               "discount_tax_class, discount_sign)").format(items=', '.join(taken)))
        return self


BRIDGE_SLIP_COLUMNS = frozenset({"受注日付", "受注№", "行", "得意先ｺｰﾄﾞ", "得意先コード", "商品ｺｰﾄﾞ", "商品コード", "商品名",
                                 "数量", "単価", "金額", "課税区分", "消費税率％", "オーダー№"})


class CampaignRules(RulesModel):
    version: Literal[1] = 1
    categories: dict[str, list[int]] = Field(default_factory=dict)
    """SMILE 商品分類コード → CS-Cart category ids (a target category is compiled to these)."""
    region_codes: dict[str, str] = Field(default_factory=dict)
    """都道府県 → the state code your CS-Cart uses for it (e.g. 東京都: "13"); a name not listed is sent as is."""
    costs: Costs = Costs()
    slip: SlipRules = SlipRules()
    campaigns: list[Campaign] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> CampaignRules:
        require_unique((campaign.id for campaign in self.campaigns), "campaign id")
        return self

    def campaign(self, campaign_id: str) -> Campaign | None:
        return next((c for c in self.campaigns if c.id == campaign_id), None)


def active_campaigns(rules: CampaignRules, now: datetime) -> list[Campaign]:
    """Enabled campaigns whose period contains ``now`` and whose weekdays (JST) include today; highest priority
    first, then by id."""
    weekday = WEEKDAYS[to_utc(now).astimezone(JST).weekday()]
    active = [c for c in rules.campaigns if c.enabled and c.period.contains(now)
              and (not c.conditions.weekdays or weekday in c.conditions.weekdays)]
    return sorted(active, key=lambda c: (-c.priority, c.id))


class CampaignState(str, Enum):
    PLANNED = "planned"
    RUNNING = "running"
    ENDED = "ended"
    DISABLED = "disabled"

    @property
    def label_ja(self) -> str:
        return {"planned": "開始前", "running": "実施中", "ended": "終了", "disabled": "無効"}[self.value]


def state_at(campaign: Campaign, now: datetime) -> CampaignState:
    """Where the campaign stands at ``now``: disabled in the file wins, then the period (to the minute, JST)."""
    if not campaign.enabled:
        return CampaignState.DISABLED
    moment = to_utc(now)
    if moment < campaign.period.start:
        return CampaignState.PLANNED
    if moment >= campaign.period.end:
        return CampaignState.ENDED
    return CampaignState.RUNNING


def next_boundary(rules: CampaignRules, now: datetime) -> datetime | None:
    """The next start or end of any enabled campaign after ``now`` (the job runs again then)."""
    moment = to_utc(now)
    ahead = [edge for c in rules.campaigns if c.enabled for edge in (c.period.start, c.period.end) if edge > moment]
    return min(ahead) if ahead else None


_WEEKDAYS_JA = {"mon": "月", "tue": "火", "wed": "水", "thu": "木", "fri": "金", "sat": "土", "sun": "日"}


def _yen(amount: Decimal) -> str:
    return f"¥{amount:,.0f}" if amount == amount.to_integral_value() else f"¥{amount:,}"


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _moment(value: datetime, *, end: bool) -> str:
    local = value.astimezone(JST)
    if end and local.hour == 0 and local.minute == 0:
        local = local - timedelta(days=1)
        return f"{local.month}/{local.day} 24:00"
    return f"{local.month}/{local.day} {local.hour}:{local.minute:02d}"


def explain(campaign: Campaign) -> str:
    """One Japanese sentence: period, target, conditions and benefits, e.g.
    ``3/1 0:00–3/31 24:00, カテゴリ0100/0200, ¥30,000以上で5%引き+送料無料``."""
    parts = [f"{_moment(campaign.period.start, end=False)}–{_moment(campaign.period.end, end=True)}"]
    target = campaign.target
    if target.all:
        parts.append("全商品")
    if target.categories:
        parts.append("カテゴリ" + "/".join(target.categories))
    if target.products:
        parts.append("商品" + "/".join(target.products))
    if target.customer_groups:
        parts.append("会員グループ" + "/".join(target.customer_groups))
    if target.customers:
        parts.append("得意先" + "/".join(target.customers))
    if target.regions:
        parts.append("配送先" + "/".join(target.regions))
    cond = campaign.conditions
    when: list[str] = []
    if cond.weekdays:
        when.append("".join(_WEEKDAYS_JA[d] for d in cond.weekdays) + "曜日")
    if cond.customer_groups:
        when.append("/".join(cond.customer_groups) + "の会員")
    if cond.products_all:
        when.append("/".join(cond.products_all) + "を全て購入")
    if cond.min_quantity:
        when.append(f"{cond.min_quantity}点以上")
    if cond.min_order_amount:
        when.append(f"{_yen(cond.min_order_amount)}以上")
    if cond.coupon_codes:
        when.append("クーポン" + "/".join(cond.coupon_codes) + "入力")
    benefits = []
    for benefit in campaign.benefits:
        if isinstance(benefit, Discount):
            off = _pct(benefit.percent) if benefit.percent is not None else _yen(benefit.amount or Decimal(0))
            benefits.append(f"{'注文合計から' if benefit.applies_to == 'order' else ''}{off}引き")
        elif isinstance(benefit, BonusItem):
            benefits.append(f"{benefit.product_code}を{benefit.quantity}個プレゼント")
        elif isinstance(benefit, FreeShipping):
            benefits.append("送料無料")
        elif isinstance(benefit, Points):
            benefits.append(f"{benefit.points}ポイント付与")
        else:
            off = _pct(benefit.percent) if benefit.percent is not None else _yen(benefit.amount or Decimal(0))
            benefits.append(f"クーポン{benefit.code}で{off}引き")
    sentence = "+".join(benefits)
    if when:
        sentence = "・".join(when) + "で" + sentence
    if cond.max_uses:
        sentence += f"(先着{cond.max_uses}件)"
    parts.append(sentence)
    return ", ".join(parts)
