"""The analytics store: one DuckDB file beside the state store (``DATA_DIR/analytics.duckdb``).

DuckDB lets one process write a file at a time, and a reader in another process (``bridge report`` while the
daemon runs) cannot open it while the writer holds it. So nobody holds it: every write and every report opens the
file, does its work and closes it, and an open that meets another process's lock waits and tries again. Inside one
process writers take turns on a lock. Only what the wheel ships is used (parquet, json, icu are built in): nothing
is ever downloaded.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import duckdb

SCHEMA_VERSION = 1
_LOCKS: dict[Path, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


class AnalyticsBusy(RuntimeError):
    """Another process held the analytics file for longer than the wait allows."""


def _lock_for(path: Path) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, threading.RLock())


class AnalyticsStore:
    def __init__(self, path: Path | str, *, wait_seconds: float = 30.0, memory_limit: str = "1GB",
                 threads: int = 2) -> None:
        self.path = Path(path).resolve()
        self.wait_seconds = wait_seconds
        self.memory_limit = memory_limit
        self.threads = threads
        self._lock = _lock_for(self.path)
        self._ready = False
        self._held: duckdb.DuckDBPyConnection | None = None  # the open connection, while one is

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work; the schema exists on it. Writers in this process take turns. Inside
        another ``connect`` of the same thread it is that connection (one open and close for several steps, e.g.
        the stock feed and the low-stock check of one cycle)."""
        with self._lock:
            if self._held is not None:  # only the thread holding the lock gets here while a connection is open
                yield self._held
                return
            con = self._open()
            self._held = con
            try:
                if not self._ready:
                    self._create(con)
                    self._ready = True
                yield con
            finally:
                self._held = None
                con.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.wait_seconds
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), config={
                    "memory_limit": self.memory_limit, "threads": self.threads,
                    "autoinstall_known_extensions": False, "autoload_known_extensions": False,
                })
            except duckdb.IOException as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    if "lock" in str(error).lower():
                        raise AnalyticsBusy(f"{self.path}: held by another process for over "
                                            f"{self.wait_seconds:.0f} s ({error})") from error
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    @staticmethod
    def _create(con: duckdb.DuckDBPyConnection) -> None:
        _upgrade(con)
        sql = resources.files("bridge.analytics").joinpath("schema.sql").read_text(encoding="utf-8")
        con.execute(sql)

    def size_bytes(self) -> int:
        wal = self.path.with_name(self.path.name + ".wal")
        return sum(p.stat().st_size for p in (self.path, wal) if p.exists())


def _upgrade(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a store made by an older bridge up to the schema: the first ``returns`` table (no return_id) was
    never written to (nothing fed returns then), so it is replaced when empty."""
    old = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'returns' "
                      "AND table_schema = 'main'").fetchall()[0][0]
    has_id = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'returns' "
                         "AND table_schema = 'main' AND column_name = 'return_id'").fetchall()[0][0]
    if old and not has_id:
        rows = con.execute("SELECT count(*) FROM returns").fetchall()[0][0]
        if rows:
            raise RuntimeError("analytics store: the returns table has rows in an old layout; export it "
                               "(bridge analytics export returns) and remove it before upgrading")
        con.execute("DROP TABLE returns")


def default_path(data_dir: Path) -> Path:
    return Path(data_dir) / "analytics.duckdb"
