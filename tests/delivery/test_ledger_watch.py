"""What a long-lived job keeps of the ledger (``LedgerDigests``, ``LedgerChanges``) follows every write: its own
(noted as they are made) and another process's (sqlite's ``data_version``), also after a read that failed.

Real sqlite file; the other process is a second connection to the same file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.store import Store, ledger


async def write(store: Store, key: str, value: int) -> None:
    async with store.transaction() as tx:
        payload = {"amount": value}
        await ledger.record(tx, "cscart", "product_stock", key, ledger.canonical_json(payload),
                            ledger.value_hash(payload))


async def test_own_and_other_writes_are_seen_and_a_failed_whole_read_is_read_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = await Store.open(tmp_path / "state.sqlite3")
    other = await Store.open(tmp_path / "state.sqlite3")  # another process
    try:
        digests = ledger.LedgerDigests("cscart", "product_stock")
        changes = ledger.LedgerChanges("cscart", "product_stock")
        await write(store, "A", 1)
        async with store.transaction() as tx:
            hashes, changed = await digests.current(tx)
            assert set(hashes) == {"A"} and changed is None  # the first look reads whole
            assert await changes.changes(tx) is None  # the first look: unknown
        await write(store, "B", 2)  # this process: noted
        async with store.transaction() as tx:
            hashes, changed = await digests.current(tx)
            assert set(hashes) == {"A", "B"} and changed == {"B"}
            assert await changes.changes(tx) == {"B": ledger.value_hash({"amount": 2})}
        await write(other, "C", 3)  # another process: not noted, data_version moves
        failing = ledger.get_hashes

        async def broken(*args: object) -> dict[str, str]:
            raise OSError("disk I/O error")

        monkeypatch.setattr(ledger, "get_hashes", broken)
        async with store.transaction() as tx:
            with pytest.raises(OSError):
                await digests.current(tx)
            assert await changes.changes(tx) is None  # unknown: the caller compares whole
        monkeypatch.setattr(ledger, "get_hashes", failing)
        async with store.transaction() as tx:
            hashes, changed = await digests.current(tx)  # the failed read is not taken as done
        assert set(hashes) == {"A", "B", "C"} and changed is None
    finally:
        await other.close()
        await store.close()
