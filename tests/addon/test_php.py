"""The PHP add-on itself: php -l on every file, the PHPUnit suite, and the wire contract with Python."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.cscart import addon_protocol as proto
from bridge.cscart.addon_protocol import (
    AddonProtocolError,
    BatchResponse,
    EventPage,
    ResultCode,
    SignatureError,
    WakeUp,
)
from bridge.domain.money import Rounding

from .conftest import ADDON_ROOT, HERE, WakeUpHook, run_php_protocol


def _php_files() -> list[Path]:
    return sorted([*ADDON_ROOT.rglob("*.php"), *HERE.glob("*.php")])


def test_every_php_file_passes_php_lint() -> None:
    files = _php_files()
    assert len(files) >= 25  # the add-on glue, the pure classes, the PHPUnit tests and the helper

    def lint(path: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
        return path, subprocess.run(["php", "-l", str(path)], capture_output=True, text=True, check=False)

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [
            f"{path}: {done.stdout}{done.stderr}" for path, done in pool.map(lint, files) if done.returncode
        ]
    assert failures == []


def test_phpunit_suite_runs_and_passes(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    done = subprocess.run(
        ["phpunit", "--configuration", str(ADDON_ROOT / "phpunit.xml"), "--log-junit", str(report)],
        cwd=ADDON_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    counts = {
        name: int(suite.get(name, "0")) for name in ("tests", "assertions", "failures", "errors", "skipped")
    }
    assert counts["tests"] >= 60 and counts["assertions"] >= 130, counts
    assert counts["failures"] == counts["errors"] == counts["skipped"] == 0, counts
    classes = {case.get("class") for case in ET.parse(report).getroot().iter("testcase")}
    for expected in (
        "PriceSelectorTest",
        "CheckoutRulesTest",
        "HmacSignerTest",
        "EventSerializerTest",
        "BatchValidatorTest",
    ):
        assert expected in classes


# ---- signing: both implementations agree, both directions --------------------------------------


def _cases() -> list[tuple[str, bytes, int]]:
    rng = random.Random(8)
    cases: list[tuple[str, bytes, int]] = [
        ("s3cret", b"", 0),
        ("秘密の鍵", '{"注文":"出荷済"}'.encode(), 1767225600),
    ]
    for _ in range(40):
        secret = "".join(rng.choice("abcXYZ019-_+/=秘密") for _ in range(rng.randint(1, 40)))
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
        cases.append((secret, body, rng.randint(0, 2**31)))
    return cases


def test_php_and_python_signatures_are_identical_and_cross_verify() -> None:
    cases = _cases()
    b64 = lambda data: base64.b64encode(data).decode()
    python_headers = [proto.sign(secret, body, t) for secret, body, t in cases]
    answer = run_php_protocol(
        {
            "sign": [{"secret": s, "body": b64(b), "t": t} for s, b, t in cases],
            "verify": [
                {"secret": s, "header": header, "body": b64(b), "now": t + 299}
                for (s, b, t), header in zip(cases, python_headers, strict=True)
            ]
            + [
                {"secret": s + "x", "header": header, "body": b64(b), "now": t}
                for (s, b, t), header in zip(cases, python_headers, strict=True)
            ],
        }
    )
    assert answer["sign"] == python_headers
    assert answer["verify"] == [True] * len(cases) + [False] * len(cases)
    for (secret, body, t), header in zip(cases, answer["sign"], strict=True):
        assert proto.verify(secret, header, body, now=t - 300) == t


@pytest.mark.parametrize(
    ("header", "body", "now", "secret", "reason"),
    [
        (None, b"x", 1000, "k", "missing"),
        ("v1=00", b"x", 1000, "k", "malformed"),
        ("t=1000", b"x", 1000, "k", "malformed"),
        ("t=1000,v1=" + "0" * 64, b"x", 1000, "k", "mismatch"),
        (proto.sign("k", b"x", 1000), b"x!", 1000, "k", "mismatch"),
        (proto.sign("k", b"x", 1000), b"x", 1301, "k", "tolerance"),
        (proto.sign("k", b"x", 1000), b"x", 1000, "other", "mismatch"),
        (proto.sign("k", b"x", 1000), b"x", 1000, "", "empty"),
    ],
)
def test_verify_rejects_with_a_reason(
    header: str | None, body: bytes, now: int, secret: str, reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        proto.verify(secret, header, body, now)


# ---- events and the wake-up body ------------------------------------------------------------------


def test_php_wake_up_body_is_what_python_builds_and_parses() -> None:
    answer = run_php_protocol({"wake_up": {"last_event_id": 42, "sent_at": 1767225600}})
    body = answer["wake_up"].encode()
    assert body == WakeUp(last_event_id=42, sent_at=1767225600).to_body()
    assert WakeUp.from_body(body) == WakeUp(42, 1767225600)
    with pytest.raises(AddonProtocolError, match="source"):
        WakeUp.from_body(b'{"last_event_id": 1, "sent_at": 2}')


def test_php_event_feed_parses_into_python_events() -> None:
    rows = [
        {
            "type": "order.placed",
            "entity_id": 96,
            "data": {"status": "O", "user_id": 4, "total": "12345.5"},
            "t": 100,
        },
        {
            "type": "order.status_changed",
            "entity_id": 96,
            "data": {"status_from": "O", "status_to": "J"},
            "t": 101,
        },
        {"type": "order.updated", "entity_id": 96, "data": {"status": "J"}, "t": 102},
        {"type": "order.deleted", "entity_id": 97, "data": {}, "t": 103},
        {
            "type": "user.updated",
            "entity_id": 4,
            "data": {"action": "update", "user_type": "C", "email": "x"},
            "t": 104,
        },
    ]
    letters = {"hold": "H", "shipping_instructed": "J", "shipped": "S", "notified": "W"}
    answer = run_php_protocol({"events": {"rows": rows, "after_id": 10, "limit": 4, "statuses": letters}})
    page = EventPage.from_dict(json.loads(answer["events"]))
    assert page.statuses == letters
    assert [e.id for e in page.events] == [11, 12, 13, 14]
    assert (page.after_id, page.limit, page.next_after_id, page.has_more) == (10, 4, 14, True)
    placed, changed, _, deleted = page.events
    assert placed.type is proto.EventType.ORDER_PLACED and placed.entity == "order" and placed.entity_id == 96
    assert placed.data == {"status": "O", "user_id": 4, "total": "12345.5"} and placed.occurred_at == 100
    assert changed.data == {"status_from": "O", "status_to": "J"}
    assert deleted.data == {}
    last = run_php_protocol({"events": {"rows": rows[4:], "after_id": 14, "limit": 4}})
    last_page = EventPage.from_dict(json.loads(last["events"]))
    assert last_page.statuses == {} and not last_page.has_more
    user = last_page.events[0]
    assert (user.entity, user.data, user.id) == ("user", {"action": "update", "user_type": "C"}, 15)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.update(type="order.exploded"), "events\\[0\\].type: unknown event type"),
        (lambda e: e.update(entity="user"), "events\\[0\\].entity"),
        (lambda e: e["data"].pop("status_to"), "events\\[0\\].data: order.status_changed lacks status_to"),
        (lambda e: e.update(id=0), "events\\[0\\].id: must be >= 1"),
        (lambda e: e.update(entity_id="x"), "events\\[0\\].entity_id"),
    ],
)
def test_malformed_events_are_refused_naming_the_field(
    mutate: Callable[[dict], object], message: str
) -> None:
    event = {
        "id": 1,
        "type": "order.status_changed",
        "entity": "order",
        "entity_id": 5,
        "occurred_at": 1,
        "data": {"status_from": "O", "status_to": "P"},
    }
    mutate(event)
    feed = {
        "events": [event],
        "params": {"after_id": 0, "limit": 10, "next_after_id": 1, "has_more": False, "acknowledged_id": 0},
    }
    with pytest.raises(AddonProtocolError, match=message):
        EventPage.from_dict(feed)


# ---- batch results -----------------------------------------------------------------------------


def test_php_batch_results_parse_into_python_results() -> None:
    batch = {
        "items": [
            {"kind": "stock", "id": "a", "product_id": 1, "amount": 3},
            {
                "kind": "prices",
                "id": "b",
                "product_id": 1,
                "prices": [{"lower_limit": 10, "usergroup_id": 0, "price": 1}],
            },
            {"kind": "customer_price", "id": 3, "user_id": 4, "product_id": 1, "rows": [{"price": "650"}]},
            {"kind": "user_fields", "user_id": 4, "fields": {"smile_price_rate": "70"}},
            {"kind": "nope"},
        ]
    }
    response = BatchResponse.from_dict(json.loads(run_php_protocol({"batch": batch})["batch"]), sent=5)
    assert [r.code for r in response.results] == [
        ResultCode.OK,
        ResultCode.INVALID,
        ResultCode.OK,
        ResultCode.OK,
        ResultCode.INVALID,
    ]
    assert [r.id for r in response.results] == ["a", "b", 3, None, None]
    assert "items[1].prices[0]" in response.results[1].message
    assert response.counts == {"ok": 3, "invalid": 2, "not_found": 0, "failed": 0}
    assert ResultCode.FAILED.retryable and not ResultCode.INVALID.retryable
    with pytest.raises(AddonProtocolError, match="5 results for 6 items"):
        BatchResponse.from_dict(json.loads(run_php_protocol({"batch": batch})["batch"]), sent=6)


@pytest.mark.parametrize(
    ("statuses", "message"),
    [
        ({"hold": "N"}, "params.statuses.hold: expected one letter"),
        ({"shipped": "ss"}, "params.statuses.shipped"),
        ("H", "params.statuses: expected an object"),
    ],
)
def test_status_letters_in_the_feed_are_checked(statuses: object, message: str) -> None:
    params = {"after_id": 0, "limit": 10, "next_after_id": 0, "has_more": False, "acknowledged_id": 0}
    with pytest.raises(AddonProtocolError, match=message):
        EventPage.from_dict({"events": [], "params": {**params, "statuses": statuses}})
    page = EventPage.from_dict({"events": [], "params": {**params, "statuses": {"hold": "", "future": "Q"}}})
    assert page.statuses == {}


# ---- rounding: the add-on applies 掛率 exactly as the daemon computes it --------------------------------------


def test_php_rate_prices_match_the_daemons_rounding() -> None:
    rng = random.Random(13)
    cases = []
    for _ in range(400):
        base = Decimal(rng.randint(0, 5_000_000)) / rng.choice([1, 10, 100])
        rate = Decimal(rng.randint(1, 150_000)) / 1000
        unit = rng.choice(
            [Decimal(1), Decimal(10), Decimal(100), Decimal("0.01"), Decimal("0.05"), Decimal("0.1")]
        )
        mode = rng.choice(list(Rounding))
        cases.append((base, rate, unit, mode))
        # Exact ties (x.5 units) are where half_up and the other modes differ; random data rarely hits them.
        tie = (rng.randint(0, 100_000) + Decimal("0.5")) * unit
        cases.append((tie * 2, Decimal(50), unit, mode))
    answer = run_php_protocol(
        {"price": [{"base": str(b), "rate": str(r), "unit": str(u), "mode": m.value} for b, r, u, m in cases]}
    )
    expected = [str(m.apply(b * r / 100, u)) for b, r, u, m in cases]
    mismatches = [
        (c, php, py) for c, php, py in zip(cases, answer["price"], expected, strict=True) if php != py
    ]
    assert mismatches == []


# ---- the wake-up: PHP's real POST reaches the daemon's hook ---------------------------------------------------


async def _php_wake_up(url: str, secret: str, last_event_id: int) -> float:
    return float((await _php_wake_ups(url, secret, last_event_id))["seconds"])


async def _php_wake_ups(url: str, secret: str, last_event_id: int, times: int | None = None) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        "php", str(HERE / "wake_up_cli.php"), url, secret, str(last_event_id),
        *([] if times is None else [str(times)]), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    answer: dict[str, Any] = json.loads(out)
    return answer


async def test_the_addon_sends_no_wake_up_while_the_daemon_asked_for_a_pause(wake_up_hook: WakeUpHook) -> None:
    """The daemon refuses a wake-up over its limit a minute with 429 and Retry-After; the add-on then sends none
    until that moment (a burst of orders would otherwise cost the daemon one refused request per order)."""
    hook = wake_up_hook.hook
    hook._max_per_minute = 1
    answer = await _php_wake_ups(wake_up_hook.url, "s3cret", 50, times=4)
    assert (hook.accepted, hook.refused, wake_up_hook.woken) == (1, 1, [1])  # the third and fourth never sent
    assert answer["now"] + 1 <= answer["paused_until"] <= answer["now"] + 61  # Retry-After: the window's end


async def test_the_addons_signed_wake_up_is_accepted_by_the_daemons_hook(wake_up_hook: WakeUpHook) -> None:
    hook = wake_up_hook.hook
    await _php_wake_up(f"{wake_up_hook.url}/", "s3cret", 42)
    assert (hook.accepted, hook.refused, wake_up_hook.woken) == (1, 0, [1])
    await _php_wake_up(wake_up_hook.url, "other secret", 43)
    assert (hook.accepted, hook.refused) == (1, 1)
    seconds = await _php_wake_up("http://127.0.0.1:9", "s3cret", 44)  # nobody listens: quietly nothing
    assert seconds < 5
