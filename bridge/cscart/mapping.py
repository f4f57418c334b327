"""CS-Cart JSON ↔ records. CS-Cart sends every scalar as a string; parsing here is tolerant, failures name the field.

Transport lives in ``client.py``; this module never does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from bridge.cscart import messages as msg
from bridge.domain.catalog import PriceTier
from bridge.domain.customers import Address
from bridge.domain.money import PLAIN_NUMBER, parse_decimal
from bridge.domain.orders import AppliedPromotion, Order, OrderLine
from bridge.domain.time import from_unix
from bridge.errors import PermanentError
from bridge.i18n import said

N = TypeVar("N", int, Decimal)


class MappingError(PermanentError):
    """CS-Cart answered with data the bridge cannot read; the message names the entity and field."""


# --- tolerant scalars ------------------------------------------------------------------------------------------


def as_int(data: Mapping[str, Any], key: str, default: int | None = None, *, where: str = "") -> int:
    value = data.get(key)
    if type(value) is int:  # what JSON gives most of the time: nothing to parse
        return value
    if type(value) is str and value.isascii() and value.isdigit():  # "12": what CS-Cart sends for its ids
        return int(value)
    return _number(data, key, default, where, _integer)


def _integer(value: Any) -> int:
    return int(parse_decimal(value))


def as_decimal(data: Mapping[str, Any], key: str, default: Decimal | None = None, *, where: str = "") -> Decimal:
    value = data.get(key)
    if type(value) is str and PLAIN_NUMBER.fullmatch(value):  # "1200.00": parse_decimal's own first answer
        return Decimal(value)
    return _number(data, key, default, where, parse_decimal)


def _number(data: Mapping[str, Any], key: str, default: N | None, where: str, parse: Callable[[Any], N]) -> N:
    """``data[key]`` parsed; ``default`` when it is missing or empty (an error naming the field without one)."""
    value = data.get(key)
    if value is None or value == "":
        if default is None:
            raise MappingError(said(msg.FIELD_MISSING, where=where or "record", key=key))
        return default
    try:
        return parse(value)
    except ValueError as exc:
        raise MappingError(said(msg.FIELD_BAD, where=where or "record", key=key, error=exc)) from None


def as_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def as_time(data: Mapping[str, Any], key: str, *, where: str = "") -> datetime | None:
    value = data.get(key)
    if value in (None, "", "0", 0):
        return None
    return from_unix(as_int(data, key, where=where))


# --- records that exist only on the CS-Cart side -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CSCartProduct:
    product_id: int
    product_code: str
    name: str
    status: str
    amount: int
    price: Decimal
    list_price: Decimal | None = None
    company_id: int = 0
    updated_at: datetime | None = None
    tiers: tuple[PriceTier, ...] | None = None  # only from the single GET (API 2.1); None = not read


@dataclass(frozen=True, slots=True)
class CSCartUser:
    user_id: int
    email: str
    user_type: str
    status: str
    company_id: int
    firstname: str = ""
    lastname: str = ""
    company: str = ""
    phone: str = ""
    smile_customer_code: str = ""  # the smile_bridge add-on's column (得意先コード); "" without the add-on


@dataclass(frozen=True, slots=True)
class Usergroup:
    usergroup_id: int
    name: str
    status: str
    type: str


@dataclass(frozen=True, slots=True)
class UsergroupLink:
    usergroup_id: int
    status: str  # A active, P pending, F available/removed


@dataclass(frozen=True, slots=True)
class OrderStatus:
    letter: str
    description: str
    status_id: int
    inventory: str  # D decreases stock, I increases; "" for internal statuses
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StatusChange:
    order_id: int
    requested: str
    actual: str

    @property
    def applied(self) -> bool:
        return self.actual == self.requested

    @property
    def backordered(self) -> bool:
        """CS-Cart could not decrement stock and set Backordered instead of the requested status."""
        return self.actual == "B" and self.requested != "B"


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    page: int
    items_per_page: int
    total_items: int


# --- JSON → records -------------------------------------------------------------------------------------------


def product_from_json(data: Mapping[str, Any]) -> CSCartProduct:
    where = f"product {data.get('product_id', '?')}"
    prices = data.get("prices")
    return CSCartProduct(
        product_id=as_int(data, "product_id", where=where),
        product_code=as_str(data, "product_code"),
        name=as_str(data, "product"),
        status=as_str(data, "status"),
        amount=as_int(data, "amount", 0, where=where),
        price=as_decimal(data, "price", Decimal(0), where=where),
        list_price=as_decimal(data, "list_price", Decimal(0), where=where) if "list_price" in data else None,
        company_id=as_int(data, "company_id", 0, where=where),
        updated_at=as_time(data, "updated_timestamp", where=where),
        tiers=tuple(tier_from_json(row, where) for row in prices) if isinstance(prices, list) else None,
    )


def tier_from_json(row: Mapping[str, Any], where: str = "price row") -> PriceTier:
    discount = as_decimal(row, "percentage_discount", Decimal(0), where=where)
    percentage = discount != 0
    return PriceTier(
        usergroup_id=as_int(row, "usergroup_id", 0, where=where),
        lower_limit=as_int(row, "lower_limit", 1, where=where),
        price=discount if percentage else as_decimal(row, "price", where=where),
        percentage=percentage,
    )


def user_from_json(data: Mapping[str, Any]) -> CSCartUser:
    where = f"user {data.get('user_id', '?')}"
    return CSCartUser(
        user_id=as_int(data, "user_id", where=where),
        email=as_str(data, "email"),
        user_type=as_str(data, "user_type"),
        status=as_str(data, "status"),
        company_id=as_int(data, "company_id", 0, where=where),
        firstname=as_str(data, "firstname"),
        lastname=as_str(data, "lastname"),
        company=as_str(data, "company"),
        phone=as_str(data, "phone"),
        smile_customer_code=as_str(data, "smile_customer_code").strip(),
    )


def usergroups_from_json(data: Any) -> dict[int, Usergroup]:
    """``GET /usergroups`` is a bare map keyed by id (no envelope); an empty one comes as ``[]`` from PHP."""
    rows: Iterable[Any] = data.values() if isinstance(data, Mapping) else (data or [])
    groups = {}
    for row in rows:
        group = Usergroup(
            usergroup_id=as_int(row, "usergroup_id", where="usergroup"),
            name=as_str(row, "usergroup"),
            status=as_str(row, "status"),
            type=as_str(row, "type"),
        )
        groups[group.usergroup_id] = group
    return groups


def usergroup_links_from_json(data: Any) -> list[UsergroupLink]:
    """``GET /users/:id/usergroups``: a map keyed by usergroup_id (with ``link_id``), or ``[]`` when there is none
    (PHP's empty array), as on a real 4.20.1."""
    rows: Iterable[Any] = data.values() if isinstance(data, Mapping) else (data or [])
    return [
        UsergroupLink(usergroup_id=as_int(row, "usergroup_id", where="usergroup link"), status=as_str(row, "status"))
        for row in rows
    ]


def status_from_json(data: Mapping[str, Any]) -> OrderStatus:
    params = data.get("params") or {}
    return OrderStatus(
        letter=as_str(data, "status"),
        description=as_str(data, "description"),
        status_id=as_int(data, "status_id", 0, where="status"),
        inventory=str(params.get("inventory", "")) if isinstance(params, Mapping) else "",
        params={str(k): str(v) for k, v in params.items()} if isinstance(params, Mapping) else {},
    )


def _name(data: Mapping[str, Any], prefix: str) -> str:
    return " ".join(part for part in (as_str(data, f"{prefix}lastname"), as_str(data, f"{prefix}firstname")) if part)


def _address(data: Mapping[str, Any], prefix: str) -> Address:
    """One address of an order. CS-Cart 4.20's lite checkout asks the name and phone once, in the customer
    section (``firstname``, ``lastname``, ``phone``): its stock profile fields leave ``s_``/``b_`` name and phone
    empty on every storefront order, so an empty one falls back to the customer's (seen on a real 4.20.1)."""
    name = _name(data, prefix) or _name(data, "")
    street = as_str(data, f"{prefix}address")
    return Address(
        name=name,
        postcode=as_str(data, f"{prefix}zipcode").replace("-", ""),
        prefecture=as_str(data, f"{prefix}state_descr") or as_str(data, f"{prefix}state"),
        city=as_str(data, f"{prefix}city"),
        street=street,
        building=as_str(data, f"{prefix}address_2"),
        phone=as_str(data, f"{prefix}phone") or as_str(data, "phone"),
    )


def _tax_added(taxes: Any, where: str) -> Decimal:
    """The taxes CS-Cart added on top of the prices (``price_includes_tax`` N); included taxes are in the prices."""
    rows = taxes.values() if isinstance(taxes, Mapping) else taxes if isinstance(taxes, list) else []
    return sum((as_decimal(row, "tax_subtotal", Decimal(0), where=f"{where} taxes") for row in rows
                if isinstance(row, Mapping) and str(row.get("price_includes_tax", "Y")).upper() == "N"), Decimal(0))


def order_from_json(data: Mapping[str, Any]) -> Order:
    """A full order (``GET /orders/:id`` or a ``get_orders_data=1`` row). ``products`` is keyed by item_id."""
    where = f"order {data.get('order_id', '?')}"
    placed_at = as_time(data, "timestamp", where=where)
    if placed_at is None:
        raise MappingError(said(msg.FIELD_MISSING, where=where, key="timestamp"))
    products = data.get("products") or {}
    rows = products.items() if isinstance(products, Mapping) else ((str(i), row) for i, row in enumerate(products))
    lines = tuple(_order_line(row, str(item_id), where) for item_id, row in rows)
    payment = data.get("payment_method")
    shipping = data.get("shipping")
    shipping_ids = str(data.get("shipping_ids") or "")
    return Order(
        order_id=as_int(data, "order_id", where=where),
        status=as_str(data, "status"),
        placed_at=placed_at,
        updated_at=as_time(data, "updated_at", where=where),
        user_id=as_int(data, "user_id", 0, where=where),
        email=as_str(data, "email"),
        total=as_decimal(data, "total", Decimal(0), where=where),
        subtotal=as_decimal(data, "subtotal", Decimal(0), where=where),
        shipping_cost=as_decimal(data, "shipping_cost", Decimal(0), where=where),
        payment_surcharge=as_decimal(data, "payment_surcharge", Decimal(0), where=where),
        tax_added=_tax_added(data.get("taxes"), where),
        payment_id=as_int(data, "payment_id", 0, where=where) or None,
        payment_method=as_str(payment, "payment") if isinstance(payment, Mapping) else "",
        shipping_ids=tuple(int(part) for part in shipping_ids.split(",") if part.strip().isdigit()),
        shipping_method=as_str(shipping[0], "shipping") if isinstance(shipping, list) and shipping else "",
        lines=lines,
        billing=_address(data, "b_"),
        shipping=_address(data, "s_"),
        notes=as_str(data, "notes"),
        company_id=as_int(data, "company_id", 1, where=where),
        promotions=applied_promotions(data, where),
        subtotal_discount=as_decimal(data, "subtotal_discount", Decimal(0), where=where),
    )


def _order_line(row: Mapping[str, Any], item_id: str, where: str) -> OrderLine:
    """One ``products`` row. A promotion's product discount: ``price`` is after it, ``discount`` per unit, so the
    line keeps the price before it (the 受注 slip shows the discount as its own 値引 line)."""
    at = f"{where} item {item_id}"
    discount = as_decimal(row, "discount", Decimal(0), where=at)
    raw_extra = row.get("extra")
    extra: Mapping[str, Any] = raw_extra if isinstance(raw_extra, Mapping) else {}
    # a free_products bonus: CS-Cart marks it exclude_from_calculate, saved_options_key "<promotion id>_<product id>"
    key = str(extra.get("saved_options_key") or "")
    bonus = key.partition("_")[0] if extra.get("exclude_from_calculate") else None
    return OrderLine(
        product_code=as_str(row, "product_code"),
        name=as_str(row, "product"),
        quantity=as_decimal(row, "amount", where=at),
        unit_price=as_decimal(row, "price", Decimal(0), where=at) + discount,
        product_id=as_int(row, "product_id", 0, where=at) or None,
        item_id=as_str(row, "item_id") or item_id,
        discount=discount,
        bonus_of=int(bonus) if bonus not in (None, "") and str(bonus).isdigit() else None,
    )


def applied_promotions(data: Mapping[str, Any], where: str) -> tuple[AppliedPromotion, ...]:
    """The add-on's ``smile_bridge_promotions`` (per promotion: campaign id, discount, free shipping, bonus items)
    or, without it, core's ``promotion_ids`` alone."""
    rows = data.get("smile_bridge_promotions")
    if isinstance(rows, list):
        found = []
        for index, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise MappingError(said(msg.PROMOTION_NOT_OBJECT, where=where, index=index))
            at = f"{where} smile_bridge_promotions[{index}]"
            items = row.get("bonus_items") or []
            found.append(AppliedPromotion(
                promotion_id=as_int(row, "promotion_id", where=at), campaign_id=as_str(row, "campaign_id"),
                discount=as_decimal(row, "discount", Decimal(0), where=at),
                free_shipping=row.get("free_shipping") in (True, "Y", "1", 1),
                bonus_items=tuple((as_str(item, "product_code"), as_decimal(item, "amount", Decimal(1), where=at))
                                  for item in items if isinstance(item, Mapping))))
        return tuple(found)
    ids = str(data.get("promotion_ids") or "")
    return tuple(AppliedPromotion(promotion_id=int(part)) for part in ids.split(",") if part.strip().isdigit())


# --- records → JSON -------------------------------------------------------------------------------------------


def number(value: Decimal | int) -> float | int:
    """JSON number for a yen amount: ints stay ints, fractions keep two places."""
    if isinstance(value, int):
        return value
    return int(value) if value == value.to_integral_value() else float(round(value, 2))


def prices_body(base_price: Decimal, tiers: Iterable[PriceTier]) -> dict[str, Any]:
    """Body of a price write: the **full** tier set, base row first (CS-Cart drops ``prices[0]`` and rebuilds it
    from ``price``, then replaces every tier of the product)."""
    base = PriceTier(usergroup_id=0, lower_limit=1, price=base_price)
    others = sorted(t for t in tiers if (t.usergroup_id, t.lower_limit) != (0, 1))
    rows = []
    for tier in (base, *others):
        row: dict[str, Any] = {"lower_limit": tier.lower_limit, "usergroup_id": tier.usergroup_id,
                               "price": number(tier.price)}
        if tier.percentage:
            row["type"] = "P"
        rows.append(row)
    return {"price": number(base_price), "prices": rows}
