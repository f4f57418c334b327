"""The state store's transactions never leave the connection inside a transaction nobody owns: a COMMIT that fails
is rolled back, and a transaction found open when the lock is taken (its task cancelled while its BEGIN was queued)
is rolled back and logged, so the store keeps working. Real sqlite files."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bridge.store import Store


async def test_a_commit_that_fails_is_rolled_back_and_the_store_keeps_working(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "state.sqlite3")
    try:
        async with store.transaction() as tx:
            await tx.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            await tx.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) "
                             "DEFERRABLE INITIALLY DEFERRED)")
        with pytest.raises(sqlite3.IntegrityError):  # checked at COMMIT: sqlite keeps the transaction open
            async with store.transaction() as tx:
                await tx.execute("INSERT INTO child (id, parent_id) VALUES (1, 99)")
        async with store.transaction() as tx:  # not "cannot start a transaction within a transaction"
            await tx.execute("INSERT INTO parent (id) VALUES (1)")
        assert await store.fetchall("SELECT id FROM child") == []
        assert [tuple(r) for r in await store.fetchall("SELECT id FROM parent")] == [(1,)]
    finally:
        await store.close()


async def test_a_transaction_left_open_by_a_cancelled_task_is_rolled_back(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "state.sqlite3")
    try:
        async with store.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
        conn = store._conn  # noqa: SLF001 - the orphan a cancelled BEGIN leaves, made directly
        await conn.execute("BEGIN IMMEDIATE")
        await conn.execute("INSERT INTO t (x) VALUES (1)")
        async with store.transaction() as tx:
            await tx.execute("INSERT INTO t (x) VALUES (2)")
        assert [tuple(r) for r in await store.fetchall("SELECT x FROM t")] == [(2,)]

        async def slow_body() -> None:
            async with store.transaction() as tx:
                await tx.execute("INSERT INTO t (x) VALUES (3)")
                await asyncio.sleep(10)

        task = asyncio.create_task(slow_body())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with store.transaction() as tx:
            await tx.execute("INSERT INTO t (x) VALUES (4)")
        assert [tuple(r) for r in await store.fetchall("SELECT x FROM t ORDER BY x")] == [(2,), (4,)]
    finally:
        await store.close()
