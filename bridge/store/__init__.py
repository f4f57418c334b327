"""State: ledger, bindings, cursors, outbox (with dead letters), orders mirror, audit log, job state."""

from bridge.store.db import Connection, Store

__all__ = ["Connection", "Store"]
