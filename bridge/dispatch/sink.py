"""The sink protocol: the one shape every writer to the outside has (CS-Cart, SMILE files, carrier files, MQTT)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from bridge.store.outbox import OutboxOp


@runtime_checkable
class Sink(Protocol):
    """Delivers outbox ops of one ``target``.

    ``deliver`` must be idempotent for the same ``op.idempotency_key`` (it may be called again after a crash) and
    must raise ``RetryableError`` or ``PermanentError``; anything else is treated as retryable.
    """

    target: str

    async def deliver(self, op: OutboxOp) -> None: ...


@runtime_checkable
class CheckingSink(Sink, Protocol):
    """A sink that can tell whether an op already reached the target.

    Asked only for ops taken back from a dispatcher that died holding them (``op.recovered``): they may have been
    delivered before the death could be recorded, and a second write is what the check avoids. ``False`` (or an
    error) means: send it again.
    """

    async def already_applied(self, op: OutboxOp) -> bool: ...


@runtime_checkable
class BatchSink(Sink, Protocol):
    """A sink that can deliver many ops in one call (the add-on's batch API)."""

    max_batch: int

    async def deliver_batch(self, ops: Sequence[OutboxOp]) -> Sequence[BaseException | None]:
        """One result per op, in order: ``None`` for delivered, the error otherwise."""
        ...
