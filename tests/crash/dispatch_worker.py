"""A dispatcher process for the crash test: delivers the outbox to an idempotent sqlite sink until it is empty.

Usage: python dispatch_worker.py STATE_FILE SINK_FILE
Prints "dispatching" once it has started delivering, so the test can kill it mid-work.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from pathlib import Path

from bridge.config import DispatchSettings
from bridge.dispatch import Dispatcher
from bridge.store import Store
from bridge.store.outbox import OutboxOp


class IdempotentSqliteSink:
    """Each delivery is logged (attempts) and applied at most once (delivered, keyed by idempotency key)."""

    target = "file"

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS attempts (n INTEGER PRIMARY KEY, key TEXT)")
        self.db.execute("CREATE TABLE IF NOT EXISTS delivered (key TEXT PRIMARY KEY, payload TEXT)")
        self.announced = False

    async def deliver(self, op: OutboxOp) -> None:
        if not self.announced:
            print("dispatching", flush=True)
            self.announced = True
        time.sleep(0.0002)  # a little work, so a kill lands mid-batch
        self.db.execute("BEGIN")
        self.db.execute("INSERT INTO attempts (key) VALUES (?)", (op.idempotency_key,))
        self.db.execute("INSERT OR IGNORE INTO delivered (key, payload) VALUES (?, ?)",
                        (op.idempotency_key, op.payload_json))
        self.db.execute("COMMIT")


async def main(state: Path, sink_path: Path) -> None:
    store = await Store.open(state)
    sink = IdempotentSqliteSink(sink_path)
    dispatcher = Dispatcher(store, {"file": sink}, DispatchSettings(batch_size=100, concurrency=4))
    await dispatcher.release_abandoned()
    await dispatcher.drain_all()
    await store.close()
    print("drained", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
