"""``bridge status``: jobs, outbox depth, dead letters — read from the state file, daemon running or not."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypedDict

import typer
from rich.table import Table

from bridge.cli.common import ConfigOption, console, run_async, settings_or_exit

if TYPE_CHECKING:
    from bridge.store import outbox as ob


class _Status(TypedDict):
    jobs: dict[str, dict[str, Any]]  # job_state rows by job name
    outbox: dict[str, int]
    dead: list[ob.OutboxOp]


def status(
    config: ConfigOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Show each job's last success and failure and next run, the outbox by state, and the dead letters."""
    settings = settings_or_exit(config)

    async def collect() -> _Status:
        from bridge.store import Store
        from bridge.store import outbox as ob

        store = await Store.open(settings.state_path, must_exist=True)
        try:
            async with store.transaction() as tx:
                depth = await ob.depth_by_state(tx)
                dead = await ob.dead_letters(tx, limit=20)
                cursor = await tx.execute("SELECT * FROM job_state ORDER BY job")
                jobs = {row["job"]: dict(row) for row in await cursor.fetchall()}
        finally:
            await store.close()
        return _Status(jobs=jobs, outbox=depth, dead=dead)

    data = run_async(collect())
    enabled = dict(settings.jobs.items())
    if as_json:
        console.print_json(json.dumps({
            "jobs": data["jobs"], "outbox": data["outbox"],
            "dead_letters": [{"id": d.id, "target": d.target, "key": d.key, "error": d.last_error} for d in data["dead"]],
        }))
        return
    table = Table(title="Jobs", title_justify="left")
    for column in ("job", "enabled", "last success", "last failure", "next run", "runs", "failures", "last error"):
        table.add_column(column)
    from bridge.sync import registered_jobs

    for name in sorted(set(registered_jobs()) | set(data["jobs"])):
        row = data["jobs"].get(name, {})
        cfg = enabled.get(name)
        table.add_row(
            name, "yes" if cfg and cfg.enabled else "no", row.get("last_success_at") or "-",
            row.get("last_failure_at") or "-", row.get("next_run_at") or "-", str(row.get("runs", 0)),
            str(row.get("failures", 0)), (row.get("last_error") or "")[:60],
        )
    if not table.row_count:
        console.print("No jobs registered yet.")
    else:
        console.print(table)
    outbox = data["outbox"]
    console.print(
        f"Outbox: pending {outbox['pending']}, in flight {outbox['in_flight']}, done {outbox['done']}, "
        f"dead {outbox['dead']}"
    )
    if data["dead"]:
        console.print(f"Dead letters ({outbox['dead']}); see `bridge dlq list`:")
        for op in data["dead"]:
            console.print(f"  #{op.id} {op.target} {op.entity} {op.key}: {op.last_error}", markup=False)
