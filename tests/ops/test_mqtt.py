"""MQTT events and commands against a real mosquitto, including a broker restart mid-run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from bridge.config import JobsSettings, MqttSettings
from bridge.domain.time import Clock
from bridge.errors import PermanentError
from bridge.events import EVENT_FIELDS, MqttEvents, NullPublisher, build_event
from tests.ops.conftest import Broker, DaemonProcess, only_stock_job

WAIT = 15.0


@asynccontextmanager
async def listener(broker: Broker, topic: str = "bridge/#", name: str = "ops-test-listener") -> AsyncIterator[
        aiomqtt.Client]:
    """A persistent-session subscriber: QoS 1 messages published while it reconnects are kept for it."""
    for attempt in range(100):
        try:
            async with aiomqtt.Client("127.0.0.1", broker.port, identifier=name, clean_session=False) as client:
                await client.subscribe(topic, qos=1)
                yield client
                return
        except aiomqtt.MqttError:
            if attempt == 99:
                raise
            await asyncio.sleep(0.05)


async def next_event(client: aiomqtt.Client, kind: str | None = None, **match: Any) -> dict[str, Any]:
    """The next message on bridge/events/... (of ``kind`` with ``match``ing fields), decoded."""
    async def read() -> dict[str, Any]:
        async for message in client.messages:
            if not str(message.topic).startswith("bridge/events/"):
                continue
            event = json.loads(message.payload)
            assert str(message.topic) == f"bridge/events/{event['kind']}"
            assert message.qos == 1
            if (kind is None or event["kind"] == kind) and all(event.get(k) == v for k, v in match.items()):
                return event
        raise AssertionError("subscription ended")

    return await asyncio.wait_for(read(), WAIT)


def settings_for(broker: Broker, **overrides: Any) -> MqttSettings:
    return MqttSettings(host="127.0.0.1", port=broker.port, client_id="bridge-under-test", reconnect_initial=0.05,
                        reconnect_max=0.2, **overrides)


async def test_events_carry_the_documented_envelope_and_survive_a_broker_restart(broker: Broker) -> None:
    events = MqttEvents(settings_for(broker))
    runner = asyncio.create_task(events.run())
    try:
        async with listener(broker) as sub:
            await asyncio.wait_for(events.connected.wait(), WAIT)
            await events.publish("job_failed", {"job": "stock", "error": "RetryableError: 503", "failures": 1})
            event = await next_event(sub, "job_failed")
            assert set(event) == {"id", "kind", "at", "source", "job", "error", "failures"}
            assert event["source"] == "bridge-under-test" and event["job"] == "stock"
            assert event["at"].endswith("+00:00")

        broker.stop()
        await asyncio.wait_for(_until(lambda: not events.connected.is_set()), WAIT)
        # Published while the broker is away: kept in the queue, delivered after the reconnect.
        await events.publish("file_quarantined", {"file": "zaiko.csv", "layout": "stock", "reason": "line 3: 数量"})
        assert events.pending == 1
        broker.start()
        async with listener(broker) as sub:
            await asyncio.wait_for(events.connected.wait(), WAIT)
            queued = await next_event(sub, "file_quarantined")
            assert queued["reason"] == "line 3: 数量"
            await events.publish("job_recovered", {"job": "stock", "failures": 1})
            assert (await next_event(sub, "job_recovered"))["job"] == "stock"
        # an event leaves the queue when the broker acknowledges it, which may come after the subscriber has it
        await asyncio.wait_for(_until(lambda: events.pending == 0), WAIT)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_queue_keeps_the_newest_events_while_disconnected(broker: Broker) -> None:
    # the listener's persistent session exists before the outage: the bridge may reconnect and deliver before the
    # listener is back, and the broker (persistence on) keeps those QoS 1 messages for it
    async with listener(broker):
        pass
    broker.stop()
    events = MqttEvents(settings_for(broker, queue_size=2))
    runner = asyncio.create_task(events.run())
    try:
        for job in ("a", "b", "c"):
            await events.publish("job_recovered", {"job": job, "failures": 1})
        assert events.pending == 2
        broker.start()
        await asyncio.sleep(1.5)  # RACE-PROBE
        async with listener(broker) as sub:
            received = [(await next_event(sub, "job_recovered"))["job"] for _ in range(2)]
        assert received == ["b", "c"]
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_sync_commands_reach_the_trigger(broker: Broker) -> None:
    triggered: list[str] = []
    events = MqttEvents(settings_for(broker))
    events.bind_commands(lambda job: triggered.append(job) is None and job == "stock")
    runner = asyncio.create_task(events.run())
    try:
        async with listener(broker) as sub:
            await asyncio.wait_for(events.connected.wait(), WAIT)
            await sub.publish("bridge/commands/sync/stock", b"", qos=1)
            assert (await next_event(sub, "sync_requested"))["accepted"] is True
            await sub.publish("bridge/commands/sync/nonsense", b"", qos=1)
            assert (await next_event(sub, "sync_requested", job="nonsense"))["accepted"] is False
        assert triggered == ["stock", "nonsense"]
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_every_event_kind_is_validated_with_mqtt_off() -> None:
    null = NullPublisher()
    for kind, fields in EVENT_FIELDS.items():
        await null.publish(kind, dict.fromkeys(fields, "x"))
    with pytest.raises(ValueError, match="unknown event kind"):
        await null.publish("stock_alert", {})
    with pytest.raises(ValueError, match="lacks field"):
        await null.publish("job_failed", {"job": "stock"})
    with pytest.raises(ValueError, match="set by the envelope"):
        build_event("job_recovered", {"job": "x", "failures": 0, "id": "mine"}, source="t", clock=Clock())


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.02)


async def test_daemon_publishes_job_events_and_obeys_commands_across_a_broker_restart(
        broker: Broker, short_dir: Path) -> None:
    daemon = DaemonProcess(
        short_dir,
        only_stock_job(interval=3600)
        + f"mqtt: {{host: 127.0.0.1, port: {broker.port}, reconnect_initial: 0.05, reconnect_max: 0.2}}\n",
    )
    daemon.flag("fail", True)
    try:
        async with listener(broker) as sub:
            daemon.start()
            # The first scheduled run fails: one job_failed event (failures are reported on the transition only).
            failed = await next_event(sub, "job_failed", job="stock")
            assert "failing on purpose" in failed["error"] and failed["failures"] == 1

            daemon.flag("fail", False)
            await sub.publish("bridge/commands/sync/stock", b"", qos=1)
            assert (await next_event(sub, "sync_requested", job="stock"))["accepted"] is True
            assert (await next_event(sub, "job_recovered", job="stock"))["failures"] == 1

        broker.restart()
        async with listener(broker) as sub:
            runs = daemon.runs()
            daemon.flag("fail", True)
            # The daemon reconnects by itself and resubscribes: the command works again after the restart.
            for _ in range(200):
                await sub.publish("bridge/commands/sync/stock", b"", qos=1)
                try:
                    event = await asyncio.wait_for(next_event(sub, "sync_requested", job="stock"), 0.5)
                    break
                except TimeoutError:
                    continue
            else:
                pytest.fail(f"no answer to commands after the broker restart:\n{daemon.output()[-4000:]}")
            assert event["accepted"] is True
            assert (await next_event(sub, "job_failed", job="stock"))["failures"] >= 2
            assert daemon.runs() > runs
        assert daemon.stop() == 0, daemon.output()[-4000:]
    finally:
        if daemon.process is not None and daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()


class RefusingSink:
    """A sink whose target refuses every write for good: each op becomes a dead letter at once."""

    target = "refusing"

    async def deliver(self, op: object) -> None:
        raise PermanentError("SMILE code 99999 is unknown", hint="add the code in SMILE")


async def test_a_dead_letter_is_published_by_the_daemon(broker: Broker, tmp_path: Path) -> None:
    from bridge.config import load_settings
    from bridge.daemon import Daemon
    from bridge.store import outbox as ob

    settings = load_settings(
        None, data_dir=tmp_path / "data", http={"host": "127.0.0.1", "port": 0},
        jobs={name: {"enabled": False, "interval": 3600} for name in JobsSettings.model_fields},
        mqtt={"host": "127.0.0.1", "port": broker.port, "reconnect_initial": 0.05},
    )
    daemon = Daemon(settings)
    await daemon.start()
    try:
        assert daemon.dispatcher is not None and daemon.store is not None
        daemon.dispatcher.add_sink(RefusingSink())
        async with listener(broker) as sub:
            async with daemon.store.transaction() as tx:
                await ob.enqueue(tx, [ob.NewOp("refusing", "upsert", "product_stock", "A-100", {"qty": 1})], 0)
            daemon.dispatcher.wake()
            event = await next_event(sub, "dead_letter")
        assert event["target"] == "refusing" and event["key"] == "A-100" and event["entity"] == "product_stock"
        assert "SMILE code 99999 is unknown" in event["error"] and isinstance(event["op_id"], int)
    finally:
        await daemon.shutdown()


async def test_mqtt_is_off_without_a_broker(tmp_path: Path) -> None:
    """No mqtt.host: events are validated and dropped, nothing connects, no MQTT task runs, no command topic."""
    from bridge import wiring
    from bridge.config import Settings
    from bridge.store import Store

    store = await Store.open(tmp_path / "state.sqlite3")
    try:
        wired = await wiring.build(Settings(data_dir=tmp_path), store)
        try:
            assert isinstance(wired.services.events, NullPublisher)
            assert wired.services.sync_commands is None
            assert not any(getattr(task, "__self__", None).__class__ is MqttEvents for task in wired.background)
        finally:
            await wired.aclose()
    finally:
        await store.close()
    with pytest.raises(ValueError, match="mqtt.host"):
        MqttEvents(MqttSettings())
