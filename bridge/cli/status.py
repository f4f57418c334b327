"""``bridge status``: jobs, outbox depth, dead letters — read from the state file, daemon running or not."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

import typer
from rich.cells import cell_len, set_cell_size
from rich.table import Table

from bridge.cli.common import ConfigOption, console, run_async, settings_or_exit
from bridge.domain.time import utcnow
from bridge.i18n import _, format_local, N_

if TYPE_CHECKING:
    from bridge.config import JobSettings
    from bridge.store import outbox as ob


HELP = N_("Show each job's last success and failure and next run, the outbox by state, and the dead letters. Times "
         "are in the shop's time zone (ui.timezone); --json keeps ISO 8601 with offset.")

class _Status(TypedDict):
    jobs: dict[str, dict[str, Any]]  # job_state rows by job name
    outbox: dict[str, int]
    dead: list[ob.OutboxOp]


def status(
    config: ConfigOption = None,
    as_json: bool = typer.Option(
        False, "--json", help=_("Print machine-readable JSON (times in ISO 8601 with offset).")),
) -> None:
    """Show each job's last success and failure and next run, the outbox by state, and the dead letters.

    Times are in the shop's time zone (ui.timezone); --json keeps ISO 8601 with offset."""
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
    if as_json:  # machine output: ISO 8601 with offset, English keys
        console.print_json(json.dumps({
            "jobs": data["jobs"], "outbox": data["outbox"],
            "dead_letters": [{"id": d.id, "target": d.target, "key": d.key, "error": d.last_error} for d in data["dead"]],
        }))
        return
    for line in render(data, enabled, console.width):
        console.print(line, highlight=False, markup=False, soft_wrap=isinstance(line, str))


Cell = Callable[[str, dict[str, Any], "JobSettings | None"], str]


def render(data: _Status, enabled: dict[str, JobSettings], width: int) -> list[Table | str]:
    """The human view, fitted to ``width`` columns: fewer columns on a narrow terminal, never a wrapped row."""
    zone = format_local(utcnow()).rsplit(" ", 1)[-1]
    columns: list[tuple[str, Cell]] = [
        (N_("job"), lambda name, row, cfg: name),
        (N_("on"), lambda name, row, cfg: _("yes") if cfg and cfg.enabled else _("no")),
        (N_("last success"), lambda name, row, cfg: _short_time(row.get("last_success_at"))),
        (N_("next run"), lambda name, row, cfg: _short_time(row.get("next_run_at"))),
        (N_("failures"), lambda name, row, cfg: str(row.get("failures", 0))),
    ]
    if width >= 100:
        columns.insert(3, (N_("last failure"), lambda name, row, cfg: _short_time(row.get("last_failure_at"))))
        columns.insert(5, (N_("runs"), lambda name, row, cfg: str(row.get("runs", 0))))
    if width >= 120:
        columns.append((N_("last error"), lambda name, row, cfg: stored_text(row.get("last_error")).splitlines()[0]
                        if row.get("last_error") else ""))
    from bridge.cli.stored import stored_text
    from bridge.sync import registered_jobs

    table = Table(title=_("Jobs (times in {zone})").format(zone=zone), title_justify="left")
    names = sorted(set(registered_jobs()) | set(data["jobs"]))
    rows: list[list[str]]
    rows = [[cell(name, data["jobs"].get(name, {}), enabled.get(name)) for _header, cell in columns] for name in names]
    headers: list[str] = [_(header) for header, _cell in columns]
    if width >= 120 and rows:  # the error gets what the other columns leave: rows never wrap
        used = sum(max(cell_len(r[i]) for r in [headers, *rows]) + 3 for i in range(len(columns) - 1)) + 4
        room = max(width - used, 10)
        for row in rows:
            if cell_len(row[-1]) > room:
                row[-1] = set_cell_size(row[-1], room - 1) + "…"
    for header in headers:
        table.add_column(header, no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*row)
    out: list[Table | str] = []
    if not table.row_count:
        out.append(_("No jobs registered yet."))
    else:
        out.append(table)
    outbox = data["outbox"]
    out.append(_("Outbox: pending {pending}, in flight {in_flight}, done {done}, dead {dead}").format(**outbox))
    if data["dead"]:
        out.append(_("Dead letters ({count}); see `bridge dlq list`:").format(count=outbox["dead"]))
        for op in data["dead"]:
            text = f"  #{op.id} {op.target} {op.entity} {op.key}: {stored_text(op.last_error)}"
            out.append(text if len(text) <= width else text[: max(width - 1, 20)] + "…")
    return out


def _short_time(value: str | None) -> str:
    """``12-04 01:19`` in the shop's zone (the table title names the zone); ``-`` for never."""
    if not value:
        return "-"
    return format_local(value)[5:].rsplit(" ", 1)[0]
