"""Outbox rows: enqueue (with coalescing), claim with a lease, complete, retry, dead-letter, replay.

Every function takes the transaction's connection so a job enqueues in the same transaction as its plan.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.domain.time import iso, utcnow
from bridge.pids import alive
from bridge.store import ledger
from bridge.store.db import Connection, Store

PENDING, IN_FLIGHT, DONE, DEAD = "pending", "in_flight", "done", "dead"
STATES = (PENDING, IN_FLIGHT, DONE, DEAD)


@dataclass(frozen=True, slots=True)
class NewOp:
    """A write the bridge wants done. ``key`` identifies the record; ops for one key are delivered in order."""

    target: str
    op: str
    entity: str
    key: str
    payload: Any
    idempotency_key: str | None = None  # give one where a second enqueue of the same intent must be refused
    track_ledger: bool = True  # record the payload in the ledger once delivered
    # A value (a stock amount) may replace a pending one for the same record; an event (a status change that mails
    # the customer) may not: with coalescing=False every op is delivered, in order.
    coalescing: bool = True


@dataclass(frozen=True, slots=True)
class OutboxOp:
    id: int
    target: str
    op: str
    entity: str
    key: str
    payload_json: str
    payload_hash: str
    idempotency_key: str
    track_ledger: bool
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str | None = None
    hint: str | None = None
    resolution: str | None = None
    created_at: str = ""
    updated_at: str = ""
    payload: Any = field(default=None, compare=False)
    recovered: bool = False  # taken back from a dispatcher that died holding it: it may have been delivered
    coalescing: bool = True  # False: an event (a status change that mails the customer), never sent twice

    @classmethod
    def from_row(cls, row: Any) -> OutboxOp:
        columns = row.keys()
        return cls(
            **{name: row[name] for name in _SAME_NAMED},
            payload_json=row["payload"],
            payload=json.loads(row["payload"]),
            track_ledger=bool(row["track_ledger"]),
            recovered=bool(row["recovered"]) if "recovered" in columns else False,
            coalescing=bool(row["coalescing"]) if "coalescing" in columns else True,
        )


# outbox columns read into the OutboxOp field of the same name as they are
_SAME_NAMED = ("id", "target", "op", "entity", "key", "payload_hash", "idempotency_key", "state", "attempts",
               "next_attempt_at", "last_error", "hint", "resolution", "created_at", "updated_at")


_ENQUEUE_SQL = """
INSERT INTO outbox (target, op, entity, key, payload, payload_hash, idempotency_key, track_ledger, coalescing,
                    state, attempts, next_attempt_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)
ON CONFLICT (idempotency_key) DO NOTHING
ON CONFLICT (target, entity, key, op) WHERE state = 'pending' AND coalescing = 1 DO UPDATE SET
    payload = excluded.payload, payload_hash = excluded.payload_hash,
    idempotency_key = excluded.idempotency_key, track_ledger = excluded.track_ledger,
    updated_at = excluded.updated_at
"""


async def enqueue(tx: Connection, ops: Iterable[NewOp], now: float) -> int:
    """Insert ops, replacing a pending op for the same key (unless either is an event: ``coalescing=False``); returns
    how many rows were inserted or replaced."""
    stamp = iso(utcnow())
    rows = []
    for item in ops:
        payload_json = ledger.canonical_json(item.payload)
        payload_hash = ledger.json_hash(payload_json)  # = value_hash(payload), without encoding it twice
        key = item.idempotency_key or f"{item.target}/{item.entity}/{item.key}/{item.op}/{uuid.uuid4().hex}"
        rows.append(
            (item.target, item.op, item.entity, item.key, payload_json, payload_hash, key,
             int(item.track_ledger), int(item.coalescing), now, stamp, stamp)
        )
    if not rows:
        return 0
    before = tx.total_changes
    await tx.executemany(_ENQUEUE_SQL, rows)
    return tx.total_changes - before


def owner_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_sql(target_count: int) -> str:
    marks = ",".join("?" for _ in range(target_count))
    return f"""
        UPDATE outbox SET state = 'in_flight', lease_until = ?, claimed_by = ?, updated_at = ?
        WHERE id IN (
            SELECT o.id FROM outbox o
            WHERE o.state = 'pending' AND o.next_attempt_at <= ? AND o.target IN ({marks})
              AND NOT EXISTS (SELECT 1 FROM outbox b WHERE b.target = o.target AND b.entity = o.entity
                              AND b.key = o.key AND (b.state = 'in_flight'
                                   OR (b.state = 'pending' AND b.id < o.id)))
            ORDER BY o.id LIMIT ?)
        RETURNING *
        """


async def any_ready(store: Store, targets: Sequence[str], now: float) -> bool:
    """Whether ``claim`` could take anything now (a pending op for these targets whose time has come): one read,
    no write transaction, for the dispatcher's look at an empty outbox."""
    if not targets:
        return False
    row = await store.fetchone(
        f"SELECT 1 FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
        f"AND target IN ({','.join('?' for _ in targets)}) LIMIT 1", (now, *targets))
    return row is not None


async def claim(tx: Connection, *, targets: Sequence[str], limit: int, now: float, lease: float, owner: str) -> list[OutboxOp]:
    """Take up to ``limit`` ready ops for ``targets``; never one whose key has an op in flight or an older one waiting."""
    if not targets:
        return []
    cursor = await tx.execute(
        claim_sql(len(targets)), (now + lease, owner, iso(utcnow()), now, *targets, limit)
    )
    ops = [OutboxOp.from_row(row) for row in await cursor.fetchall()]
    ops.sort(key=lambda op: op.id)
    return ops


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one delivery, as the dispatcher records it."""

    op: OutboxOp
    state: str  # done | pending (retry later) | dead
    error: str | None = None
    hint: str | None = None
    next_attempt_at: float | None = None


async def complete(tx: Connection, outcomes: Sequence[Outcome], owner: str) -> int:
    """Record outcomes of claimed ops; returns how many dead letters a success resolved."""
    stamp = iso(utcnow())
    done = [o for o in outcomes if o.state == DONE]
    retry = [o for o in outcomes if o.state == PENDING]
    dead = [o for o in outcomes if o.state == DEAD]
    resolved = 0
    if done:
        await tx.executemany(
            "UPDATE outbox SET state = 'done', attempts = attempts + 1, lease_until = NULL, last_error = NULL, "
            "hint = NULL, updated_at = ? WHERE id = ? AND claimed_by = ?",
            [(stamp, o.op.id, owner) for o in done],
        )
        await ledger.record_many(
            tx, [(o.op.target, o.op.entity, o.op.key, o.op.payload_json, o.op.payload_hash)
                 for o in done if o.op.track_ledger]
        )
        # Dead letters this success supersedes: none at all is the usual case (one index probe, not one UPDATE
        # per delivered op).
        cursor = await tx.execute("SELECT 1 FROM outbox WHERE state = 'dead' LIMIT 1")
        if await cursor.fetchone() is not None:
            before = tx.total_changes
            await tx.executemany(
                "UPDATE outbox SET state = 'done', resolution = ?, updated_at = ? "
                "WHERE state = 'dead' AND target = ? AND entity = ? AND key = ? AND id < ?",
                [(f"superseded by #{o.op.id}", stamp, o.op.target, o.op.entity, o.op.key, o.op.id) for o in done],
            )
            resolved = tx.total_changes - before
    if retry:
        await _make_room_for_pending(tx, [o.op.id for o in retry], stamp)
        await tx.executemany(
            "UPDATE outbox SET state = 'pending', attempts = attempts + 1, lease_until = NULL, claimed_by = NULL, "
            "last_error = ?, hint = ?, next_attempt_at = ?, updated_at = ? WHERE id = ? AND claimed_by = ? "
            "AND state = 'in_flight'",
            [(o.error, o.hint, o.next_attempt_at, stamp, o.op.id, owner) for o in retry],
        )
    if dead:
        await tx.executemany(
            "UPDATE outbox SET state = 'dead', attempts = attempts + 1, lease_until = NULL, claimed_by = NULL, "
            "last_error = ?, hint = ?, updated_at = ? WHERE id = ? AND claimed_by = ?",
            [(o.error, o.hint, stamp, o.op.id, owner) for o in dead],
        )
    return resolved


async def release(tx: Connection, op_ids: Sequence[int], owner: str) -> None:
    """Give claimed ops back unchanged (shutdown before they were delivered)."""
    await _make_room_for_pending(tx, list(op_ids), iso(utcnow()))
    await tx.executemany(
        "UPDATE outbox SET state = 'pending', lease_until = NULL, claimed_by = NULL "
        "WHERE id = ? AND claimed_by = ? AND state = 'in_flight'",
        [(op_id, owner) for op_id in op_ids],
    )


# Back to pending, an op would share the one pending slot of a coalescing record (index ``outbox_coalesce``) with an
# op the job enqueued meanwhile. The op with the higher id carries the newer value: the other one is folded into it.
_FOLD_OLDER_PENDING_SQL = """
UPDATE outbox SET state = 'done', resolution = 'superseded by #' || :id, updated_at = :stamp
WHERE state = 'pending' AND coalescing = 1 AND id < :id
  AND (target, entity, key, op) = (SELECT target, entity, key, op FROM outbox WHERE id = :id AND coalescing = 1)
"""
_FOLD_INTO_NEWER_PENDING_SQL = """
UPDATE outbox SET state = 'done', lease_until = NULL, claimed_by = NULL, updated_at = :stamp,
    resolution = 'superseded by pending #' || (
        SELECT n.id FROM outbox n WHERE n.state = 'pending' AND n.coalescing = 1 AND n.target = outbox.target
          AND n.entity = outbox.entity AND n.key = outbox.key AND n.op = outbox.op AND n.id > outbox.id)
WHERE id = :id AND state = 'in_flight' AND coalescing = 1
  AND EXISTS (SELECT 1 FROM outbox n WHERE n.state = 'pending' AND n.coalescing = 1 AND n.target = outbox.target
              AND n.entity = outbox.entity AND n.key = outbox.key AND n.op = outbox.op AND n.id > outbox.id)
"""


async def _make_room_for_pending(tx: Connection, op_ids: Sequence[int], stamp: str) -> None:
    """Before in-flight ops return to pending: fold each into a newer pending op of its record (it is done, the
    newer value will be delivered), or fold an older pending op (a replayed dead letter) into it."""
    if not op_ids:
        return
    params = [{"id": op_id, "stamp": stamp} for op_id in op_ids]
    await tx.executemany(_FOLD_INTO_NEWER_PENDING_SQL, params)
    await tx.executemany(_FOLD_OLDER_PENDING_SQL, params)


async def release_abandoned(tx: Connection, now: float) -> int:
    """Return in_flight ops to pending when their lease expired or their owner process on this host is gone.

    They are marked ``recovered``: the dead owner may have delivered them before it could record it."""
    cursor = await tx.execute("SELECT id, claimed_by, lease_until FROM outbox WHERE state = 'in_flight'")
    alive: dict[str, bool] = {}
    ids = []
    for row in await cursor.fetchall():
        owner = row["claimed_by"]
        if owner and owner not in alive:
            alive[owner] = _owner_alive(owner)
        if (row["lease_until"] is not None and row["lease_until"] < now) or (owner and not alive[owner]):
            ids.append(row["id"])
    if not ids:
        return 0
    await _make_room_for_pending(tx, ids, iso(utcnow()))
    await tx.executemany(
        "UPDATE outbox SET state = 'pending', lease_until = NULL, claimed_by = NULL, recovered = 1 "
        "WHERE id = ? AND state = 'in_flight'",
        [(op_id,) for op_id in ids],
    )
    return len(ids)  # taken back: to pending, or folded into a newer pending op of the same record


def _owner_alive(owner: str) -> bool:
    host, _, pid_text = owner.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another host's lease: only its expiry can free it
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    return alive(pid)


async def depth_by_state(tx: Connection) -> dict[str, int]:
    cursor = await tx.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    counts = dict.fromkeys(STATES, 0)
    counts.update({row[0]: row[1] for row in await cursor.fetchall()})
    return counts


async def get(tx: Connection, op_id: int) -> OutboxOp | None:
    cursor = await tx.execute("SELECT * FROM outbox WHERE id = ?", (op_id,))
    row = await cursor.fetchone()
    return None if row is None else OutboxOp.from_row(row)


async def dead_letters(tx: Connection, limit: int = 1000) -> list[OutboxOp]:
    cursor = await tx.execute("SELECT * FROM outbox WHERE state = 'dead' ORDER BY id LIMIT ?", (limit,))
    return [OutboxOp.from_row(row) for row in await cursor.fetchall()]


async def replay(tx: Connection, op_ids: Sequence[int] | None, now: float) -> list[int]:
    """Dead letters back to pending with a fresh attempt budget; ``None`` replays all of them.

    A replayed op whose key already has a pending op is folded into it (the pending one is newer).
    """
    if op_ids is None:
        cursor = await tx.execute("SELECT id FROM outbox WHERE state = 'dead' ORDER BY id")
        op_ids = [row[0] for row in await cursor.fetchall()]
    replayed = []
    stamp = iso(utcnow())
    for op_id in op_ids:
        op = await get(tx, op_id)
        if op is None or op.state != DEAD:
            continue
        cursor = await tx.execute(
            "SELECT id FROM outbox WHERE state = 'pending' AND target = ? AND entity = ? AND key = ? AND op = ?",
            (op.target, op.entity, op.key, op.op),
        )
        newer = await cursor.fetchone()
        if newer is not None:
            await tx.execute(
                "UPDATE outbox SET state = 'done', resolution = ?, updated_at = ? WHERE id = ?",
                (f"superseded by pending #{newer[0]}", stamp, op_id),
            )
        else:
            await tx.execute(
                "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, resolution = 'replayed', "
                "updated_at = ? WHERE id = ?",
                (now, stamp, op_id),
            )
        replayed.append(op_id)
    return replayed


async def discard(tx: Connection, op_ids: Sequence[int]) -> list[int]:
    stamp = iso(utcnow())
    discarded = []
    for op_id in op_ids:
        cursor = await tx.execute(
            "UPDATE outbox SET state = 'done', resolution = 'discarded', updated_at = ? WHERE id = ? AND state = 'dead'",
            (stamp, op_id),
        )
        if cursor.rowcount:
            discarded.append(op_id)
    return discarded


async def keys_in(tx: Connection, target: str, entity: str, states: Sequence[str]) -> set[str]:
    """The records of ``entity`` that have an op in one of ``states``."""
    marks = ",".join("?" for _ in states)
    cursor = await tx.execute(f"SELECT DISTINCT key FROM outbox WHERE target = ? AND entity = ? AND state IN ({marks})",
                              (target, entity, *states))
    return {row[0] for row in await cursor.fetchall()}


async def queued_hashes(tx: Connection, target: str, entity: str, op: str) -> dict[str, set[str]]:
    """Key → payload hashes of the ``op`` ops still waiting (pending or in flight) for that record."""
    cursor = await tx.execute(
        "SELECT key, payload_hash FROM outbox WHERE target = ? AND entity = ? AND op = ? "
        "AND state IN ('pending', 'in_flight')", (target, entity, op))
    queued: dict[str, set[str]] = {}
    for key, payload_hash in await cursor.fetchall():
        queued.setdefault(key, set()).add(payload_hash)
    return queued


async def states_by_key_prefix(tx: Connection, prefix: str) -> list[str]:
    """The states of every op whose idempotency key starts with ``prefix``."""
    cursor = await tx.execute("SELECT state FROM outbox WHERE substr(idempotency_key, 1, ?) = ?",
                              (len(prefix), prefix))
    return [row[0] for row in await cursor.fetchall()]
