"""Issue 13 item 8 (hook): a replayed signed push is refused, a flood is rate-limited, a malformed signature header
is a 401 (not a 500). The daemon's real handler on 127.0.0.1, driven over HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.cscart.addon_protocol import SIGNATURE_HEADER, SignatureError, sign, verify
from bridge.sync.orders.hook import OrdersWakeup
from tests.foundation.fakes import serving

SECRET = "s3cret"


@pytest.fixture
async def served() -> AsyncIterator[tuple[OrdersWakeup, str, list[int]]]:
    hook = OrdersWakeup(SECRET, max_per_minute=20)
    woken: list[int] = []
    hook.bind(lambda: woken.append(1))
    app = web.Application()
    app.router.add_post(hook.path, hook.handle)
    async with serving(app) as url:
        yield hook, f"{url}{hook.path}", woken


async def post(url: str, body: bytes, header: str | None) -> int:
    headers = {} if header is None else {SIGNATURE_HEADER: header}
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status


async def test_the_same_signed_push_is_accepted_once(served) -> None:  # type: ignore[no-untyped-def]
    _, url, woken = served
    body = b'{"sent_at": 1}'
    header = sign(SECRET, body, int(time.time()))
    assert await post(url, body, header) == 202
    assert await post(url, body, header) == 401  # replayed within the 5-minute window
    assert len(woken) == 1
    assert await post(url, body, sign(SECRET, body, int(time.time()) + 1)) == 202  # a new push is fine


@pytest.mark.parametrize("header", ["t=²,v1=00", "t=１２,v1=ab", "t=12,v1=ä", "v1=ab", "garbage", "t=,v1="])
async def test_malformed_signature_headers_are_401_not_500(served, header: str) -> None:  # type: ignore[no-untyped-def]
    _, url, woken = served
    # aiohttp sends headers as latin-1/utf-8 bytes; the server decodes them back
    assert await post(url, b"{}", header) == 401
    assert not woken


async def test_a_flood_of_pushes_is_rate_limited(served) -> None:  # type: ignore[no-untyped-def]
    _, url, woken = served
    bodies = [f'{{"n": {i}}}'.encode() for i in range(25)]
    statuses = [await post(url, body, sign(SECRET, body, int(time.time()))) for body in bodies]
    assert statuses[:20] == [202] * 20 and statuses[20:] == [429] * 5
    assert len(woken) == 20


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_verify_never_raises_anything_but_signature_error(header: str) -> None:
    try:
        verify(SECRET, header, b"{}", 1_800_000_000)
    except SignatureError:
        pass
