"""``POST /hooks/cscart``: the add-on's signed wake-up push. A valid push runs the orders job at once; the job
then reads what changed (the push carries no order data the bridge trusts, so a lost push costs only latency:
the polling cycle still finds the order)."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from aiohttp import web

from bridge.cscart.addon_protocol import SIGNATURE_HEADER, WAKE_UP_PATH, SignatureError, verify

log = structlog.get_logger("bridge.sync.orders")

MAX_BODY_BYTES = 64 * 1024


class OrdersWakeup:
    """The route handler; the orders job binds ``trigger`` when the daemon creates it (scheduler → run now)."""

    path = WAKE_UP_PATH

    def __init__(self, secret: str | None, *, now: Callable[[], float] = time.time) -> None:
        self._secret = secret or ""
        self._now = now
        self._trigger: Callable[[], object] | None = None
        self.accepted = 0
        self.refused = 0

    def bind(self, trigger: Callable[[], object]) -> None:
        self._trigger = trigger

    async def handle(self, request: web.Request) -> web.Response:
        if not self._secret:
            return web.json_response({"error": "wake-up push disabled: set cscart.hmac_secret"}, status=503)
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return web.json_response({"error": "body too large"}, status=413)
        try:
            verify(self._secret, request.headers.get(SIGNATURE_HEADER), body, int(self._now()))
        except SignatureError as exc:
            self.refused += 1
            log.warning("orders.hook_refused", error=str(exc), remote=request.remote)
            return web.json_response({"error": str(exc)}, status=401)
        self.accepted += 1
        triggered = bool(self._trigger is not None and self._trigger() is not False)
        return web.json_response({"triggered": triggered}, status=202)
