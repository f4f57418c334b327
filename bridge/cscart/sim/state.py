"""The simulator's in-memory store: records, settings and the side effects CS-Cart applies on writes.

Entity modules (products.py, orders.py, …) translate HTTP to calls on this object; the rules of what a write does
(stock moving only on an inventory flip, ``B`` on a failed decrement, ``?`` for non-BMP text) live here, once.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


def mysql_utf8(text: str) -> str:
    """What CS-Cart's 3-byte ``utf8`` MySQL connection keeps: each 4-byte character becomes ``????`` (observed:
    ``𠮷田`` → ``????田``)."""
    if all(ord(ch) <= 0xFFFF for ch in text):
        return text
    return "".join("????" if ord(ch) > 0xFFFF else ch for ch in text)


def money(value: Any) -> str:
    """CS-Cart's decimal columns come back as ``"1234.00"``."""
    return f"{Decimal(str(value)):.2f}"


@dataclass(slots=True)
class SimProduct:
    product_id: int
    product_code: str
    product: str
    price: str
    list_price: str
    amount: int
    timestamp: int
    updated_timestamp: int
    status: str = "A"
    company_id: int = 1
    tracking: str = "B"
    # (lower_limit, usergroup_id, price, percentage_discount) besides the base row; None = only the base row
    tiers: list[tuple[int, int, str, str]] | None = None
    extra: dict[str, str] | None = None  # add-on columns written through PUT
    # product name per language where it differs from ``product`` (the default language's): a PUT without
    # lang_code writes only the default language's row, so the others keep the name they had
    names: dict[str, str] | None = None
    category_ids: tuple[int, ...] = ()  # what a promotion's categories condition looks at

    def name_in(self, lang: str | None, default_language: str) -> str:
        if not lang or lang == default_language or not self.names:
            return self.product
        return self.names.get(lang, self.product)


@dataclass(slots=True)
class SimUser:
    user_id: int
    email: str
    user_type: str
    company_id: int
    firstname: str = ""
    lastname: str = ""
    company: str = ""
    phone: str = ""
    status: str = "A"
    timestamp: int = 0
    profile: dict[str, str] = field(default_factory=dict)  # b_*/s_* address fields
    usergroups: dict[int, str] = field(default_factory=dict)  # usergroup_id → A/P/F
    extra: dict[str, str | None] = field(default_factory=dict)  # the add-on's columns (sim/addon.py)


@dataclass(slots=True)
class SimUsergroup:
    usergroup_id: int
    usergroup: str
    status: str = "A"
    type: str = "C"


@dataclass(slots=True)
class SimStatus:
    status_id: int
    status: str
    description: str
    inventory: str  # D or I; "" for internal ones
    type: str = "O"
    is_default: str = "N"
    params: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class SimItem:
    item_id: str
    product_id: int
    product_code: str
    product: str
    price: str
    amount: int
    shipped: int = 0
    discount: str = "0.00"  # per unit, from a promotion (CS-Cart's products[].discount)
    promotion_id: int | None = None  # set on a ¥0 bonus item (free_products)


@dataclass(slots=True)
class SimOrder:
    order_id: int
    user_id: int
    status: str
    timestamp: int
    updated_at: int
    items: dict[str, SimItem]
    email: str = ""
    firstname: str = ""
    lastname: str = ""
    phone: str = ""
    company: str = ""
    payment_id: int = 1
    shipping_id: int = 1
    shipping_cost: str = "0.00"
    payment_surcharge: str = "0.00"  # the payment method's fee (代引手数料)
    notes: str = ""
    details: str = ""
    company_id: int = 1
    address: dict[str, str] = field(default_factory=dict)  # b_*/s_*
    shipment_ids: list[int] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # the add-on's columns (sim/addon.py)
    # applied promotions (cscart_orders.promotions): promotion_id → {"bonuses": [...]} and, per promotion, what it
    # gave (sim/promotions.py): {"discount": "500.00", "free_shipping": "800.00", "bonus_items": [...]}
    promotions: dict[int, dict[str, Any]] = field(default_factory=dict)
    subtotal_discount: str = "0.00"  # order-level discounts

    @property
    def subtotal(self) -> Decimal:
        return sum((Decimal(i.price) * i.amount for i in self.items.values()), Decimal(0))

    @property
    def discount(self) -> Decimal:
        """Product discounts (per unit × amount)."""
        return sum((Decimal(i.discount) * i.amount for i in self.items.values()), Decimal(0))

    @property
    def total(self) -> Decimal:
        surcharge = Decimal(self.extra.get("smile_direct_ship_surcharge") or 0)  # the add-on's 直送 line
        return (self.subtotal - self.discount - Decimal(self.subtotal_discount) + Decimal(self.shipping_cost)
                + Decimal(self.payment_surcharge) + surcharge)


@dataclass(slots=True)
class SimShipment:
    shipment_id: int
    order_id: int
    shipping_id: int
    tracking_number: str
    carrier: str
    status: str
    timestamp: int
    comments: str
    products: dict[str, int]


@dataclass(frozen=True, slots=True)
class Notification:
    """An e-mail CS-Cart would send; ``notify_*`` flags are tested with PHP ``!empty()``."""

    order_id: int
    status: str
    to_customer: bool
    to_department: bool
    to_vendor: bool


@dataclass
class SimSettings:
    email: str = "admin@example.jp"
    api_key: str = "sim-api-key"
    admin_elements_per_page: int = 50  # default page size when a request sends no items_per_page
    allow_negative_amount: bool = False
    company_id: int = 1
    languages: tuple[str, ...] = ("en", "ja")  # the first is DEFAULT_LANGUAGE (what a write without lang_code hits)


def php_empty(value: Any) -> bool:
    """PHP ``empty()``: only false, 0, "0", "", null and [] are empty; "N", "false" and "no" are not."""
    return value in (None, False, 0, "0", "", [], {})


def item_id_for(order_id: int, product_id: int, index: int) -> str:
    """CS-Cart keys order lines by a cart hash, not by product_id."""
    return str(zlib.crc32(f"{order_id}:{product_id}:{index}".encode()) or 1)


@dataclass
class SimState:
    settings: SimSettings = field(default_factory=SimSettings)
    clock: Callable[[], float] = time.time
    products: dict[int, SimProduct] = field(default_factory=dict)
    users: dict[int, SimUser] = field(default_factory=dict)
    usergroups: dict[int, SimUsergroup] = field(default_factory=dict)
    statuses: dict[str, SimStatus] = field(default_factory=dict)
    orders: dict[int, SimOrder] = field(default_factory=dict)
    shipments: dict[int, SimShipment] = field(default_factory=dict)
    payments: dict[int, str] = field(default_factory=dict)
    shippings: dict[int, str] = field(default_factory=dict)
    categories: dict[int, str] = field(default_factory=dict)  # besides the ids products are in (GET /categories)
    # flat cost per shipping method for orders created over REST (CS-Cart rates them); none = free
    shipping_rates: dict[int, Decimal] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    promotions: dict[int, Any] = field(default_factory=dict)  # cscart_promotions (sim/promotions.py)
    reward_points: bool = False  # the Reward points add-on (give_points bonuses)
    next_ids: dict[str, int] = field(default_factory=dict)
    _id_rows: dict[str, int] = field(default_factory=dict)  # rows per kind after the last new_id
    addon: Any = None  # simulator.addon.AddonState while the smile_bridge add-on is installed
    _sorted_cache: dict[tuple[str, str, int], list[int]] = field(default_factory=dict)
    _catalog_version: int = 0

    def now(self) -> int:
        return int(self.clock())

    def new_id(self, kind: str, existing: dict[int, Any]) -> int:
        """The next id, as MySQL's AUTO_INCREMENT gives it: above every row's. A scan per order made placing the
        10,000th order cost 10,000 steps (the simulated store slowed down as a burst went on), so the rows are
        looked at only when they changed other than through here: their count differs, or the newest key (dicts keep
        insertion order) is at or above the next id. Changes that cancel out in both (a high id seeded, another row
        deleted, a low id added last) go unseen; the id is then still one no row has, only not above them all."""
        value = self.next_ids.get(kind, 1)
        if self._id_rows.get(kind) != len(existing) or (existing and next(reversed(existing)) >= value):
            value = max(value, (max(existing) + 1) if existing else 1)
        while value in existing:
            value += 1
        self.next_ids[kind] = value + 1
        self._id_rows[kind] = len(existing) + 1  # the caller adds the row under this id
        return value

    # --- catalog ----------------------------------------------------------------------------------------------

    def catalog_changed(self) -> None:
        """Products were created or deleted: cached listing orders are stale."""
        self._catalog_version += 1
        self._sorted_cache.clear()

    def product_order(self, sort_by: str, descending: bool) -> list[int]:
        """Product ids in listing order, always with CS-Cart's ``product_id ASC`` tie-breaker."""
        key = (sort_by, "desc" if descending else "asc", self._catalog_version)
        cached = self._sorted_cache.get(key)
        if cached is not None:
            return cached
        attr = {"code": "product_code", "product": "product", "timestamp": "timestamp", "price": "price",
                "list_price": "list_price", "amount": "amount", "updated_timestamp": "updated_timestamp",
                "status": "status"}.get(sort_by)
        ids = list(self.products)  # insertion order = product_id order
        if attr is not None:
            numeric = attr in ("price", "list_price")

            def sort_key(pid: int) -> Any:
                value = getattr(self.products[pid], attr)
                return float(value) if numeric else value

            # Python's sort is stable and ids start in id order, so ties stay product_id ASC.
            if descending:
                ids = _stable_desc(ids, sort_key)
            else:
                ids.sort(key=sort_key)
        if attr in (None, "timestamp", "product", "product_code"):  # keys only creation or rename changes
            self._sorted_cache[key] = ids
        return ids

    def rename_happened(self) -> None:
        self._sorted_cache.clear()

    # --- orders -----------------------------------------------------------------------------------------------

    def inventory_of(self, letter: str) -> str:
        if letter == "N":  # incomplete orders hold no stock
            return "I"
        status = self.statuses.get(letter)
        return status.inventory if status else ""

    def change_order_status(self, order: SimOrder, to: str, *, notify: dict[str, Any] | None = None,
                            place_order: bool = False) -> str:
        """``fn_change_order_status``: stock moves only on an inventory flip; a failed decrement gives ``B``."""
        before = order.status
        if to == before and not place_order:
            return before
        old_inv, new_inv = self.inventory_of(before), self.inventory_of(to)
        if old_inv == "I" and new_inv == "D":
            if self._can_decrement(order):
                self._move_stock(order, -1)
            else:
                to = "B"
        elif old_inv == "D" and new_inv == "I":
            self._move_stock(order, +1)
        order.status = to
        order.updated_at = self.now()
        flags = notify or {}
        self.notifications.append(Notification(
            order_id=order.order_id, status=to,
            to_customer=not php_empty(flags.get("notify_user")),
            to_department=not php_empty(flags.get("notify_department")),
            to_vendor=not php_empty(flags.get("notify_vendor")),
        ))
        if self.promotions and order.promotions:  # fn_promotion_post_processing: usages follow the status
            from bridge.cscart.sim.promotions import count_usage

            count_usage(self, order, before, to)
        if self.addon is not None:  # the add-on's change_order_status_post hook
            self.addon.record("order.status_changed", order.order_id, {"status_from": before, "status_to": to})
            if not php_empty(flags.get("notify_user")):  # the customer's status mail (the add-on's templates)
                from bridge.cscart.sim.mail import on_status_mail

                on_status_mail(self, order, to)
        return to

    def _can_decrement(self, order: SimOrder) -> bool:
        if self.settings.allow_negative_amount:
            return True
        for item in order.items.values():
            product = self.products.get(item.product_id)
            if product is not None and product.tracking == "B" and product.amount < item.amount:
                return False
        return True

    def _move_stock(self, order: SimOrder, sign: int) -> None:
        # Order-driven stock changes do not touch updated_timestamp (fn_update_product_amount).
        for item in order.items.values():
            product = self.products.get(item.product_id)
            if product is not None and product.tracking == "B":
                product.amount += sign * item.amount

    def place_order(self, *, user_id: int, lines: list[tuple[int, int]], payment_id: int = 1,
                    shipping_id: int = 1, status: str = "O", notes: str = "", timestamp: int | None = None,
                    customer: dict[str, str] | None = None, direct_ship: dict[str, str] | None = None,
                    shipping_cost: Any = 0, coupon_codes: tuple[str, ...] = ()) -> SimOrder:
        """What the storefront does: create the order as ``N``, then ``N → O`` with place_order (stock moves).

        With the add-on, ``direct_ship`` ({"recipient": …}) is the checkout's 直送 choice: the flag, the recipient
        and the surcharge land on the order, and the hooks write their events."""
        order_id = self.new_id("order", self.orders)
        items: dict[str, SimItem] = {}
        for index, (product_id, amount) in enumerate(lines):
            product = self.products.get(product_id)
            if product is None:
                raise KeyError(f"product {product_id} does not exist")
            item_id = item_id_for(order_id, product_id, index)
            items[item_id] = SimItem(item_id=item_id, product_id=product_id, product_code=product.product_code,
                                     product=product.product, price=product.price, amount=int(amount))
        user = self.users.get(user_id)
        customer = {k: mysql_utf8(str(v)) for k, v in (customer or {}).items()}
        now = self.now() if timestamp is None else int(timestamp)
        order = SimOrder(
            order_id=order_id, user_id=user_id, status="N", timestamp=now, updated_at=now, items=items,
            email=customer.pop("email", user.email if user else ""),
            firstname=customer.pop("firstname", user.firstname if user else ""),
            lastname=customer.pop("lastname", user.lastname if user else ""),
            phone=customer.pop("phone", user.phone if user else ""),
            company=customer.pop("company", user.company if user else ""),
            payment_id=payment_id, shipping_id=shipping_id, notes=mysql_utf8(notes),
            company_id=self.settings.company_id, address={**(user.profile if user else {}), **customer},
            shipping_cost=money(shipping_cost),
        )
        if self.promotions:  # the cart-zone promotions CS-Cart applies at checkout
            from bridge.cscart.sim.promotions import apply_cart_promotions

            apply_cart_promotions(self, order, coupon_codes)
        self.orders[order_id] = order
        if self.addon is not None:
            self.addon.on_order_created(self, order, direct_ship)
        if status != "N":
            self.change_order_status(order, status, place_order=True)
            if timestamp is not None:
                order.updated_at = int(timestamp)
        if self.addon is not None:
            self.addon.record("order.placed", order_id, {"status": order.status, "user_id": user_id,
                                                         "total": str(order.total)})
            self.addon.record("order.updated", order_id, {"status": order.status})  # place_order_post, new order
        return order

    def next_free_letter(self) -> str | None:
        for letter in "ABCDEFGHIJKLMOPQRSUVWXYZ":  # N and T are reserved
            if letter not in self.statuses:
                return letter
        return None


def _stable_desc(ids: list[int], key: Callable[[int], Any]) -> list[int]:
    """Descending by key, but ties stay product_id ASC (CS-Cart appends ``product_id ASC`` to every sort)."""
    return sorted(ids, key=lambda pid: (_Desc(key(pid)), pid))


class _Desc:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return bool(self.value > other.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value
