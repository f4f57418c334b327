"""The smile_bridge add-on's Japanese customer mails that are no status change: 入金確認 (a 先入金 order released
after its payment), 遅延のお知らせ (the delay watch) and 返品受付 (an approved return). The bridge decides when
(rules/order_flow.yaml ``gating.prepaid.notify_payment_received`` and ``customer_mails``); the add-on renders its
template (Design → Email templates) and CS-Cart's mailer sends it. One ``order.mail`` op per mail: its idempotency
key is also the add-on's key, so neither a re-run nor a retry mails twice. 正式受注確認, 出荷通知 and the
cancellation mail are status mails (``notifications``), which the add-on's templates replace."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import structlog

from bridge.carriers.rules import ShippingRules
from bridge.carriers.tracking import CARRIER_NAMES, DEFAULT_TRACKING_URLS
from bridge.cscart.client import CSCartClient
from bridge.domain.orders import WorkflowState
from bridge.errors import BridgeError
from bridge.rules.order_flow import OrderFlowRules
from bridge.store import outbox as ob

log = structlog.get_logger("bridge.sync.orders")

PAYMENT_RECEIVED, DELAY, RETURNED, CANCELLED = "payment_received", "delay", "returned", "cancelled"


def mail_key(order_id: int, kind: str, occasion: str = "") -> str:
    """orders/<id>/mail/<kind>[/<occasion>]: printable ASCII, at most 128 characters (the add-on's key)."""
    key = f"orders/{int(order_id)}/mail/{kind}" + (f"/{occasion}" if occasion else "")
    if len(key) > 128 or not all("!" <= ch <= "~" for ch in key):
        raise ValueError(f"mail key {key!r}: 1-128 printable ASCII characters without spaces")
    return key


def mail_op(order_id: int, kind: str, *, occasion: str = "", values: Mapping[str, Any] | None = None) -> ob.NewOp:
    """The ``order.mail`` op; queued behind the order's status writes (same record, never coalesced)."""
    payload = {"order_id": int(order_id), "kind": kind, "values": dict(values or {})}
    return ob.NewOp("cscart", "order.mail", "order", str(int(order_id)), payload,
                    idempotency_key=mail_key(order_id, kind, occasion), track_ledger=False, coalescing=False)


def mail_settings(shipping: ShippingRules | None, flow: OrderFlowRules) -> dict[str, Any]:
    """The ``addon.settings`` payload for the mails: each carrier's name and tracking URL (shipping.yaml
    ``tracking_urls``) and the cancelled status's letter → the add-on's cancellation mail."""
    urls = shipping.tracking_urls if shipping is not None else DEFAULT_TRACKING_URLS
    carriers = {code: {"name": CARRIER_NAMES.get(code, code), "url": url} for code, url in sorted(urls.items())}
    statuses = {flow.letter_for(WorkflowState.CANCELLED): CANCELLED}
    return {"values": {"mail_carriers": json.dumps(carriers, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
                       "mail_statuses": json.dumps(statuses, sort_keys=True, separators=(",", ":"))}}


async def addon_mails(client: CSCartClient | None) -> bool:
    """Whether the smile_bridge add-on (it sends these mails) is on the store; unknown counts as no."""
    if client is None:
        return False
    try:
        return await client.addon_installed()
    except BridgeError as exc:
        log.warning("orders.addon_detection_failed", error=str(exc))
        return False
