"""The CS-Cart sink when the ``smile_bridge`` add-on is installed: a ``BatchSink`` that sends the bulk ops through
``POST /api/smile_bridge_batch`` (500 items per call) and everything else through plain REST, as ``CSCartSink``.

Ops sent through the batch (payloads as in sink.py):

``product.stock``     → kind ``stock``
``product.prices``    → kind ``prices`` (the full tier set, base row first)
``customer.price``    ``{"user_id": 4, "product_id": 12, "rows": [{"min_quantity": 1, "price": 650,
                      "valid_from": "2026-04-01", "valid_to": null}]}`` → kind ``customer_price`` (the full set of the
                      pair; ``[]`` deletes it). Add-on only: without it the op is a dead letter naming the add-on.
``user.update``       whose fields are all add-on columns (``smile_*``) → kind ``user_fields``
``product.update``    whose fields are all add-on columns → kind ``product_fields``
``order.fields``      ``{"order_id": 96, "fields": {"smile_ship_to_code": "0001"}}`` → kind ``order_fields`` (add-on
                      only; a core order PUT with such keys would recalculate the order)
``addon.settings``    ``{"values": {"direct_ship_rate": "10"}}`` → kind ``settings`` (add-on only)
``order.status``      → kind ``order_status`` when the add-on advertises it (``params.batch_kinds`` of its events
                      feed): what the status-only PUT does, with the letter CS-Cart kept read back by the add-on, so
                      one call replaces a PUT and a GET of the whole order per order. Sent in calls of their own.
                      An older add-on: the REST PUT + re-read, as without the add-on.

Per-item results map to per-op outcomes: ``ok`` delivered, ``invalid`` and ``not_found`` permanent (dead letter with
the add-on's message naming the field or the stale id), ``failed`` retryable. A key with any op that cannot go
through the batch sends all its ops of this round through REST, in order, so one key's writes never reorder.
When the add-on is absent (or answers 404 after an uninstall) every op goes through REST.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from bridge import metrics
from bridge.cscart import mapping as m
from bridge.cscart import messages as msg
from bridge.cscart.addon_client import AddonClient
from bridge.cscart.addon_protocol import MAX_BATCH_ITEMS, BatchItemResult, ResultCode
from bridge.cscart.client import CSCartClient, NotFoundError
from bridge.cscart.sink import (
    CSCartSink,
    OnCreated,
    PayloadError,
    _decimal,
    _fields,
    _int,
    listed_objects,
    price_tiers,
)
from bridge.domain.money import parse_decimal
from bridge.errors import PermanentError, RetryableError
from bridge.i18n import said
from bridge.store.outbox import OutboxOp

log = structlog.get_logger("bridge.cscart.batch")

ADDON_USER_COLUMNS = frozenset({"smile_customer_code", "smile_price_rate", "smile_price_rounding", "smile_price_unit",
                                "smile_price_rate_base", "smile_credit_limit", "smile_credit_exposure"})
ADDON_PRODUCT_COLUMNS = frozenset({"smile_direct_ship_allowed"})
ADDON_ONLY_OPS = ("customer.price", "order.fields", "addon.settings")
BATCH_OPS = ("product.stock", "product.prices", "user.update", "product.update", "order.status", *ADDON_ONLY_OPS)
ORDER_STATUS_KIND = "order_status"  # not every add-on version has it: sent only when advertised


class NotAttempted(RetryableError):
    """An earlier op of the same key failed in this round, so this one waits (keeps the key's order)."""


class AddonBatchSink(CSCartSink):
    """``CSCartSink`` plus ``deliver_batch``: the dispatcher hands it up to ``max_batch`` ops of target ``cscart``."""

    max_batch = MAX_BATCH_ITEMS

    def __init__(self, client: CSCartClient, on_created: OnCreated | None = None,
                 addon: AddonClient | None = None) -> None:
        super().__init__(client, on_created)
        self.addon = addon or AddonClient(client)
        self.batch_calls = 0

    # -- one op at a time (CLI replays, and the dispatcher's single path) ------------------------------------------

    async def deliver(self, op: OutboxOp) -> None:
        if op.op in ADDON_ONLY_OPS:
            result = (await self.deliver_batch([op]))[0]
            if result is not None:
                raise result
            return
        await super().deliver(op)

    # -- the batch path ----------------------------------------------------------------------------------------------

    async def deliver_batch(self, ops: Sequence[OutboxOp]) -> list[BaseException | None]:
        results: list[BaseException | None] = [None] * len(ops)
        installed = await self._installed()
        items: dict[int, dict[str, Any]] = {}
        rest_keys: set[tuple[str, str]] = set()
        for index, op in enumerate(ops):
            try:
                item = self.batch_item(op) if installed else None
            except PermanentError as exc:
                results[index] = exc
                continue
            if item is None:
                rest_keys.add((op.entity, op.key))
            else:
                items[index] = item
        # a key with a REST op sends all its ops through REST, in order
        for index in [i for i in items if (ops[i].entity, ops[i].key) in rest_keys]:
            del items[index]
        rest = [i for i in range(len(ops)) if i not in items and results[i] is None]
        if items:
            fallback = await self._send_batches(ops, items, results, raise_retryable=not rest)
            rest = sorted(rest + fallback)
        if rest:
            await self._deliver_rest(ops, rest, results)
        return results

    async def _installed(self) -> bool:
        try:
            return await self.client.addon_installed()
        except (RetryableError, PermanentError) as exc:
            log.warning("cscart.addon_detection_failed", error=str(exc))
            return False  # REST works on every store; the next round asks again

    async def _send_batches(self, ops: Sequence[OutboxOp], items: dict[int, dict[str, Any]],
                            results: list[BaseException | None], *, raise_retryable: bool) -> list[int]:
        """Send ``items`` in calls of ≤ 500; record each op's result. Returns the indexes to send through REST
        instead (the add-on disappeared)."""
        # order statuses in calls of their own (CS-Cart's order-management mode is on for them, as for the REST PUT)
        groups = [[i for i in sorted(items) if (items[i]["kind"] == ORDER_STATUS_KIND) is status]
                  for status in (False, True)]
        chunks = [group[start:start + MAX_BATCH_ITEMS] for group in groups
                  for start in range(0, len(group), MAX_BATCH_ITEMS)]
        fallback: list[int] = []
        for chunk in chunks:
            try:
                self.batch_calls += 1
                response = await self.addon.batch([items[i] for i in chunk])
            except NotFoundError:
                log.warning("cscart.addon_gone", ops=len(chunk))
                fallback += [i for i in chunk if ops[i].op not in ADDON_ONLY_OPS]
                for i in chunk:
                    if ops[i].op in ADDON_ONLY_OPS:
                        results[i] = _addon_missing(ops[i])
                continue
            except RetryableError:
                if raise_retryable and len(chunks) == 1:
                    raise  # the whole call failed before anything was applied: the dispatcher's short retries
                for i in chunk:
                    results[i] = RetryableError(said(msg.BATCH_FAILED, id=ops[i].id, op=ops[i].op))
                continue
            except PermanentError as exc:
                for i in chunk:
                    results[i] = exc
                continue
            counted: Counter[tuple[str, str]] = Counter()
            for i, result in zip(chunk, response.results, strict=True):
                results[i] = _outcome(ops[i], items[i]["kind"], result)
                counted[(items[i]["kind"], result.code.value)] += 1
            for (kind, code), count in counted.items():  # one labelled increment per kind and code, not per item
                metrics.ADDON_BATCH_ITEMS.labels(kind=kind, code=code).inc(count)
        return fallback

    async def _deliver_rest(self, ops: Sequence[OutboxOp], indexes: list[int],
                            results: list[BaseException | None]) -> None:
        by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
        for index in indexes:
            by_key[(ops[index].entity, ops[index].key)].append(index)

        async def one_key(key_indexes: list[int]) -> None:
            failed: OutboxOp | None = None
            for index in key_indexes:
                op = ops[index]
                if failed is not None:
                    results[index] = NotAttempted(f"op {op.id} waits: op {failed.id} of the same key failed first")
                    continue
                try:
                    if op.op in ADDON_ONLY_OPS:
                        raise _addon_missing(op)
                    await CSCartSink.deliver(self, op)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - handed to the dispatcher, which classifies it
                    results[index] = exc
                    failed = op

        await asyncio.gather(*(one_key(key_indexes) for key_indexes in by_key.values()))

    # -- op → batch item -----------------------------------------------------------------------------------------

    def batch_item(self, op: OutboxOp) -> dict[str, Any] | None:
        """The batch item for ``op``, or None when it must go through REST. Raises PayloadError for a bad payload
        and TextGuardError for text CS-Cart cannot store."""
        p = op.payload
        if not isinstance(p, Mapping):
            raise PayloadError(said(msg.PAYLOAD_NOT_OBJECT, id=op.id, op=op.op, kind=type(p).__name__))
        head: dict[str, Any] = {"id": op.id}
        if op.op == "product.stock" and p.get("warehouses"):
            return None  # per-warehouse amounts (Warehouses add-on): the REST PUT hands them to fn_update_product
        if op.op == "product.stock":
            return {**head, "kind": "stock", "product_id": _int(op, p, "product_id"), "amount": _int(op, p, "amount")}
        if op.op == "product.prices":
            body = m.prices_body(_decimal(op, p, "price"), price_tiers(op, p))
            return {**head, "kind": "prices", "product_id": _int(op, p, "product_id"), **body}
        if op.op == "customer.price":
            return {**head, "kind": "customer_price", "user_id": _int(op, p, "user_id"),
                    "product_id": _int(op, p, "product_id"), "rows": _customer_rows(op, p)}
        if op.op == "user.update":
            fields = _fields(op, p)
            if not set(fields) <= ADDON_USER_COLUMNS:
                return None  # core columns too: one core PUT writes them all
            return {**head, "kind": "user_fields", "user_id": _int(op, p, "user_id"),
                    "fields": self.client.guard.clean(_plain(fields), "fields")}
        if op.op == "product.update":
            fields = _fields(op, p)
            if not set(fields) <= ADDON_PRODUCT_COLUMNS:
                return None
            return {**head, "kind": "product_fields", "product_id": _int(op, p, "product_id"), "fields": fields}
        if op.op == "order.status":
            if ORDER_STATUS_KIND not in self.client.addon_batch_kinds:
                return None  # an add-on older than the kind: the REST PUT + re-read
            letter = p.get("status")
            if not isinstance(letter, str) or len(letter) != 1:
                raise PayloadError(said(msg.STATUS_LETTER, id=op.id, op=op.op, letter=letter))
            return {**head, "kind": ORDER_STATUS_KIND, "order_id": _int(op, p, "order_id"), "status": letter,
                    **{name: bool(p.get(name, False)) for name in ("notify_user", "notify_department",
                                                                   "notify_vendor")}}
        if op.op == "order.fields":
            return {**head, "kind": "order_fields", "order_id": _int(op, p, "order_id"),
                    "fields": self.client.guard.clean(_plain(_fields(op, p)), "fields")}
        if op.op == "addon.settings":
            values = p.get("values")
            if not isinstance(values, Mapping) or not values:
                raise PayloadError(said(msg.VALUES_NON_EMPTY, id=op.id, op=op.op))
            return {**head, "kind": "settings", "values": _plain(values)}
        return None


def _outcome(op: OutboxOp, kind: str, result: BatchItemResult) -> BaseException | None:
    if result.code is ResultCode.OK:
        return None
    where = f"op {op.id} {op.op} ({op.entity} {op.key})"
    if result.code is ResultCode.INVALID and kind == ORDER_STATUS_KIND:  # as the REST path's refusals
        # the add-on's own (English) words say which refusal it is, as the REST path's sentences do
        hint = (msg.HINT_BACKORDERED if "Backordered" in result.message else
                msg.HINT_STATUS_LETTER if "does not exist" in result.message else msg.HINT_STATUS_KEPT)
        return PermanentError(f"{where}: {result.message}", hint=said(hint))
    if result.code is ResultCode.INVALID:
        return PayloadError(said(msg.ADDON_REFUSED, where=where, message=result.message),
                            hint=said(msg.HINT_ADDON_REFUSED))
    if result.code is ResultCode.NOT_FOUND:
        return PermanentError(f"{where}: {result.message}", hint=said(msg.HINT_STALE_BINDING))
    return RetryableError(f"{where}: {result.message}")


def _addon_missing(op: OutboxOp) -> PermanentError:
    return PermanentError(said(msg.ADDON_MISSING, id=op.id, op=op.op), hint=said(msg.HINT_ADDON_MISSING))


def _customer_rows(op: OutboxOp, p: Mapping[str, Any]) -> list[dict[str, Any]]:
    clean = []
    for where, row in listed_objects(op, p, "rows", not_a_list=msg.NOT_A_LIST_CUSTOMER_ROWS):
        clean.append({"min_quantity": _int(op, row, "min_quantity", where) if row.get("min_quantity") is not None
                      else 1, "price": format(_decimal(op, row, "price", where), "f"),
                      "valid_from": row.get("valid_from") or None, "valid_to": row.get("valid_to") or None})
    return clean


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready values: decimals as plain strings (the add-on parses exact decimals, never floats)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or isinstance(value, bool | str | int):
            out[name] = value
        else:
            out[name] = format(parse_decimal(value), "f")
    return out
