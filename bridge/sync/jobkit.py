"""Small pieces the catalog jobs (products, prices, customers) share: their rules, the rank usergroups, money in
payloads, the enqueue of create ops and the end-of-run report (metrics, one log line)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import structlog

from bridge.i18n import Text, _
from bridge import metrics
from bridge.rules.pricing import PricingRules, rank_usergroup_ids
from bridge.store import outbox as ob
from bridge.store.db import Connection
from bridge.sync.base import JobResult, RunOptions

log = structlog.get_logger("bridge.sync")

def money(amount: Decimal) -> str:
    """Yen as CS-Cart's decimal columns hold them (``1200.00``): equal prices hash equally in the ledger."""
    return f"{amount.quantize(Decimal('0.01')):f}"


async def rank_groups(client: Any, pricing: PricingRules, *, create: bool, notes: list[Text]) -> dict[int, int]:
    """单価ランク → CS-Cart usergroup_id, creating missing rank groups by name when ``create``.

    Done with direct client calls at job start rather than outbox ops: creating a group is rare, it must happen
    before any tier or membership can name its id, and it is idempotent by name (the listing is read first).
    """
    existing = await client.usergroups()
    by_name = {group.name: group.usergroup_id for group in existing.values() if group.type == "C"}
    ids, missing = rank_usergroup_ids(pricing, by_name)
    if not missing:
        return ids
    if not pricing.create_missing_usergroups:
        notes.append(_("usergroup(s) {names} missing in CS-Cart (create_missing_usergroups is off in "
                       "rules/pricing.yaml); their rank prices and memberships are left out").format(
                           names=", ".join(missing)))
        return ids
    if not create:
        notes.append(_("usergroup(s) {names} missing in CS-Cart; a real run creates them").format(
            names=", ".join(missing)))
        return ids
    for name in missing:
        await client.request("POST", "usergroups", body={"usergroup": name, "status": "A", "type": "C"})
    notes.append(_("created usergroup(s) {names} in CS-Cart").format(names=", ".join(missing)))
    log.info("usergroups.created", names=missing)
    existing = await client.usergroups()
    by_name = {group.name: group.usergroup_id for group in existing.values() if group.type == "C"}
    return rank_usergroup_ids(pricing, by_name)[0]


async def enqueue_creates(tx: Connection, target: str, op: str, entity: str, payloads: Mapping[str, Any],
                          now: float) -> int:
    """Create ops are kept out of the ledger: the sink's ``on_created`` records the update-shaped value there."""
    return await ob.enqueue(
        tx, (ob.NewOp(target, op, entity, key, payload, track_ledger=False) for key, payload in payloads.items()),
        now,
    )


def describe_creates(op: str, payloads: Mapping[str, Any], limit: int) -> list[str]:
    lines = [f"{key}: {op} {payload.get('fields', {})}" for key, payload in list(payloads.items())[:limit]]
    if len(payloads) > limit:
        lines.append(_("… and {count} more {op}").format(count=len(payloads) - limit, op=op))
    return lines


def finish(job: str, result: JobResult, options: RunOptions, started: float, **extra: Any) -> JobResult:
    """Count the run's records in the metrics (a dry run counts nothing) and log its one-line summary."""
    if not options.dry_run:
        for stage, count in (("read", result.read), ("changed", result.changed), ("written", result.enqueued),
                             ("failed", result.failed)):
            metrics.JOB_RECORDS.labels(sync_job=job, stage=stage).inc(count)
    log.info(f"{job}.run", dry_run=options.dry_run, read=result.read, changed=result.changed,
             written=result.enqueued, failed=result.failed, seconds=round(time.perf_counter() - started, 3), **extra)
    return result


def first(items: Iterable[str], limit: int = 5) -> str:
    chosen = list(items)
    return ", ".join(chosen[:limit]) + (" …" if len(chosen) > limit else "")
