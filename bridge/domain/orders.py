"""Orders, their workflow states and shipments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from bridge.domain.customers import Address


class WorkflowState(str, Enum):
    """The seeds' order workflow (DESIGN.md); CS-Cart letters for each come from rules/order_flow.yaml."""

    RECEIVED = "received"  # 受注
    HOLD = "hold"  # 保留
    SHIPPING_INSTRUCTED = "shipping_instructed"  # 出荷指示
    SHIPPED = "shipped"  # 出荷済
    NOTIFIED = "notified"  # 出荷通知済
    COMPLETE = "complete"  # 完了
    CANCELLED = "cancelled"  # キャンセル

    @property
    def label_ja(self) -> str:
        return _LABELS_JA[self]


_LABELS_JA = {
    WorkflowState.RECEIVED: "受注",
    WorkflowState.HOLD: "保留",
    WorkflowState.SHIPPING_INSTRUCTED: "出荷指示",
    WorkflowState.SHIPPED: "出荷済",
    WorkflowState.NOTIFIED: "出荷通知済",
    WorkflowState.COMPLETE: "完了",
    WorkflowState.CANCELLED: "キャンセル",
}


class PaymentState(str, Enum):
    UNPAID = "unpaid"
    AUTHORISED = "authorised"
    PAID = "paid"
    ON_ACCOUNT = "on_account"  # 掛売
    COD = "cod"  # 代引き


@dataclass(frozen=True, slots=True)
class OrderLine:
    product_code: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    product_id: int | None = None
    item_id: str = ""
    tax_rate: Decimal | None = None
    discount: Decimal = Decimal(0)  # per unit, given by a promotion (unit_price is before it)
    bonus_of: int | None = None  # promotion id of a free bonus item (¥0 line)


@dataclass(frozen=True, slots=True)
class AppliedPromotion:
    """A CS-Cart promotion that applied to the order and what it gave (the add-on reports the amounts)."""

    promotion_id: int
    campaign_id: str = ""  # rules/campaigns.yaml id when the bridge manages the promotion
    discount: Decimal = Decimal(0)  # yen off the order (product and order discounts of this promotion)
    free_shipping: bool = False  # it made shipping free (CS-Cart keeps no amount for that)
    bonus_items: tuple[tuple[str, Decimal], ...] = ()  # (商品コード, quantity) given free


@dataclass(frozen=True, slots=True)
class Order:
    """A CS-Cart order as the bridge mirrors it."""

    order_id: int
    status: str  # CS-Cart status letter
    placed_at: datetime
    updated_at: datetime | None
    user_id: int
    email: str
    total: Decimal
    subtotal: Decimal = Decimal(0)
    shipping_cost: Decimal = Decimal(0)
    payment_surcharge: Decimal = Decimal(0)  # 代引手数料 and other payment fees (CS-Cart payment_surcharge)
    payment_id: int | None = None
    payment_method: str = ""
    shipping_ids: tuple[int, ...] = ()
    shipping_method: str = ""
    lines: tuple[OrderLine, ...] = ()
    billing: Address = Address()
    shipping: Address = Address()
    customer_code: str = ""  # 得意先コード when known
    direct_ship: bool = False  # 直送
    ship_to_code: str = ""  # 納品先コード
    delivery_date: date | None = None
    delivery_slot: str = ""
    cod_amount: Decimal | None = None  # 代引金額 when it differs from total; None = collect the total
    tax_total: Decimal | None = None  # consumption tax included in total, when CS-Cart reports it
    notes: str = ""
    company_id: int = 1
    extra: dict[str, str] = field(default_factory=dict)
    promotions: tuple[AppliedPromotion, ...] = ()
    subtotal_discount: Decimal = Decimal(0)  # order-level promotion discounts (product ones are on the lines)
    # Added with issue 15; left out of the mirror's content hash at its default (orders.content_hash), so an
    # upgrade does not make every exported order look edited.
    tax_added: Decimal = Decimal(0)  # tax CS-Cart added on top of tax-excluded prices (SMILE computes its own)


@dataclass(frozen=True, slots=True)
class Shipment:
    order_id: int
    carrier: str  # yamato | sagawa | japanpost | other
    tracking_number: str
    shipped_at: datetime
    items: tuple[tuple[str, Decimal], ...] = ()  # (item_id, quantity); empty = every item
    comments: str = ""
