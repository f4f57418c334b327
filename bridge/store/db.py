"""The sqlite state file: one writer connection, WAL, ``synchronous=FULL``, numbered migrations.

Every write happens inside ``Store.transaction()``, which serialises writers with an asyncio lock and uses
``BEGIN IMMEDIATE`` so a transaction never fails half-way on a lock upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite
import structlog

from bridge.domain.time import iso, utcnow
from bridge.errors import StateMissing
from bridge.i18n import _

Connection = aiosqlite.Connection


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("bridge.store.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class Store:
    """The bridge's state. Open with ``await Store.open(path)``; close with ``await store.close()``."""

    def __init__(self, path: Path, conn: aiosqlite.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, busy_timeout_ms: int = 10_000, must_exist: bool = False) -> Store:
        """Open (and migrate) the state file. ``must_exist`` (read-only commands): no file there is an error naming
        the path, never a new empty state. A new file is created 0600 whatever the umask (it holds customer data);
        sqlite gives its -wal and -shm files the same mode."""
        path = Path(path)
        if must_exist and not path.is_file():
            raise StateMissing(_(
                "no state file at {path} (looked there because of data_dir / BRIDGE_DATA_DIR); check the setting, "
                "or run `bridge run` or `bridge sync JOB` once to create it.").format(path=path))
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            os.chmod(path, 0o600)
        connecting = aiosqlite.connect(str(path), isolation_level=None)
        # aiosqlite's worker thread is not a daemon: a store an error path left open would keep the process alive
        # after its work is over (a CLI that printed its error would never exit). Exiting mid-write is as safe as a
        # crash here (WAL, synchronous=FULL), and every normal path still closes the store.
        worker = getattr(connecting, "_thread", None)
        if worker is not None and not worker.is_alive():
            worker.daemon = True
        conn = await connecting
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = FULL")
        await conn.execute("PRAGMA foreign_keys = ON")
        store = cls(path, conn)
        await store._migrate()
        return store

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    async def _migrate(self) -> None:
        async with self.transaction() as tx:
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
            )
            rows = await (await tx.execute("SELECT version FROM schema_migrations")).fetchall()
            applied = {row[0] for row in rows}
            for version, name, sql in _migrations():
                if version in applied:
                    continue
                for statement in _split_sql(sql):
                    await tx.execute(statement)
                await tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, iso(utcnow())),
                )

    async def schema_version(self) -> int:
        row = await self.fetchone("SELECT MAX(version) FROM schema_migrations")
        return int(row[0] or 0) if row else 0

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One atomic unit of work; commits on success, rolls back on any exception (cancellation included).

        A COMMIT that fails leaves sqlite's transaction open: it is rolled back there and then, so the connection
        never stays inside a transaction nobody owns. Every transaction is begun under the lock, so one found open
        when the lock is taken has no owner left (a task cancelled while its BEGIN was queued): it is rolled back
        and logged, and the store keeps working instead of refusing every later transaction."""
        async with self._lock:
            if self._conn.in_transaction:
                structlog.get_logger("bridge.store").error(
                    "store.orphan_transaction_rolled_back",
                    hint="a transaction was left open on the state connection; its writes were never confirmed to "
                         "anyone and are rolled back")
                await self._conn.execute("ROLLBACK")
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._rollback_after_failure()
                raise
            else:
                try:
                    await self._conn.execute("COMMIT")
                except BaseException:
                    await self._rollback_after_failure()
                    raise

    async def _rollback_after_failure(self) -> None:
        """ROLLBACK unless sqlite already ended the transaction (some errors roll back by themselves)."""
        if self._conn.in_transaction:
            try:
                await self._conn.execute("ROLLBACK")
            except sqlite3.OperationalError:
                if self._conn.in_transaction:  # else a queued COMMIT (its caller cancelled) ended it first
                    raise

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        async with self._lock:
            cursor = await self._conn.execute(sql, params)
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        async with self._lock:
            cursor = await self._conn.execute(sql, params)
            return await cursor.fetchone()

    async def backup_to(self, target: Path) -> None:
        """A consistent copy while the daemon runs (sqlite online backup)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        async with self._lock:
            dest = await aiosqlite.connect(str(target))
            try:
                await self._conn.backup(dest)
            finally:
                await dest.close()


def _split_sql(sql: str) -> Iterable[str]:
    statement: list[str] = []
    for line in sql.splitlines():
        if line.strip().startswith("--"):
            continue
        statement.append(line)
        candidate = "\n".join(statement).strip()
        if candidate.endswith(";") and sqlite3.complete_statement(candidate):
            yield candidate
            statement = []
    rest = "\n".join(statement).strip()
    if rest:
        yield rest
