"""CS-Cart REST client (API 2.1): one pooled aiohttp session, HTTP Basic, a concurrency limit, metrics per endpoint,
and every failure classified once into ``bridge.errors`` for the dispatcher. Retries are not done here.

The quirks it handles (see docs/cscart.md): ``Content-Type: application/json`` on every body (without it CS-Cart
answers 200 and ignores the body), explicit ``items_per_page`` and lean product listings, ``prices`` written whole
with the base row first, status-only order PUTs with JSON-boolean notify flags, letters validated against
``GET /statuses`` and the order re-read (the fast path validates nothing), ``user_type=C`` on user listings,
``company_id`` on every user write, and the text guard for characters CS-Cart would store as ``?``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import aiohttp
import structlog
from pydantic import SecretStr

from bridge import metrics
from bridge.cscart import mapping as m
from bridge.cscart import messages as msg
from bridge.cscart.settings import CSCartSettings
from bridge.cscart.textguard import TextGuard
from bridge.domain.catalog import PriceTier
from bridge.domain.orders import Order
from bridge.domain.time import to_unix
from bridge.errors import AuthError, ConfigError, PermanentError, RetryableError
from bridge.i18n import _, said

log = structlog.get_logger(__name__)

API_PREFIX = "/api/2.1/"
# Lean product rows: without these CS-Cart adds features, images and options (≈ 4.4 KB per product instead of 1.6).
LEAN_PRODUCT_PARAMS = {"get_features": 0, "get_detailed": 0, "get_icon": 0, "get_additional": 0, "get_options": 0}
NOTIFY_FLAGS = ("notify_user", "notify_department", "notify_vendor")
# Product columns kept per language in cscart_product_descriptions.
DESCRIPTION_FIELDS = frozenset({"product", "search_words", "short_description", "full_description", "meta_keywords",
                                "meta_description", "page_title", "promo_text", "shortname", "age_warning_message"})
_ID_SEGMENT = re.compile(r"^\d+$")


class CSCartRequestError(PermanentError):
    """CS-Cart refused the request (4xx other than 401/403); ``status`` and CS-Cart's own text are kept."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class NotFoundError(CSCartRequestError):
    """404: unknown entity or id."""


class CSCartAuthError(AuthError):
    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message, hint=said(msg.HINT_AUTH))
        self.status = status


class CSCartServerError(RetryableError):
    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status


def basic_auth(email: str, api_key: str) -> str:
    """HTTP Basic with the admin e-mail as user and the API key as password."""
    return "Basic " + base64.b64encode(f"{email}:{api_key}".encode()).decode("ascii")


def endpoint_label(path: str) -> str:
    """``orders/123`` → ``orders/:id``: bounded label values for metrics."""
    return "/".join(":id" if _ID_SEGMENT.match(part) else part for part in path.strip("/").split("/"))


def error_text(body: Any) -> str:
    """CS-Cart's ``message`` plus ``errors``/``messages`` details, however much of that the body holds."""
    if not isinstance(body, Mapping):
        return str(body)[:300] if body else ""
    parts = [str(body.get("message") or "")]
    for key in ("errors", "messages"):
        extra = body.get(key)
        if isinstance(extra, list):
            parts.extend(str(item) for item in extra if str(item) not in parts[0])
    return "; ".join(part for part in parts if part)


def classify(status: int, body: Any, *, method: str, path: str, retry_after: str | None = None) -> Exception:
    """The error for a non-2xx answer, as the dispatcher needs it."""
    detail = error_text(body) or f"HTTP {status}"
    where = said(msg.ANSWERED, method=method, path=path, status=status, detail=detail)
    if status in (401, 403):
        return CSCartAuthError(where, status=status)
    if status == 429 or status >= 500:
        return CSCartServerError(where, status=status, retry_after=_seconds(retry_after))
    if status == 404:
        return NotFoundError(where, status=status)
    hint = _HINTS.get(status)
    return CSCartRequestError(where, status=status, hint=said(hint) if hint else None)


_HINTS = {400: msg.HINT_400, 405: msg.HINT_405, 415: msg.HINT_415, 409: msg.HINT_409}


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


class CSCartClient:
    """Typed access to CS-Cart. Use as ``async with CSCartClient(settings) as client`` or call ``close()``."""

    def __init__(self, settings: CSCartSettings, *, session: aiohttp.ClientSession | None = None) -> None:
        if not settings.url or not settings.email or settings.api_key is None:
            raise ConfigError(said(msg.NOT_CONFIGURED))
        self.settings = settings
        self.base_url = settings.url.rstrip("/") + API_PREFIX
        self.guard = TextGuard(settings.text_map, settings.text_fallback)
        self._semaphore = asyncio.Semaphore(settings.concurrency)
        self._session = session
        self._owns_session = session is None
        self._statuses: dict[str, m.OrderStatus] | None = None
        self._statuses_read_at = 0.0
        self._addon: bool | None = None
        self._addon_read_at = 0.0
        self._addon_letters: dict[str, str] = {}
        self._addon_batch_kinds: frozenset[str] = frozenset()
        self._languages: list[str] | None = None
        self._languages_read_at = 0.0
        self.auth_problem: str | None = None  # set while CS-Cart refuses the credentials (readiness shows it)

    async def set_credentials(self, email: str, api_key: SecretStr) -> bool:
        """Use new credentials from now on (SIGHUP, a rotated systemd credential); returns whether they changed."""
        if email == self.settings.email and self.settings.api_key is not None and \
                api_key.get_secret_value() == self.settings.api_key.get_secret_value():
            return False
        self.settings = self.settings.model_copy(update={"email": email, "api_key": api_key})
        old, self._session = self._session, None
        if old is not None and self._owns_session and not old.closed:
            await old.close()
        self._owns_session = True
        log.info("cscart.credentials_reloaded", email=email)
        return True

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            assert self.settings.api_key is not None and self.settings.email is not None
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.settings.concurrency, keepalive_timeout=30),
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout),
                headers={"Accept": "application/json",
                         "Authorization": basic_auth(self.settings.email, self.settings.api_key.get_secret_value())},
            )
            # aiohttp silently sends a PUT/DELETE again when a kept-alive connection drops before the answer; a
            # status PUT may mail the customer, so the bridge's own retry (which reads the order first) decides.
            # No public switch exists (aiohttp's test client turns it off the same way).
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
            self._owns_session = True
        return self._session

    async def close(self) -> None:
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()

    async def __aenter__(self) -> CSCartClient:
        self._open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- transport ---------------------------------------------------------------------------------------------

    async def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None,
        guard: bool = True,
    ) -> Any:
        """One call; returns the decoded JSON (``None`` for 204). Raises RetryableError / PermanentError."""
        session = self._open()
        data = None
        headers = {}
        if body is not None:
            if guard:
                body = self.guard.clean(body)
            # Without this header CS-Cart parses the body as a query string and ignores it, answering 200.
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        label = endpoint_label(path)
        query = _query(params)
        started = time.perf_counter()
        status = "error"
        try:
            async with self._semaphore:
                async with session.request(method, self.base_url + path.lstrip("/"), params=query, data=data,
                                           headers=headers) as response:
                    status = str(response.status)
                    raw = await response.read()
                    retry_after = response.headers.get("Retry-After")
        except asyncio.TimeoutError:
            status = "timeout"
            raise RetryableError(said(msg.NO_ANSWER, method=method, path=path,
                                       seconds=f"{self.settings.timeout:g}")) from None
        except aiohttp.ClientError as exc:
            raise RetryableError(said(msg.CONNECTION_FAILED, method=method, path=path, kind=type(exc).__name__,
                                       error=exc)) from None
        finally:
            metrics.API_REQUESTS.labels(endpoint=label, method=method, status=status).inc()
            metrics.API_LATENCY.labels(endpoint=label, method=method).observe(time.perf_counter() - started)
        code = int(status)
        decoded = _decode(raw)
        if code >= 300:
            error = classify(code, decoded, method=method, path=path, retry_after=retry_after)
            if isinstance(error, AuthError):
                self.auth_problem = _("CS-Cart refuses the credentials of {email} ({code}): {error}").format(
                    email=self.settings.email, code=code, error=error)
                metrics.AUTH_FAILING.set(1)
                log.error("cscart.auth_failing", status=code, method=method, endpoint=label, error=str(error))
            raise error
        metrics.AUTH_FAILING.set(0)
        self.auth_problem = None
        if raw and decoded is _UNDECODABLE:
            raise RetryableError(said(msg.NOT_JSON, method=method, path=path, status=code, body=repr(raw[:120])))
        return None if decoded is _UNDECODABLE else decoded

    async def _list(self, entity: str, key: str, params: Mapping[str, Any], page: int) -> m.Page:
        data = await self.request("GET", entity, params={**params, "page": page})
        if not isinstance(data, Mapping):
            raise m.MappingError(said(msg.NOT_A_LISTING, entity=entity, key=key, kind=type(data).__name__))
        rows = data.get(key) or []
        echo = data.get("params") or {}
        return m.Page(
            items=list(rows),
            page=page,
            items_per_page=m.as_int(echo, "items_per_page", int(params.get("items_per_page") or 0)),
            total_items=m.as_int(echo, "total_items", len(rows)),
        )

    async def _iterate(self, entity: str, key: str, params: Mapping[str, Any]) -> AsyncIterator[Any]:
        page = 1
        size = int(params["items_per_page"])
        while True:
            result = await self._list(entity, key, params, page)
            for row in result.items:
                yield row
            # A page past the end is an empty list with 200; a short page is the last one.
            if len(result.items) < size or page * size >= result.total_items:
                return
            page += 1

    # --- products ----------------------------------------------------------------------------------------------

    def _product_params(self, items_per_page: int | None, filters: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **LEAN_PRODUCT_PARAMS,
            # creation time + CS-Cart's product_id tie-breaker: a stable order while others write
            "sort_by": "timestamp",
            "sort_order": "asc",
            **filters,
            "items_per_page": items_per_page or self.settings.items_per_page,
        }

    async def list_products_page(self, page: int = 1, items_per_page: int | None = None,
                                 **filters: Any) -> m.Page:
        result = await self._list("products", "products", self._product_params(items_per_page, filters), page)
        return m.Page([m.product_from_json(row) for row in result.items], result.page, result.items_per_page,
                      result.total_items)

    async def iter_products(self, items_per_page: int | None = None, **filters: Any) -> AsyncIterator[m.CSCartProduct]:
        async for row in self._iterate("products", "products", self._product_params(items_per_page, filters)):
            yield m.product_from_json(row)

    async def get_product(self, product_id: int) -> m.CSCartProduct:
        return m.product_from_json(await self.request("GET", f"products/{int(product_id)}"))

    async def create_product(self, fields: Mapping[str, Any]) -> int:
        data = await self.request("POST", "products", body=dict(fields))
        return m.as_int(data, "product_id", where="product create")

    async def update_product(self, product_id: int, fields: Mapping[str, Any]) -> None:
        """One PUT; texts (name, search words …) are written in every language of ``text_languages`` — CS-Cart
        writes a product's description row of one language per request (lang_code, else the default language)."""
        if "prices" in fields and "price" not in fields:
            # prices[0] is rebuilt from ``price``: without it the base row would be lost.
            raise PermanentError(said(msg.PRICES_NEED_PRICE, product_id=product_id))
        texts = {key: value for key, value in fields.items() if key in DESCRIPTION_FIELDS}
        languages = await self.text_languages() if texts else []
        first = {**fields, "lang_code": languages[0]} if languages else dict(fields)
        await self.request("PUT", f"products/{int(product_id)}", body=first)
        for lang in languages[1:]:
            await self.request("PUT", f"products/{int(product_id)}", body={**texts, "lang_code": lang})

    async def text_languages(self, *, refresh: bool = False) -> list[str]:
        """``cscart.languages`` when set, else every active or hidden language of the store (cached like the
        statuses); [] when the store does not list them."""
        if self.settings.languages:
            return list(self.settings.languages)
        fresh = time.monotonic() - self._languages_read_at < self.settings.status_cache_seconds
        if self._languages is None or refresh or not fresh:
            try:
                data = await self.request("GET", "languages", params={"items_per_page": 0})
            except NotFoundError:
                data = None
            rows = data.get("languages") if isinstance(data, Mapping) else None
            if isinstance(rows, Mapping):
                rows = list(rows.values())
            self._languages = [str(row["lang_code"]) for row in rows or []
                               if isinstance(row, Mapping) and row.get("lang_code") and row.get("status", "A") != "D"]
            self._languages_read_at = time.monotonic()
        return list(self._languages)

    async def delete_product(self, product_id: int) -> None:
        await self.request("DELETE", f"products/{int(product_id)}")

    async def set_stock(self, product_id: int, amount: int) -> None:
        await self.update_product(product_id, {"amount": int(amount)})

    async def set_prices(self, product_id: int, base_price: Decimal, tiers: tuple[PriceTier, ...] | list[PriceTier]
                         ) -> None:
        """Writes the complete tier set: CS-Cart deletes every tier not in the body."""
        await self.update_product(product_id, m.prices_body(base_price, tiers))

    # --- orders ------------------------------------------------------------------------------------------------

    async def iter_orders_updated(
        self, updated_from: datetime | int, updated_to: datetime | int | None = None, *,
        items_per_page: int | None = None, include_incomplete: bool = False, **filters: Any,
    ) -> AsyncIterator[Order]:
        """Orders whose ``updated_at`` lies in the window, as full orders (list rows carry no ``updated_at``)."""
        params: dict[str, Any] = {
            "updated_at_from": _unix(updated_from), "get_orders_data": 1, "sort_by": "order_id", "sort_order": "asc",
            **filters, "items_per_page": items_per_page or self.settings.items_per_page,
        }
        if updated_to is not None:
            params["updated_at_to"] = _unix(updated_to)
        if include_incomplete:
            params["include_incompleted"] = 1
        async for row in self._iterate("orders", "orders", params):
            yield m.order_from_json(row)

    async def iter_orders_created(
        self, time_from: datetime | int, time_to: datetime | int, *, items_per_page: int | None = None,
        **filters: Any,
    ) -> AsyncIterator[Order]:
        """Orders created in the window. ``time_from``/``time_to`` are ignored by CS-Cart unless ``period=C``."""
        params = {
            "period": "C", "time_from": _unix(time_from), "time_to": _unix(time_to), "get_orders_data": 1,
            "sort_by": "order_id", "sort_order": "asc", **filters,
            "items_per_page": items_per_page or self.settings.items_per_page,
        }
        async for row in self._iterate("orders", "orders", params):
            yield m.order_from_json(row)

    async def get_order(self, order_id: int) -> Order:
        return m.order_from_json(await self.request("GET", f"orders/{int(order_id)}"))

    async def statuses(self, *, refresh: bool = False) -> dict[str, m.OrderStatus]:
        """Order statuses by letter, cached: letters differ per store and custom ones come from the add-on."""
        fresh = time.monotonic() - self._statuses_read_at < self.settings.status_cache_seconds
        if self._statuses is None or refresh or not fresh:
            rows = [row async for row in self._iterate("statuses", "statuses", {"type": "O", "items_per_page": 100})]
            self._statuses = {s.letter: s for s in map(m.status_from_json, rows)}
            self._statuses_read_at = time.monotonic()
        return self._statuses

    async def change_order_status(
        self, order_id: int, letter: str, *, notify_user: bool = False, notify_department: bool = False,
        notify_vendor: bool = False,
    ) -> m.StatusChange:
        """Status-only PUT (any other key makes CS-Cart recalculate the whole order), then re-read the order.

        CS-Cart's fast path answers 200 for unknown orders and stores unknown letters, so the letter is checked
        against ``GET /statuses`` first and the result is confirmed by a GET. A ``backordered`` result means CS-Cart
        lacked stock and set ``B`` instead; the caller reports it.
        """
        known = await self.statuses()
        if letter not in known:
            known = await self.statuses(refresh=True)  # a status created since the last read
        if letter not in known:
            raise PermanentError(said(msg.UNKNOWN_STATUS, order_id=order_id, letter=letter,
                                      known="".join(sorted(known))), hint=said(msg.HINT_STATUS_LETTER))
        body = {"status": letter, "notify_user": bool(notify_user), "notify_department": bool(notify_department),
                "notify_vendor": bool(notify_vendor)}
        await self.request("PUT", f"orders/{int(order_id)}", body=body)
        try:
            order = await self.get_order(order_id)
        except NotFoundError:
            raise PermanentError(said(msg.NO_SUCH_ORDER, order_id=order_id),
                                 hint=said(msg.HINT_ORDER_BINDING)) from None
        change = m.StatusChange(order_id=int(order_id), requested=letter, actual=order.status)
        if change.backordered:
            log.warning("cscart.order_backordered", order_id=order_id, requested=letter)
        elif not change.applied:
            log.warning("cscart.status_not_applied", order_id=order_id, requested=letter, actual=order.status)
        return change

    # --- the smile_bridge add-on --------------------------------------------------------------------------------

    async def addon_installed(self, *, refresh: bool = False) -> bool:
        """Whether the smile_bridge add-on answers (its events entity: 200 installed, 404 not), cached like the
        statuses. Other failures propagate: "unreachable" is not "absent". docs/addon.md §5."""
        fresh = time.monotonic() - self._addon_read_at < self.settings.status_cache_seconds
        if self._addon is None or refresh or not fresh:
            try:
                page = await self.request("GET", "smile_bridge_events", params={"limit": 1})
                installed = True
                self._addon_letters = _addon_letters(page)
                self._addon_batch_kinds = _batch_kinds(page)
            except NotFoundError:
                installed = False
                self._addon_letters = {}
                self._addon_batch_kinds = frozenset()
            if installed != self._addon:
                log.info("cscart.addon_detected" if installed else "cscart.addon_absent")
            self._addon, self._addon_read_at = installed, time.monotonic()
        return self._addon

    @property
    def addon_batch_kinds(self) -> frozenset[str]:
        """The batch item kinds the add-on advertised with its last detection (``addon_installed``)."""
        return self._addon_batch_kinds

    def addon_gone(self) -> None:
        """The add-on's entity answered 404 mid-run (uninstalled): forget the cached answer."""
        self._addon, self._addon_read_at = False, time.monotonic()
        self._addon_letters = {}
        self._addon_batch_kinds = frozenset()

    async def addon_status_letters(self, *, refresh: bool = False) -> dict[str, str]:
        """The add-on's current order status letters (the feed's ``params.statuses``: hold, shipping_instructed,
        shipped, notified → letter), read with the add-on detection and cached as long; {} without the add-on."""
        if not await self.addon_installed(refresh=refresh):
            return {}
        return dict(self._addon_letters)

    # --- shipments ---------------------------------------------------------------------------------------------

    async def create_shipment(
        self, order_id: int, *, shipping_id: int, carrier: str, tracking_number: str,
        products: Mapping[str, int | Decimal] | None = None, order_status: str | None = None,
        status: str = "S", comments: str = "", notify_user: bool = False, timestamp: int | None = None,
    ) -> int:
        """``products`` maps the order's item_id → quantity; None ships everything still unshipped."""
        if not carrier and not tracking_number:
            raise PermanentError(said(msg.SHIPMENT_NEEDS_CARRIER, order_id=order_id))
        if order_status is not None:
            known = await self.statuses()
            if order_status not in known:
                raise PermanentError(said(msg.SHIPMENT_STATUS_UNKNOWN, order_id=order_id, letter=order_status))
        body: dict[str, Any] = {
            "order_id": int(order_id), "shipping_id": int(shipping_id), "carrier": carrier,
            "tracking_number": tracking_number, "status": status, "comments": comments,
            "notify_user": bool(notify_user),
        }
        if products:
            body["products"] = {str(item): m.number(Decimal(qty)) for item, qty in products.items()}
        if order_status is not None:
            body["order_status"] = order_status
        if timestamp is not None:
            body["timestamp"] = int(timestamp)  # the shipment date (fn_update_shipment parses it; default now)
        data = await self.request("POST", "shipments", body=body)
        return m.as_int(data, "shipment_id", where="shipment create")

    async def list_shipments(self, order_id: int) -> list[dict[str, Any]]:
        params = {"order_id": int(order_id), "items_per_page": self.settings.items_per_page}
        return [row async for row in self._iterate("shipments", "shipments", params)]

    # --- users and usergroups ----------------------------------------------------------------------------------

    async def iter_users(self, items_per_page: int | None = None, **filters: Any) -> AsyncIterator[m.CSCartUser]:
        # user_type is required by 4.20 (400 without it); the bridge only manages customers.
        params = {"sort_by": "id", "sort_order": "asc", **filters, "user_type": "C",
                  "items_per_page": items_per_page or self.settings.items_per_page}
        async for row in self._iterate("users", "users", params):
            yield m.user_from_json(row)

    async def get_user(self, user_id: int) -> m.CSCartUser:
        data = await self.request("GET", f"users/{int(user_id)}")
        if isinstance(data, Mapping) and "users" in data and "user_id" not in data:
            # 4.20.1 answers a missing user with 200 and an empty list envelope instead of 404.
            rows = data.get("users") or []
            if not rows:
                raise NotFoundError(said(msg.NO_SUCH_USER, user_id=int(user_id)), status=404)
            data = rows[0]
        return m.user_from_json(data)

    async def create_user(self, fields: Mapping[str, Any]) -> int:
        body = {**fields, "user_type": "C", "company_id": self.settings.company_id}
        data = await self.request("POST", "users", body=body)
        return m.as_int(data, "user_id", where="user create")

    async def update_user(self, user_id: int, fields: Mapping[str, Any]) -> None:
        # Ultimate resets company_id to 0 when a user PUT lacks it.
        body = {**fields, "company_id": self.settings.company_id}
        await self.request("PUT", f"users/{int(user_id)}", body=body)

    async def delete_user(self, user_id: int) -> None:
        await self.request("DELETE", f"users/{int(user_id)}")

    async def category_ids(self) -> set[int]:
        """Every category id of the store (``GET /categories``, paged)."""
        params = {"items_per_page": 250, "sort_by": "position", "sort_order": "asc"}
        return {m.as_int(row, "category_id", where="category") async for row in
                self._iterate("categories", "categories", params)}

    async def usergroups(self) -> dict[int, m.Usergroup]:
        return m.usergroups_from_json(await self.request("GET", "usergroups"))

    async def user_usergroups(self, user_id: int) -> list[m.UsergroupLink]:
        return m.usergroup_links_from_json(await self.request("GET", f"users/{int(user_id)}/usergroups"))

    async def set_usergroup_link(self, user_id: int, usergroup_id: int, status: str = "A", *,
                                 notify_user: bool = False) -> None:
        if status not in ("A", "P", "F"):
            raise PermanentError(said(msg.LINK_STATUS, user_id=user_id, status=status))
        await self.request("PUT", f"users/{int(user_id)}/usergroups/{int(usergroup_id)}",
                           body={"status": status, "notify_user": bool(notify_user)})


_UNDECODABLE: Any = object()


def _batch_kinds(page: Any) -> frozenset[str]:
    """``params.batch_kinds`` of an events page: the item kinds this add-on's batch accepts (an add-on older than
    the list advertises none, and the daemon then sends only the kinds every version knows)."""
    params = page.get("params") if isinstance(page, Mapping) else None
    kinds = params.get("batch_kinds") if isinstance(params, Mapping) else None
    return frozenset(k for k in kinds if isinstance(k, str)) if isinstance(kinds, list) else frozenset()


def _addon_letters(page: Any) -> dict[str, str]:
    """``params.statuses`` of an events page: key → one letter A–Z; anything else is left out."""
    params = page.get("params") if isinstance(page, Mapping) else None
    statuses = params.get("statuses") if isinstance(params, Mapping) else None
    if not isinstance(statuses, Mapping):
        return {}
    return {str(key): str(letter) for key, letter in statuses.items()
            if isinstance(letter, str) and len(letter) == 1 and "A" <= letter <= "Z" and letter not in "NT"}


def _decode(raw: bytes) -> Any:
    if not raw:
        return _UNDECODABLE
    try:
        return json.loads(raw)
    except ValueError:
        return _UNDECODABLE


def _unix(moment: datetime | int) -> int:
    return moment if isinstance(moment, int) else to_unix(moment)


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """PHP-style query: lists become ``key[]=a&key[]=b``, booleans 1/0."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set):
            pairs.extend((f"{key}[]", str(item)) for item in value)
        elif isinstance(value, bool):
            pairs.append((key, "1" if value else "0"))
        else:
            pairs.append((key, str(value)))
    return pairs
