"""``POST /hooks/cscart``: the add-on's signed wake-up push. A valid push runs the orders job at once; the job
then reads what changed (the push carries no order data the bridge trusts, so a lost push costs only latency:
the polling cycle still finds the order)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from bridge.cscart import messages as msg
from bridge.cscart.addon_protocol import (
    SIGNATURE_HEADER,
    SIGNATURE_TOLERANCE_SECONDS,
    WAKE_UP_PATH,
    SignatureError,
    verify,
)
from bridge.i18n import said

if TYPE_CHECKING:
    from aiohttp import web

log = structlog.get_logger("bridge.sync.orders")

MAX_BODY_BYTES = 64 * 1024
MAX_PUSHES_PER_MINUTE = 120  # the add-on wakes once per order event; more is a flood or an attack


class OrdersWakeup:
    """The route handler; the orders job binds ``trigger`` when the daemon creates it (scheduler → run now)."""

    path = WAKE_UP_PATH

    def __init__(self, secret: str | None, *, now: Callable[[], float] = time.time,
                 max_per_minute: int = MAX_PUSHES_PER_MINUTE) -> None:
        self._secret = secret or ""
        self._now = now
        self._trigger: Callable[[], object] | None = None
        self._seen: dict[str, float] = {}  # signature header → when it leaves the tolerance window (replay cache)
        self._recent: deque[float] = deque()  # times of the pushes of the last minute (rate limit)
        self._max_per_minute = max_per_minute
        self.accepted = 0
        self.refused = 0

    def bind(self, trigger: Callable[[], object]) -> None:
        self._trigger = trigger

    async def handle(self, request: web.Request) -> web.Response:
        # loaded with the daemon's HTTP server already; a CLI command never calls this
        from aiohttp import web

        if not self._secret:
            return web.json_response({"error": "wake-up push disabled: set cscart.hmac_secret"}, status=503)
        now = self._now()
        while self._recent and self._recent[0] <= now - 60:
            self._recent.popleft()
        if len(self._recent) >= self._max_per_minute:
            self.refused += 1
            retry_after = max(1, int(self._recent[0] + 60 - now) + 1)
            return web.json_response({"error": f"more than {self._max_per_minute} wake-ups a minute"}, status=429,
                                     headers={"Retry-After": str(retry_after)})
        self._recent.append(now)
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return web.json_response({"error": "body too large"}, status=413)
        header = request.headers.get(SIGNATURE_HEADER)
        try:
            verify(self._secret, header, body, int(now))
            self._refuse_replay(header or "", now)
        except SignatureError as exc:
            self.refused += 1
            log.warning("orders.hook_refused", error=str(exc), remote=request.remote)
            return web.json_response({"error": str(exc)}, status=401)
        self.accepted += 1
        triggered = bool(self._trigger is not None and self._trigger() is not False)
        return web.json_response({"triggered": triggered}, status=202)

    def _refuse_replay(self, header: str, now: float) -> None:
        """A signed push is accepted once: the same signature again within the tolerance window is a replay."""
        for seen, until in list(self._seen.items()):
            if until < now:
                del self._seen[seen]
        if header in self._seen:
            raise SignatureError(said(msg.SIGNATURE_REPLAYED))
        self._seen[header] = now + 2 * SIGNATURE_TOLERANCE_SECONDS
