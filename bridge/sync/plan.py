"""Diff desired values against the ledger and enqueue only the differences.

CS-Cart products have no "changed since" filter, so this diff is what makes a 100k-SKU sync cheap: a job computes
the full desired state, and only keys whose value hash differs from what was last written successfully become
outbox ops. The comparison, the enqueue and the job's other bookkeeping share one store transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.i18n import _
from bridge.store import ledger
from bridge.store import outbox as ob
from bridge.store.db import Connection


@dataclass(frozen=True, slots=True)
class Change:
    key: str
    old: Any  # None when the bridge never wrote this key
    new: Any


@dataclass(slots=True)
class Plan:
    """What a job would write to one (target, entity)."""

    target: str
    entity: str
    op: str
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    more: int = 0  # changes counted but not kept in ``changes`` (a plan built a chunk at a time keeps the first)

    @property
    def count(self) -> int:
        """How many changes (kept or not)."""
        return len(self.changes) + self.more

    @property
    def desired(self) -> int:
        return self.count + self.unchanged

    def add(self, changes: list[Change], *, keep: int) -> None:
        """Count ``changes``, keeping them only while fewer than ``keep`` are kept."""
        room = max(0, keep - len(self.changes))
        self.changes.extend(changes[:room])
        self.more += max(0, len(changes) - room)

    def describe(self, limit: int = 20, render: Callable[[Change], str] | None = None) -> list[str]:
        """The first changes as lines for people (``--dry-run``)."""
        render = render or _render
        lines = [render(change) for change in self.changes[:limit]]
        if self.count > limit:
            lines.append(_("… and {count} more {entity} changes").format(count=self.count - limit,
                                                                        entity=self.entity))
        return lines


def _render(change: Change) -> str:
    new = json.dumps(change.new, ensure_ascii=False, default=str, sort_keys=True)
    if change.old is None:
        return _("{key}: (new) {value}").format(key=change.key, value=new)
    old = json.dumps(change.old, ensure_ascii=False, default=str, sort_keys=True)
    return f"{change.key}: {old} → {new}"


async def diff(
    tx: Connection, target: str, entity: str, op: str, desired: Mapping[str, Any], *, old_values_for: int = 20,
    hashes: Mapping[str, str] | None = None, written: Mapping[str, str] | None = None,
    differing: Collection[str] | None = None,
) -> Plan:
    """Compare ``desired`` (key → exact payload to send) with the ledger; old values are loaded for the first few.

    A job that remembers what it computed before may pass ``hashes`` (key → ``ledger.value_hash`` of every desired
    value), ``written`` (the ledger's key → hash, e.g. from ``ledger.LedgerDigests``) and even ``differing`` (the
    keys whose hash differs from the ledger's, kept up to date by the job)."""
    if written is None:
        written = await ledger.get_hashes(tx, target, entity)
    plan = Plan(target, entity, op)
    changed_keys = []
    if differing is not None or hashes is not None:
        if differing is None:
            assert hashes is not None
            # (key, hash) pairs the ledger does not hold, as a set difference in C
            differing = {key for key, _ in hashes.items() - written.items()}
        changed_keys = [key for key in desired if key in differing] if differing else []
        plan.unchanged = len(desired) - len(changed_keys)
    else:
        for key, value in desired.items():
            if written.get(key) == ledger.value_hash(value):
                plan.unchanged += 1
            else:
                changed_keys.append(key)
    for index, key in enumerate(changed_keys):
        old = None
        if index < old_values_for and key in written:
            entry = await ledger.get(tx, target, entity, key)
            old = entry.value if entry else None
        plan.changes.append(Change(key, old, desired[key]))
    return plan


async def written_hashes(tx: Connection, target: str, entity: str, keys: Iterable[str]) -> dict[str, str]:
    """The ledger's key → value hash of ``keys`` only (a run that plans a chunk of keys at a time)."""
    found: dict[str, str] = {}
    wanted = list(keys)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        cursor = await tx.execute(
            f"SELECT key, value_hash FROM ledger WHERE target = ? AND entity = ? AND key IN ({','.join('?' * len(chunk))})",
            (target, entity, *chunk))
        found.update((str(key), str(value_hash)) for key, value_hash in await cursor.fetchall())
    return found


async def unwritten(tx: Connection, target: str, entity: str, hashes: Mapping[str, str]) -> set[str] | None:
    """The keys of ``hashes`` whose hash the ledger does not hold, found by one pass over the ledger without
    keeping it (``hashes.items() - ledger.items()`` in the memory of the answer); None when some key of ``hashes``
    has no ledger entry at all (the caller then reads the ledger whole)."""
    cursor = await tx.execute("SELECT key, value_hash FROM ledger WHERE target = ? AND entity = ?", (target, entity))
    cursor.row_factory = None  # plain tuples, not a sqlite3.Row per row
    differing: set[str] = set()
    same = 0
    get = hashes.get
    while rows := await cursor.fetchmany(20_000):
        for key, value_hash in rows:
            wanted = get(key)
            if wanted is None:
                continue
            if wanted == value_hash:
                same += 1
            else:
                differing.add(key)
    await cursor.close()
    return differing if same + len(differing) == len(hashes) else None


async def enqueue(tx: Connection, plan: Plan, now: float) -> int:
    """Turn a plan into outbox ops (a pending op for the same key is replaced by the newer value)."""
    return await ob.enqueue(
        tx, (ob.NewOp(plan.target, plan.op, plan.entity, change.key, change.new) for change in plan.changes), now
    )
