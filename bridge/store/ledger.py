"""Ledger: what the bridge last wrote successfully. Jobs diff desired values against it."""

from __future__ import annotations

import hashlib
import json
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from bridge.domain.time import iso, utcnow
from bridge.store.db import Connection


def canonical_json(value: Any) -> str:
    """Stable JSON (sorted keys, no spaces, Decimals as strings) so equal values hash equally."""
    if type(value) is dict:
        flat = _flat_json(value)
        if flat is not None:
            return flat
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def value_hash(value: Any) -> str:
    return json_hash(canonical_json(value))


def json_hash(canonical: str) -> str:
    """``value_hash`` of the value whose ``canonical_json`` is ``canonical`` (a caller holding both encodes once)."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


_PLAIN_KEY = re.compile(r'[^"\\\x00-\x1f]*').fullmatch


def _flat_json(value: dict[Any, Any]) -> str | None:
    """The exact ``json.dumps`` text of a dict of plain-text keys to ints (or such dicts), built without the
    encoder: the stock and other per-SKU payloads are this shape and are hashed 100,000 times a cycle. Anything
    else (floats, strings, lists, escapes) returns None and takes the encoder."""
    parts = []
    for key in sorted(value):
        if type(key) is not str or _PLAIN_KEY(key) is None:
            return None
        item = value[key]
        kind = type(item)
        if kind is int:
            parts.append(f'"{key}":{item}')
        elif kind is dict:
            inner = _flat_json(item)
            if inner is None:
                return None
            parts.append(f'"{key}":{inner}')
        else:
            return None
    return "{" + ",".join(parts) + "}"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    key: str
    value_hash: str
    value: Any


async def get_hashes(tx: Connection, target: str, entity: str) -> dict[str, str]:
    cursor = await tx.execute("SELECT key, value_hash FROM ledger WHERE target = ? AND entity = ?", (target, entity))
    cursor.row_factory = None  # plain tuples: no sqlite3.Row object per row (100,000 of them)
    return dict(cast("list[tuple[str, str]]", await cursor.fetchall()))  # (key, value_hash) rows


async def get(tx: Connection, target: str, entity: str, key: str) -> LedgerEntry | None:
    cursor = await tx.execute(
        "SELECT key, value_hash, value_json FROM ledger WHERE target = ? AND entity = ? AND key = ?",
        (target, entity, key),
    )
    row = await cursor.fetchone()
    return None if row is None else LedgerEntry(row[0], row[1], json.loads(row[2]))


_RECORD_SQL = (
    "INSERT INTO ledger (target, entity, key, value_hash, value_json, pushed_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (target, entity, key) DO UPDATE SET value_hash = excluded.value_hash, "
    "value_json = excluded.value_json, pushed_at = excluded.pushed_at"
)


async def record(tx: Connection, target: str, entity: str, key: str, payload_json: str, payload_hash: str) -> None:
    await record_many(tx, [(target, entity, key, payload_json, payload_hash)])


async def record_many(tx: Connection, entries: Iterable[tuple[str, str, str, str, str]]) -> None:
    """Record (target, entity, key, payload_json, payload_hash) entries in one round trip."""
    stamp = iso(utcnow())
    rows = [(t, e, k, h, j, stamp) for t, e, k, j, h in entries]
    _note((t, e, k) for t, e, k, _, _, _ in rows)
    await tx.executemany(_RECORD_SQL, rows)


async def forget(tx: Connection, target: str, entity: str, keys: Iterable[str]) -> None:
    """Drop entries so the next run pushes those keys again (drift repair)."""
    keys = list(keys)
    _note((target, entity, k) for k in keys)
    await tx.executemany(
        "DELETE FROM ledger WHERE target = ? AND entity = ? AND key = ?", [(target, entity, k) for k in keys]
    )


async def values(tx: Connection, target: str, entity: str) -> dict[str, Any]:
    """Key → the value last written, for every record of ``entity`` (what the drift check compares with)."""
    cursor = await tx.execute("SELECT key, value_json FROM ledger WHERE target = ? AND entity = ?", (target, entity))
    return {row[0]: json.loads(row[1]) for row in await cursor.fetchall()}


# ---- what a long-lived job keeps of the ledger between its runs --------------------------------------------------

_watchers: weakref.WeakSet[_LedgerWatcher] = weakref.WeakSet()
_RELOAD_AFTER = 20_000  # keys written since the last look beyond which one full read is cheaper


def _note(written: Iterable[tuple[str, str, str]]) -> None:
    """Tell every live watcher which keys this process is writing (re-read at their next look; a write rolled back
    is simply re-read unchanged)."""
    if not _watchers:
        return
    live = list(_watchers)  # once, not a WeakSet iteration per key
    for target, entity, key in written:
        for watcher in live:
            if watcher.target == target and watcher.entity == entity:
                watcher.note(key)


class _LedgerWatcher:
    """The keys of one (target, entity) this process wrote since the last look. The store has one writer
    connection; a write by another connection (another process) changes sqlite's ``data_version``, and then what
    was written is unknown."""

    def __init__(self, target: str, entity: str) -> None:
        self.target, self.entity = target, entity
        self._pending: set[str] = set()
        self._overflow = False
        self._seen: tuple[int, int] | None = None  # (id of the connection, its data_version)
        _watchers.add(self)

    def note(self, key: str) -> None:
        if self._overflow:
            return
        self._pending.add(key)
        if len(self._pending) > _RELOAD_AFTER:
            self._overflow = True
            self._pending.clear()

    async def _look(self, tx: Connection) -> list[str] | None:
        """The keys written since the last look, or None when that is unknown (the first look, too many keys,
        another connection's write); either way the next look starts from now."""
        cursor = await tx.execute("PRAGMA data_version")
        row = await cursor.fetchone()
        seen = (id(tx), int(row[0]) if row else 0)
        known = self._seen == seen and not self._overflow
        self._seen, self._overflow = seen, False
        keys, self._pending = list(self._pending), set()
        return keys if known else None

    async def _hashes_of(self, tx: Connection, keys: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            cursor = await tx.execute(
                f"SELECT key, value_hash FROM ledger WHERE target = ? AND entity = ? AND key IN ({marks})",
                (self.target, self.entity, *chunk))
            found.update(cast("list[tuple[str, str]]", await cursor.fetchall()))
        return found


class LedgerDigests(_LedgerWatcher):
    """key → value_hash of one (target, entity), kept between the runs of a long-lived job: read whole once, then
    refreshed with only the keys this process wrote since."""

    def __init__(self, target: str, entity: str) -> None:
        super().__init__(target, entity)
        self.hashes: dict[str, str] | None = None

    async def current(self, tx: Connection) -> tuple[dict[str, str], set[str] | None]:
        """(key → hash, the keys whose hash may differ from the last call's answer; None: read whole)."""
        keys = await self._look(tx)
        try:
            if self.hashes is None or keys is None:
                self.hashes = await get_hashes(tx, self.target, self.entity)
                return self.hashes, None
            found = await self._hashes_of(tx, keys)
        except BaseException:
            self._seen = None  # the read failed: the next look reads whole (the old hashes are not vouched for)
            raise
        for key in keys:
            if key in found:
                self.hashes[key] = found[key]
            else:
                self.hashes.pop(key, None)
        return self.hashes, set(keys)


class LedgerChanges(_LedgerWatcher):
    """Only what changed in the ledger between a long-lived job's runs, for a job that keeps, instead of a copy of
    the ledger, the keys whose hash differs from its own (1,000,000 SKUs: no second copy of every hash)."""

    async def changes(self, tx: Connection) -> dict[str, str | None] | None:
        """key → its hash now (None: no entry) of every key written since the last call; None on the first call
        or when that is unknown (the caller then compares with the whole ledger once)."""
        keys = await self._look(tx)
        if keys is None:
            return None
        try:
            found = await self._hashes_of(tx, keys)
        except BaseException:
            self._seen = None  # the keys taken are lost with the failed read: the next call says "unknown"
            raise
        return {key: found.get(key) for key in keys}
