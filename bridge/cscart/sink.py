"""Dispatcher sink for target ``cscart``: turns outbox ops into CS-Cart REST calls.

Op vocabulary (``op``: payload). Jobs enqueue exactly these; ids are CS-Cart ids (from bindings), money is a JSON
number or numeric string in yen.

``product.stock``     ``{"product_id": 12, "amount": 40}``
``product.prices``    ``{"product_id": 12, "price": 1200, "tiers": [{"usergroup_id": 3, "lower_limit": 1,
                      "price": 1000}, {"usergroup_id": 0, "lower_limit": 10, "price": 5, "percentage": true}]}``
                      — the **complete** tier set: CS-Cart deletes every tier not sent.
``product.update``    ``{"product_id": 12, "fields": {"product": "…", "status": "A", …}}``
``order.status``      ``{"order_id": 96, "status": "E", "notify_user": false, "notify_department": false}``
                      — a Backordered result or a status CS-Cart did not apply is a permanent error for staff.
``shipment.create``   ``{"order_id": 96, "shipping_id": 1, "carrier": "yamato", "tracking_number": "1234…",
                      "products": {"<item_id>": 2}, "order_status": "G", "notify_user": false, "comments": ""}``
                      — skipped when the order already has a shipment with that tracking number (a retry).
``order.mail``        ``{"order_id": 96, "kind": "payment_received", "values": {…}}`` — one of the smile_bridge
                      add-on's Japanese customer mails (POST smile_bridge_mails), keyed by the op's idempotency key
                      so CS-Cart sends it once; needs the add-on.
``user.update``       ``{"user_id": 4, "fields": {"firstname": "…", "b_address": "…"}}`` (company_id is added)
``usergroup.link``    ``{"user_id": 4, "usergroup_id": 3, "status": "A"}`` (A active, P pending, F removed)
``product.create``    ``{"product_code": "A-100", "fields": {"product": "…", "status": "A", …},
                      "initial": {"category_ids": [5]}}`` (``initial`` only goes with a POST) — first looks for a
                      product with exactly that code (a retry after a crash between POST and binding adopts it and
                      PUTs ``fields`` instead of creating a twin), else POSTs; the product_id is handed to
                      ``on_created`` (binding + ledger, one store transaction) *before* the op counts as done.
``user.create``       ``{"customer_code": "000123", "fields": {"company": "…", …}, "initial": {"email": "…"},
                      "usergroup_id": 3}`` (optional: the rank group, linked A right after the account is made)
                      — adopts (PUT ``fields``) the customer whose e-mail matches exactly, else POSTs;
                      ``on_created`` as for products.

Every text goes through the text guard first (non-BMP characters mapped or the op refused, naming the field).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from bridge.cscart import messages as msg
from bridge.cscart.addon_protocol import MAIL_KINDS
from bridge.cscart.client import CSCartClient, NotFoundError
from bridge.domain.catalog import PriceTier
from bridge.domain.limits import CSCART_MAX_AMOUNT
from bridge.domain.money import parse_decimal
from bridge.errors import PermanentError
from bridge.i18n import said
from bridge.store.outbox import OutboxOp

OPS = ("product.stock", "product.prices", "product.update", "order.status", "shipment.create", "user.update",
       "usergroup.link", "product.create", "user.create", "order.mail")

# Called with the create op and the CS-Cart id it produced (new or adopted); must persist the binding durably.
OnCreated = Callable[[OutboxOp, int], Awaitable[None]]


class PayloadError(PermanentError):
    """An outbox payload that does not fit its op; names the op id and the field."""


class CSCartSink:
    target = "cscart"

    def __init__(self, client: CSCartClient, on_created: OnCreated | None = None) -> None:
        self.client = client
        self.on_created = on_created
        self._handlers: dict[str, Callable[[OutboxOp, Mapping[str, Any]], Awaitable[None]]] = {
            "product.stock": self._stock,
            "product.prices": self._prices,
            "product.update": self._product_update,
            "order.status": self._order_status,
            "shipment.create": self._shipment,
            "user.update": self._user_update,
            "usergroup.link": self._usergroup_link,
            "product.create": self._product_create,
            "user.create": self._user_create,
            "order.mail": self._order_mail,
        }

    async def deliver(self, op: OutboxOp) -> None:
        handler = self._handlers.get(op.op)
        if handler is None:
            raise PayloadError(said(msg.UNKNOWN_OP, id=op.id, op=op.op, known=", ".join(OPS)))
        payload = op.payload
        if not isinstance(payload, Mapping):
            raise PayloadError(said(msg.PAYLOAD_NOT_OBJECT, id=op.id, op=op.op, kind=type(payload).__name__))
        await handler(op, payload)

    async def already_applied(self, op: OutboxOp) -> bool:
        """Asked before resending an op a dead dispatcher held: a stock amount is read back (one GET instead of a
        second write), and so is an order's status (a status write may mail the customer: it is never sent twice
        when the order already has that status); other ops are idempotent writes and are simply sent again."""
        p = op.payload
        if not isinstance(p, Mapping):
            return False
        if op.op == "order.status":
            letter = p.get("status")
            if not isinstance(letter, str):
                return False
            order = await self.client.get_order(_int(op, p, "order_id"))
            return order.status == letter
        if op.op != "product.stock" or p.get("warehouses"):
            return False
        product = await self.client.get_product(_int(op, p, "product_id"))
        return product.amount == _int(op, p, "amount")

    async def _stock(self, op: OutboxOp, p: Mapping[str, Any]) -> None:
        warehouses = p.get("warehouses")
        if warehouses:  # Warehouses add-on: {warehouse_id: amount}, with the total as ``amount``
            if not isinstance(warehouses, Mapping):
                raise PayloadError(said(msg.WAREHOUSES_MAP, id=op.id, op=op.op))
            body = {"amount": _amount(op, p),
                    "warehouses": {str(k): _int(op, warehouses, k, "warehouses") for k in warehouses}}
            await self.client.update_product(_int(op, p, "product_id"), body)
            return
        await self.client.set_stock(_int(op, p, "product_id"), _amount(op, p))

    async def _prices(self, op: OutboxOp, p: Mapping[str, Any]) -> None:
        await self.client.set_prices(_int(op, p, "product_id"), _decimal(op, p, "price"), price_tiers(op, p))

    async def _product_update(self, op: OutboxOp, p: Mapping[str, Any]) -> None:
        await self.client.update_product(_int(op, p, "product_id"), _fields(op, p))

    async def _order_status(self, op: OutboxOp, p: Mapping[str, Any]) -> None:
        order_id = _int(op, p, "order_id")
        letter = p.get("status")
        if not isinstance(letter, str) or len(letter) != 1:
            raise PayloadError(said(msg.STATUS_LETTER, id=op.id, op=op.op, letter=letter))
        change = await self.client.change_order_status(
            order_id, letter, notify_user=bool(p.get("notify_user", False)),
            notify_department=bool(p.get("notify_department", False)),
            notify_vendor=bool(p.get("notify_vendor", False)),
        )
        if change.backordered:
            raise PermanentError(said(msg.BACKORDERED, order_id=order_id, letter=letter),
                                 hint=said(msg.HINT_BACKORDERED))
        if not change.applied:
            raise PermanentError(said(msg.STATUS_KEPT, order_id=order_id, actual=change.actual, letter=letter),
                                 hint=said(msg.HINT_STATUS_KEPT))

    async def _order_mail(self, op: OutboxOp, p: Mapping[str, Any]) -> None:
        from bridge.cscart.addon_client import AddonClient

        kind = p.get("kind")
        if not isinstance(kind, str) or kind not in MAIL_KINDS:
            raise PayloadError(said(msg.MAIL_KIND, id=op.id, op=op.op, kinds=", ".join(MAIL_KINDS)))
        values = p.get("values") or {}
        if not isinstance(values, Mapping):
            raise PayloadError(said(msg.VALUES_OBJECT, id=op.id, op=op.op))
        key = op.idempotency_key or f"op/{op.id}"
        try:
            await AddonClient(self.client).send_mail(_int(op, p, "order_id"), kind, key, values)
        except NotFoundError as exc:
            raise PermanentError(said(msg.MAIL_NOT_SENT, order=p.get("order_id"), kind=kind, error=exc),
                                 hint=said(msg.HINT_MAIL_NOT_SENT)) from exc

    async def _shipment(self, op: OutboxOp, p: Mapping[str, Any]) -> None:
        order_id = _int(op, p, "order_id")
        tracking = str(p.get("tracking_number") or "")
        if tracking:
            existing = await self.client.list_shipments(order_id)
            if any(str(row.get("tracking_number")) == tracking for row in existing):
                return  # delivered before a crash or a lost answer: never a second shipment
        products = p.get("products")
        if products is not None and not isinstance(products, Mapping):
            raise PayloadError(said(msg.PRODUCTS_MAP, id=op.id, op=op.op))
        await self.client.create_shipment(
            order_id, shipping_id=_int(op, p, "shipping_id"), carrier=str(p.get("carrier") or ""),
            tracking_number=tracking,
            products={str(k): _decimal(op, products, str(k), "products") for k in products} if products else None,
            order_status=p.get("order_status") or None, comments=str(p.get("comments") or ""),
            notify_user=bool(p.get("notify_user", False)), status=str(p.get("status") or "S"),
            timestamp=_int(op, p, "timestamp") if p.get("timestamp") is not None else None,
        )

    async def _user_update(self, op: OutboxOp, p: Mapping[str, Any]) -> None:
        await self.client.update_user(_int(op, p, "user_id"), _fields(op, p))

    async def _usergroup_link(self, op: OutboxOp, p: Mapping[str, Any]) -> None:
        await self.client.set_usergroup_link(_int(op, p, "user_id"), _int(op, p, "usergroup_id"),
                                             str(p.get("status") or "A"))

    async def _product_create(self, op: OutboxOp, p: Mapping[str, Any]) -> None:
        code = _code(op, p, "product_code")
        fields = {**_fields(op, p), "product_code": code}
        # pcode is LIKE %code%: compare exactly here
        matches = [row async for row in self.client.iter_products(pcode=code) if row.product_code == code]
        if len(matches) > 1:
            ids = ", ".join(str(row.product_id) for row in matches)
            raise PermanentError(said(msg.DUPLICATE_CODE, code=code, count=len(matches), ids=ids),
                                 hint=said(msg.HINT_DUPLICATE_CODE))
        if matches:  # created before a crash, or made by staff: adopt it and write the bridge's fields
            product_id = matches[0].product_id
            await self.client.update_product(product_id, fields)
        else:
            # create-only fields (categories): the shop's afterwards
            product_id = await self.client.create_product({**_initial(op, p), **fields})
        await self._created(op, product_id)

    async def _user_create(self, op: OutboxOp, p: Mapping[str, Any]) -> None:
        _code(op, p, "customer_code")
        fields = _fields(op, p)
        initial = _initial(op, p)
        email = str(initial.get("email") or fields.get("email") or "").strip()
        if not email:
            raise PayloadError(said(msg.EMAIL_REQUIRED, id=op.id, op=op.op))
        # the email filter is LIKE %x%: compare exactly here
        matches = [u async for u in self.client.iter_users(email=email) if u.email.lower() == email.lower()]
        if len(matches) > 1:
            raise PermanentError(said(msg.SHARED_EMAIL, count=len(matches), email=email),
                                 hint=said(msg.HINT_SHARED_EMAIL))
        if matches:
            user_id = matches[0].user_id
            await self.client.update_user(user_id, fields)
        else:
            user_id = await self.client.create_user({**initial, **fields, "email": email})
        if p.get("usergroup_id") is not None:
            # the rank usergroup with the new account (on_created records the link in the ledger)
            await self.client.set_usergroup_link(user_id, _int(op, p, "usergroup_id"), "A")
        await self._created(op, user_id)

    async def _created(self, op: OutboxOp, remote_id: int) -> None:
        if self.on_created is None:
            raise PermanentError(said(msg.NO_BINDING, id=op.id, op=op.op, remote_id=remote_id),
                                 hint=said(msg.HINT_NO_BINDING))
        await self.on_created(op, remote_id)


def price_tiers(op: OutboxOp, p: Mapping[str, Any]) -> list[PriceTier]:
    """The ``tiers`` of a ``product.prices`` payload (the add-on's batch sink shares this)."""
    return [PriceTier(usergroup_id=_int(op, tier, "usergroup_id", where),
                      lower_limit=_int(op, tier, "lower_limit", where), price=_decimal(op, tier, "price", where),
                      percentage=bool(tier.get("percentage", False)))
            for where, tier in listed_objects(op, p, "tiers", default=[])]


def listed_objects(op: OutboxOp, p: Mapping[str, Any], name: str, *, default: Any = None,
                   not_a_list: str = msg.NOT_A_LIST) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(``name[i]``, object) of a payload field that must be a list of objects; ``not_a_list`` says so (a
    ``messages`` sentence with ``{id} {op} {name}``)."""
    items = p.get(name, default)
    if not isinstance(items, list):
        raise PayloadError(said(not_a_list, id=op.id, op=op.op, name=name))
    for index, item in enumerate(items):
        where = f"{name}[{index}]"
        if not isinstance(item, Mapping):
            raise PayloadError(said(msg.NOT_AN_OBJECT, id=op.id, op=op.op, name=where))
        yield where, item


def _initial(op: OutboxOp, p: Mapping[str, Any]) -> dict[str, Any]:
    initial = p.get("initial") or {}
    if not isinstance(initial, Mapping):
        raise PayloadError(said(msg.NOT_AN_OBJECT, id=op.id, op=op.op, name="initial"))
    return dict(initial)


def _code(op: OutboxOp, data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(said(msg.CODE_REQUIRED, id=op.id, op=op.op, name=key))
    return value


def _int(op: OutboxOp, data: Mapping[str, Any], key: str, where: str = "") -> int:
    name = f"{where}.{key}" if where else key
    value = data.get(key)
    if value is None or isinstance(value, bool):
        raise PayloadError(said(msg.INTEGER_REQUIRED, id=op.id, op=op.op, name=name))
    try:
        number = parse_decimal(value)
    except ValueError as exc:
        raise PayloadError(said(msg.NOT_A_NUMBER, id=op.id, op=op.op, name=name, error=exc)) from None
    if number != number.to_integral_value():
        raise PayloadError(said(msg.NOT_WHOLE, id=op.id, op=op.op, name=name, value=value))
    return int(number)


def _amount(op: OutboxOp, p: Mapping[str, Any]) -> int:
    """A stock amount CS-Cart's column can hold (0 … 8,388,607); anything else is refused, never clipped."""
    amount = _int(op, p, "amount")
    if not 0 <= amount <= CSCART_MAX_AMOUNT:
        raise PayloadError(said(msg.AMOUNT_RANGE, id=op.id, op=op.op, product_id=p.get("product_id"),
                                amount=f"{amount:,}", maximum=f"{CSCART_MAX_AMOUNT:,}"))
    return amount


def _decimal(op: OutboxOp, data: Mapping[str, Any], key: str, where: str = "") -> Decimal:
    name = f"{where}.{key}" if where else key
    if data.get(key) is None:
        raise PayloadError(said(msg.NUMBER_REQUIRED, id=op.id, op=op.op, name=name))
    try:
        return parse_decimal(data[key])
    except ValueError as exc:
        raise PayloadError(said(msg.NOT_A_NUMBER, id=op.id, op=op.op, name=name, error=exc)) from None


def _fields(op: OutboxOp, p: Mapping[str, Any]) -> dict[str, Any]:
    fields = p.get("fields")
    if not isinstance(fields, Mapping) or not fields:
        raise PayloadError(said(msg.FIELDS_NON_EMPTY, id=op.id, op=op.op))
    return dict(fields)
