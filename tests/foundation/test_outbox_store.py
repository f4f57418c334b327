"""Outbox semantics on a real sqlite file: coalescing, claiming, ordering, dead letters."""

from __future__ import annotations

import pytest

from bridge.store import Store, ledger
from bridge.store import outbox as ob

NOW = 1_800_000_000.0


def op(key: str, value: object, **kw: object) -> ob.NewOp:
    return ob.NewOp(target="t", op="set", entity="product_stock", key=key, payload={"v": value}, **kw)  # type: ignore[arg-type]


async def states(store: Store) -> dict[str, int]:
    async with store.transaction() as tx:
        return await ob.depth_by_state(tx)


async def test_store_uses_wal_and_full_sync(store: Store) -> None:
    assert (await store.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert (await store.fetchone("PRAGMA synchronous"))[0] == 2  # FULL
    assert await store.schema_version() >= 1


async def test_migrations_are_applied_once(tmp_path) -> None:
    first = await Store.open(tmp_path / "s.sqlite3")
    version = await first.schema_version()
    await first.close()
    again = await Store.open(tmp_path / "s.sqlite3")
    assert await again.schema_version() == version
    rows = await again.fetchall("SELECT version FROM schema_migrations")
    assert len(rows) == len({r[0] for r in rows})
    await again.close()


async def test_newer_value_replaces_pending_op_for_same_key(store: Store) -> None:
    async with store.transaction() as tx:
        await ob.enqueue(tx, [op("A", 1), op("B", 1)], NOW)
        await ob.enqueue(tx, [op("A", 2)], NOW)
    rows = await store.fetchall("SELECT key, payload FROM outbox ORDER BY key")
    assert [(r["key"], r["payload"]) for r in rows] == [("A", '{"v":2}'), ("B", '{"v":1}')]


async def test_events_are_not_replaced_and_are_claimed_one_after_another(store: Store) -> None:
    # two status changes of one order, both waiting: each mails the customer, so both must be delivered, in order
    async with store.transaction() as tx:
        await ob.enqueue(tx, [op("O1", "shipping_instructed", coalescing=False),
                              op("O1", "shipped", coalescing=False)], NOW)
        first = await ob.claim(tx, targets=["t"], limit=10, now=NOW, lease=10, owner="me")
        assert [o.payload["v"] for o in first] == ["shipping_instructed"]  # the second waits for the first
        await ob.complete(tx, [ob.Outcome(first[0], ob.DONE)], "me")
        second = await ob.claim(tx, targets=["t"], limit=10, now=NOW, lease=10, owner="me")
    assert [o.payload["v"] for o in second] == ["shipped"]


async def test_explicit_idempotency_key_refuses_second_enqueue(store: Store) -> None:
    async with store.transaction() as tx:
        assert await ob.enqueue(tx, [op("A", 1, idempotency_key="order-7-export")], NOW) == 1
    async with store.transaction() as tx:
        claimed = await ob.claim(tx, targets=["t"], limit=10, now=NOW, lease=60, owner="me")
        await ob.complete(tx, [ob.Outcome(claimed[0], ob.DONE)], "me")
    async with store.transaction() as tx:
        assert await ob.enqueue(tx, [op("A", 1, idempotency_key="order-7-export")], NOW) == 0
    assert (await states(store))["pending"] == 0


async def test_claim_skips_keys_in_flight_and_future_ops(store: Store) -> None:
    async with store.transaction() as tx:
        await ob.enqueue(tx, [op("A", 1), op("B", 1)], NOW)
        first = await ob.claim(tx, targets=["t"], limit=1, now=NOW, lease=60, owner="me")
        assert [o.key for o in first] == ["A"]
        await ob.enqueue(tx, [op("A", 2)], NOW)  # a newer value while A is in flight
        await ob.enqueue(tx, [op("C", 1)], NOW + 100)  # not ready yet
        second = await ob.claim(tx, targets=["t"], limit=10, now=NOW, lease=60, owner="me")
    assert [o.key for o in second] == ["B"]


async def test_claim_only_for_targets_with_a_sink(store: Store) -> None:
    async with store.transaction() as tx:
        await ob.enqueue(tx, [op("A", 1)], NOW)
        assert await ob.claim(tx, targets=["other"], limit=10, now=NOW, lease=60, owner="me") == []


async def test_done_records_ledger_and_resolves_dead_letter_of_same_key(store: Store) -> None:
    async with store.transaction() as tx:
        await ob.enqueue(tx, [op("A", 1)], NOW)
        (first,) = await ob.claim(tx, targets=["t"], limit=10, now=NOW, lease=60, owner="me")
        await ob.complete(tx, [ob.Outcome(first, ob.DEAD, "PermanentError: no", "fix it")], "me")
        await ob.enqueue(tx, [op("A", 2)], NOW)
        (second,) = await ob.claim(tx, targets=["t"], limit=10, now=NOW, lease=60, owner="me")
        resolved = await ob.complete(tx, [ob.Outcome(second, ob.DONE)], "me")
        entry = await ledger.get(tx, "t", "product_stock", "A")
        dead = await ob.dead_letters(tx)
        old = await ob.get(tx, first.id)
    assert resolved == 1
    assert dead == []
    assert old is not None and old.resolution == f"superseded by #{second.id}"
    assert entry is not None and entry.value == {"v": 2}


async def test_release_abandoned_returns_expired_and_orphaned_leases(store: Store) -> None:
    async with store.transaction() as tx:
        await ob.enqueue(tx, [op("A", 1), op("B", 1)], NOW)
        await ob.claim(tx, targets=["t"], limit=1, now=NOW, lease=10, owner="me")
        await ob.claim(tx, targets=["t"], limit=1, now=NOW, lease=10_000, owner="localhost-not-this:999999")
        # a lease of a process on this host that no longer exists
        await tx.execute("UPDATE outbox SET claimed_by = ? WHERE key = 'B'", (f"{ob.owner_token().split(':')[0]}:999999999",))
        assert await ob.release_abandoned(tx, NOW + 5) == 1  # B: owner gone; A: lease still valid
        assert await ob.release_abandoned(tx, NOW + 11) == 1  # A: lease expired
    assert (await states(store))["pending"] == 2


async def test_replay_and_discard(store: Store) -> None:
    async with store.transaction() as tx:
        await ob.enqueue(tx, [op("A", 1), op("B", 1)], NOW)
        claimed = await ob.claim(tx, targets=["t"], limit=10, now=NOW, lease=60, owner="me")
        await ob.complete(tx, [ob.Outcome(c, ob.DEAD, "PermanentError: x", "h") for c in claimed], "me")
        assert await ob.replay(tx, [claimed[0].id], NOW) == [claimed[0].id]
        assert await ob.discard(tx, [claimed[1].id, 999]) == [claimed[1].id]
        replayed = await ob.get(tx, claimed[0].id)
    assert replayed is not None and replayed.state == "pending" and replayed.attempts == 0
    assert (await states(store)) == {"pending": 1, "in_flight": 0, "done": 1, "dead": 0}


async def test_transaction_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await ob.enqueue(tx, [op("A", 1)], NOW)
            raise RuntimeError("plan failed half-way")
    assert (await states(store))["pending"] == 0


async def test_claim_walks_pending_rows_in_id_order_without_sorting_the_queue(store: Store) -> None:
    # A plan that sorts every pending row makes each claim O(queue length): 100k queued ops dispatched 9× slower.
    plan = await store.fetchall("EXPLAIN QUERY PLAN " + ob.claim_sql(1), (0, "me", "", 0, "t", 10))
    details = " | ".join(row[3] for row in plan)
    assert "outbox_claim" in details
    assert "TEMP B-TREE" not in details
