"""Operational events on MQTT: ``<prefix>/events/<kind>`` out, ``<prefix>/commands/sync/<job>`` in.

Jobs and the daemon publish through the small ``EventPublisher`` protocol and never wait for the broker:
``publish`` only validates the event and queues it. ``MqttEvents.run`` (a daemon background task) keeps one broker
session alive with reconnect and exponential back-off, delivers queued events with QoS 1 (an event leaves the queue
only after the broker's PUBACK, so a connection lost mid-publish means a resend: at-least-once while the daemon runs),
and turns command messages into scheduler triggers.

Loss semantics, on purpose: events are notifications, not the state of record (that is the sqlite state and the
metrics). While the broker is away at most ``mqtt.queue_size`` events wait in memory; beyond that the oldest are
dropped (``bridge_mqtt_events_dropped_total``). Events still queued when the daemon stops are flushed for up to two
seconds, then lost. Each event carries a unique ``id`` so consumers can drop the duplicates a resend may cause.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from bridge import metrics
from bridge.config import MqttSettings
from bridge.domain.time import Clock

if TYPE_CHECKING:
    import aiomqtt  # loaded by MqttEvents when it connects: a command without mqtt.host never needs it

log = structlog.get_logger("bridge.events")

# Every event kind and the fields its payload must carry (besides the envelope: id, kind, at, source).
# docs/operations.md documents each one; add a kind here and there together.
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "order_state_changed": ("order_id", "from_state", "to_state", "reason"),
    "stock_guard_tripped": ("file", "changed", "total", "threshold"),
    "dead_letter": ("op_id", "target", "entity", "key", "error"),
    "job_failed": ("job", "error", "failures"),
    "job_recovered": ("job", "failures"),
    "file_quarantined": ("file", "layout", "reason"),
    "order_flagged": ("order_id", "flag", "detail"),
    "sync_requested": ("job", "accepted"),
    "campaign_changed": ("campaign_id", "event", "detail"),  # started | ended | disabled | usage_cap | repaired
    "stock_below_reorder": ("product_code", "available", "reorder_point", "suggested_order"),
}
ENVELOPE = ("id", "kind", "at", "source")
QOS = 1
SHUTDOWN_FLUSH_SECONDS = 2.0


class EventPublisher(Protocol):
    """What jobs and the daemon use. ``publish`` never blocks on the broker and never touches the state store."""

    async def publish(self, kind: str, payload: Mapping[str, Any]) -> None: ...


def build_event(kind: str, fields: Mapping[str, Any], *, source: str, clock: Clock) -> dict[str, Any]:
    """The JSON document of one event; a wrong kind or missing field is a programming error, raised at once."""
    required = EVENT_FIELDS.get(kind)
    if required is None:
        raise ValueError(f"unknown event kind {kind!r}; known kinds: {', '.join(sorted(EVENT_FIELDS))}")
    missing = [name for name in required if name not in fields]
    if missing:
        raise ValueError(f"event {kind!r} lacks field(s) {', '.join(missing)}")
    clashing = [name for name in ENVELOPE if name in fields]
    if clashing:
        raise ValueError(f"event {kind!r}: field(s) {', '.join(clashing)} are set by the envelope")
    return {"id": uuid.uuid4().hex, "kind": kind, "at": clock.now().isoformat(), "source": source, **fields}


class NullPublisher:
    """MQTT off: events are still validated (so a bad event fails in every test), then forgotten."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or Clock()

    async def publish(self, kind: str, payload: Mapping[str, Any]) -> None:
        build_event(kind, payload, source="null", clock=self._clock)


@dataclass(frozen=True, slots=True)
class _Queued:
    kind: str
    topic: str
    body: bytes


class MqttEvents:
    """The aiomqtt-backed publisher and command subscriber. Create it, ``bind_commands``, then run ``run()``."""

    def __init__(self, settings: MqttSettings, *, clock: Clock | None = None, rng: random.Random | None = None) -> None:
        if not settings.host:
            raise ValueError("MqttEvents needs mqtt.host")
        self.settings = settings
        self._clock = clock or Clock()
        self._rng = rng or random.Random()
        self._queue: collections.deque[_Queued] = collections.deque()
        self._queued = asyncio.Event()
        self._trigger: Callable[[str], bool] | None = None
        self.connected = asyncio.Event()
        prefix = settings.topic_prefix.rstrip("/")
        self.events_topic = f"{prefix}/events"
        self.commands_filter = f"{prefix}/commands/sync/+"
        self._commands_prefix = f"{prefix}/commands/sync/"
        self.status_topic = f"{prefix}/status"

    # -- publishing ----------------------------------------------------------------------------------------------

    async def publish(self, kind: str, payload: Mapping[str, Any]) -> None:
        event = build_event(kind, payload, source=self.settings.client_id, clock=self._clock)
        body = json.dumps(event, ensure_ascii=False, default=str).encode("utf-8")
        if len(self._queue) >= self.settings.queue_size:
            dropped = self._queue.popleft()
            metrics.MQTT_EVENTS_DROPPED.labels(dropped.kind).inc()
            log.warning("mqtt.event_dropped", kind=dropped.kind, reason="queue full while the broker is away",
                        queue_size=self.settings.queue_size)
        self._queue.append(_Queued(kind, f"{self.events_topic}/{kind}", body))
        self._queued.set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    # -- commands ------------------------------------------------------------------------------------------------

    def bind_commands(self, trigger: Callable[[str], bool]) -> None:
        """Where ``<prefix>/commands/sync/<job>`` goes: the daemon binds its scheduler's ``trigger``."""
        self._trigger = trigger

    async def _handle_command(self, topic: str) -> None:
        job = topic[len(self._commands_prefix):] if topic.startswith(self._commands_prefix) else ""
        accepted = bool(job) and self._trigger is not None and self._trigger(job)
        metrics.MQTT_COMMANDS.labels("accepted" if accepted else "rejected").inc()
        if accepted:
            log.info("mqtt.sync_requested", job=job)
        else:
            log.warning("mqtt.sync_rejected", job=job, reason="unknown or disabled job")
        await self.publish("sync_requested", {"job": job, "accepted": accepted})

    # -- the session ---------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Stay connected until cancelled: reconnect with exponential back-off and jitter, resubscribe, resend."""
        import aiomqtt

        delay = self.settings.reconnect_initial
        while True:
            try:
                async with self._client() as client:
                    delay = self.settings.reconnect_initial
                    await self._session(client)
            except* aiomqtt.MqttError as group:
                error = group.exceptions[0]
                self._disconnected()
                log.warning("mqtt.disconnected", broker=f"{self.settings.host}:{self.settings.port}",
                            error=str(error), retry_in=round(delay, 2), queued=len(self._queue))
            except* Exception as group:  # a bug in one session must not end MQTT for good
                self._disconnected()
                log.error("mqtt.session_failed", error=repr(group.exceptions[0]), exc_info=group)
            await asyncio.sleep(delay * (1 + 0.2 * self._rng.random()))
            delay = min(delay * 2, self.settings.reconnect_max)

    def _client(self) -> aiomqtt.Client:
        import aiomqtt

        s = self.settings
        return aiomqtt.Client(
            s.host or "",
            s.port,
            username=s.username,
            password=s.password.get_secret_value() if s.password else None,
            identifier=s.client_id,
            keepalive=s.keepalive,
            timeout=s.publish_timeout,
            will=aiomqtt.Will(self.status_topic, b"offline", qos=QOS, retain=True),
        )

    async def _session(self, client: aiomqtt.Client) -> None:
        await client.subscribe(self.commands_filter, qos=QOS)
        await client.publish(self.status_topic, b"online", qos=QOS, retain=True)
        self.connected.set()
        metrics.MQTT_CONNECTED.set(1)
        log.info("mqtt.connected", broker=f"{self.settings.host}:{self.settings.port}", queued=len(self._queue))
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._deliver_forever(client))
                group.create_task(self._listen(client))
        except asyncio.CancelledError:
            # Daemon stopping: a short, best-effort flush, then say goodbye (the will covers a crash).
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._goodbye(client), SHUTDOWN_FLUSH_SECONDS)
            self._disconnected()
            raise

    def _disconnected(self) -> None:
        self.connected.clear()
        metrics.MQTT_CONNECTED.set(0)

    async def _deliver_forever(self, client: aiomqtt.Client) -> None:
        while True:
            await self._deliver_queued(client)
            self._queued.clear()
            if not self._queue:
                await self._queued.wait()

    async def _deliver_queued(self, client: aiomqtt.Client) -> None:
        while self._queue:
            head = self._queue[0]
            await client.publish(head.topic, head.body, qos=QOS, timeout=self.settings.publish_timeout)
            # Only now, after the PUBACK: a failure above leaves the event at the head for the next session.
            if self._queue and self._queue[0] is head:
                self._queue.popleft()
            metrics.MQTT_EVENTS.labels(head.kind).inc()

    async def _listen(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            await self._handle_command(str(message.topic))

    async def _goodbye(self, client: aiomqtt.Client) -> None:
        await self._deliver_queued(client)
        await client.publish(self.status_topic, b"offline", qos=QOS, retain=True)
