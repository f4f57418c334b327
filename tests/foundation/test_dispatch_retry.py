"""Dispatcher behaviour per error class, against a real HTTP server on 127.0.0.1; back-off time is controlled."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bridge.config import DispatchSettings, RetrySettings
from bridge.dispatch import Dispatcher
from bridge.errors import PermanentError, RetryableError
from bridge.store import Store
from bridge.store import outbox as ob
from tests.conftest import free_port
from tests.foundation.fakes import FakeClock


class HttpSink:
    """Posts each op's payload; classifies failures the way every edge must (transport → retryable, 4xx → permanent)."""

    target = "http"

    def __init__(self, url: str, timeout: float = 0.3) -> None:
        self.url = url
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.calls = 0

    async def deliver(self, op: ob.OutboxOp) -> None:
        self.calls += 1
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.post(self.url, json=op.payload) as response:
                    body = await response.text()
                    if response.status == 429:
                        raise RetryableError(f"429: {body}", retry_after=float(response.headers["Retry-After"]))
                    if response.status >= 500:
                        raise RetryableError(f"{response.status}: {body}")
                    if response.status >= 400:
                        raise PermanentError(f"{response.status}: {body}", hint="fix the payload")
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise RetryableError(f"{type(exc).__name__}: {exc}") from exc


class Server:
    def __init__(self) -> None:
        self.responses: list[tuple[int, dict[str, str], str]] = []
        self.hang = False

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        if self.hang:
            await asyncio.sleep(5)
        status, headers, body = self.responses.pop(0) if self.responses else (200, {}, "ok")
        return web.Response(status=status, headers=headers, text=body)


@pytest.fixture
async def server() -> AsyncIterator[tuple[Server, str]]:
    srv = Server()
    app = web.Application()
    app.router.add_post("/write", srv.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield srv, f"http://127.0.0.1:{port}/write"
    await runner.cleanup()


SETTINGS = DispatchSettings(
    batch_size=10,
    retry=RetrySettings(short_attempts=3, short_initial=0.5, short_max=10, long_initial=30, long_max=3600, max_attempts=4),
)


async def setup(store: Store, url: str) -> tuple[Dispatcher, HttpSink, FakeClock]:
    clock = FakeClock()
    sink = HttpSink(url)
    dispatcher = Dispatcher(store, {"http": sink}, SETTINGS, clock=clock, sleep=clock.sleep, rng=random.Random(1))
    async with store.transaction() as tx:
        await ob.enqueue(tx, [ob.NewOp("http", "set", "thing", "K1", {"n": 1})], clock.time())
    return dispatcher, sink, clock


async def drained(store: Store, server: Any, responses: list[tuple[int, dict[str, str], str]]
                  ) -> tuple[ob.OutboxOp, Dispatcher, HttpSink, FakeClock]:
    """One op enqueued, the server answering ``responses`` in turn (then 200), one drain: the op after it."""
    srv, url = server
    srv.responses = responses
    dispatcher, sink, clock = await setup(store, url)
    await dispatcher.drain_all()
    return await only_op(store), dispatcher, sink, clock


async def only_op(store: Store) -> ob.OutboxOp:
    rows = await store.fetchall("SELECT * FROM outbox")
    assert len(rows) == 1
    return ob.OutboxOp.from_row(rows[0])


async def test_success_first_time(store: Store, server) -> None:
    op, dispatcher, sink, clock = await drained(store, server, [])
    assert (op.state, op.attempts, sink.calls, clock.sleeps) == ("done", 1, 1, [])


async def test_5xx_retried_short_then_succeeds(store: Store, server) -> None:
    op, dispatcher, sink, clock = await drained(store, server, [(503, {}, "busy"), (500, {}, "oops")])
    assert (op.state, op.attempts, sink.calls) == ("done", 1, 3)
    # exponential with jitter: first wait in [0.5, 1.0], second in [1.0, 1.5], each capped at short_max
    assert len(clock.sleeps) == 2
    assert 0.5 <= clock.sleeps[0] <= 1.0 and 1.0 <= clock.sleeps[1] <= 1.5


async def test_5xx_exhausting_short_retries_goes_to_long_backoff_then_dead(store: Store, server) -> None:
    op, dispatcher, sink, clock = await drained(store, server, [(500, {}, "down")] * 100)
    assert (op.state, op.attempts, sink.calls) == ("pending", 1, 3)
    assert 24 <= op.next_attempt_at - clock.time() <= 36  # long_initial 30 s ± 20 %
    assert "500: down" in (op.last_error or "")
    # not ready yet: nothing happens until its time
    assert await dispatcher.dispatch_once() == 0
    delays = []
    for _ in range(3):
        clock.advance(op.next_attempt_at - clock.time())
        await dispatcher.drain_all()
        op = await only_op(store)
        if op.state == "pending":
            delays.append(op.next_attempt_at - clock.time())
    assert op.state == "dead" and op.attempts == 4 and sink.calls == 12
    assert 48 <= delays[0] <= 72 and 96 <= delays[1] <= 144  # doubling
    assert op.hint and "bridge dlq replay" in op.hint


async def test_connection_refused_is_retryable(store: Store) -> None:
    dispatcher, sink, _ = await setup(store, f"http://127.0.0.1:{free_port()}/write")
    await dispatcher.drain_all()
    op = await only_op(store)
    assert (op.state, op.attempts, sink.calls) == ("pending", 1, 3)
    assert "RetryableError" in (op.last_error or "")


async def test_timeout_is_retryable(store: Store, server) -> None:
    srv, url = server
    srv.hang = True
    dispatcher, sink, _ = await setup(store, url)
    await dispatcher.drain_all()
    op = await only_op(store)
    assert (op.state, sink.calls) == ("pending", 3)
    assert "Timeout" in (op.last_error or "")


async def test_429_retry_after_is_honoured(store: Store, server) -> None:
    op, dispatcher, sink, clock = await drained(store, server, [(429, {"Retry-After": "7"}, "slow down")])
    assert (op.state, sink.calls) == ("done", 2)
    assert clock.sleeps == [7.0]  # the server's pause, not the shorter back-off


async def test_429_retry_after_longer_than_short_cap_waits_in_the_queue(store: Store, server) -> None:
    op, dispatcher, sink, clock = await drained(store, server, [(429, {"Retry-After": "120"}, "slow down")])
    assert (op.state, sink.calls, clock.sleeps) == ("pending", 1, [])
    assert op.next_attempt_at - clock.time() >= 120


async def test_4xx_validation_is_dead_at_once_with_hint(store: Store, server) -> None:
    op, dispatcher, sink, clock = await drained(store, server, [(400, {}, "price must be a number")])
    assert (op.state, op.attempts, sink.calls, clock.sleeps) == ("dead", 1, 1, [])
    assert "price must be a number" in (op.last_error or "")
    assert op.hint == "fix the payload"


async def test_ops_of_one_key_keep_their_order_when_the_first_fails(store: Store, server) -> None:
    srv, url = server
    srv.responses = [(500, {}, "x")] * 3
    clock = FakeClock()
    sink = HttpSink(url)
    dispatcher = Dispatcher(store, {"http": sink}, SETTINGS, clock=clock, sleep=clock.sleep)
    async with store.transaction() as tx:
        await ob.enqueue(tx, [ob.NewOp("http", "create", "thing", "K", {"n": 1}),
                              ob.NewOp("http", "update", "thing", "K", {"n": 2})], clock.time())
    await dispatcher.dispatch_once()
    rows = await store.fetchall("SELECT op, state, attempts FROM outbox ORDER BY id")
    assert [tuple(r) for r in rows] == [("create", "pending", 1), ("update", "pending", 0)]
    # the update must not overtake the create while the create waits for its retry
    clock.advance(1)
    assert await dispatcher.dispatch_once() == 0
    srv.responses = []
    clock.advance(3600)
    await dispatcher.drain_all()
    rows = await store.fetchall("SELECT op, state FROM outbox ORDER BY id")
    assert [tuple(r) for r in rows] == [("create", "done"), ("update", "done")]
