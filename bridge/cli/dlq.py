"""``bridge dlq``: list, show, replay and discard dead letters."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.table import Table

from bridge.cli.common import CliError, ConfigOption, console, run_async, settings_or_exit
from bridge.cli.stored import stored_text
from bridge.domain.time import Clock
from bridge.i18n import _, format_local

if TYPE_CHECKING:
    import aiosqlite

T = TypeVar("T")

app = typer.Typer(help=_("Dead letters: writes that failed for good and wait for an operator."), no_args_is_help=True)


async def _with_store(settings_path: Path, action: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
    from bridge.store import Store

    store = await Store.open(settings_path, must_exist=True)
    try:
        async with store.transaction() as tx:
            return await action(tx)
    finally:
        await store.close()


@app.command("list", help=_(
    "List every dead letter with its error."))
def list_(config: ConfigOption = None) -> None:
    from bridge.store import outbox as ob

    settings = settings_or_exit(config)
    dead = run_async(_with_store(settings.state_path, lambda tx: ob.dead_letters(tx, limit=100_000)))
    if not dead:
        console.print(_("No dead letters."))
        return
    table = Table()
    for column in (_("id"), _("target"), _("entity"), _("key"), _("attempts"), _("updated"), _("error")):
        table.add_column(column)
    for op in dead:
        table.add_row(str(op.id), op.target, op.entity, op.key, str(op.attempts), format_local(op.updated_at),
                      stored_text(op.last_error)[:80])
    console.print(table)


@app.command("show", help=_(
    "Show one dead letter whole: payload, error and what to do about it."))
def show(op_id: int, config: ConfigOption = None) -> None:
    from bridge.store import outbox as ob

    settings = settings_or_exit(config)
    op = run_async(_with_store(settings.state_path, lambda tx: ob.get(tx, op_id)))
    if op is None:
        raise CliError(_("no outbox op #{id}").format(id=op_id))
    console.print(_("#{id} {target} {op} {entity} {key} — state {state}, attempts {attempts}").format(
        id=op.id, target=op.target, op=op.op, entity=op.entity, key=op.key, state=op.state, attempts=op.attempts),
        markup=False)
    console.print(_("created {created}, updated {updated}").format(
        created=format_local(op.created_at, seconds=True), updated=format_local(op.updated_at, seconds=True)),
        markup=False)
    console.print(_("error: {message}").format(message=stored_text(op.last_error) or "-"), markup=False)
    console.print(_("hint: {hint}").format(hint=stored_text(op.hint) or "-"), markup=False)
    if op.resolution:
        console.print(_("resolution: {resolution}").format(resolution=stored_text(op.resolution)), markup=False)
    console.print(_("payload:"))
    console.print_json(json.dumps(op.payload, ensure_ascii=False))


@app.command("replay", help=_(
    "Put dead letters back in the queue with a fresh attempt budget."))
def replay(
    op_ids: Annotated[list[int] | None, typer.Argument(help=_("Dead letter ids"))] = None,
    all_: bool = typer.Option(False, "--all", help=_("Replay every dead letter.")),
    config: ConfigOption = None,
) -> None:
    from bridge.store import audit
    from bridge.store import outbox as ob

    if not op_ids and not all_:
        raise CliError(_("name dead letter ids, or use --all"), exit_code=2)
    settings = settings_or_exit(config)
    now = Clock().time()

    async def action(tx):  # type: ignore[no-untyped-def]
        done = await ob.replay(tx, None if all_ else op_ids, now)
        await audit.write(tx, "cli", "dlq.replay", ",".join(map(str, done)))
        return done

    done = run_async(_with_store(settings.state_path, action))
    missing = sorted(set(op_ids or []) - set(done))
    console.print(_("Replayed {count} dead letter(s): {ids}").format(count=len(done), ids=", ".join(map(str, done)) or "-"))
    if missing:
        raise CliError(_("not dead letters (unknown or already handled): {ids}").format(
            ids=", ".join(map(str, missing))))


@app.command("discard", help=_(
    "Give up on dead letters. A job that still wants the value will enqueue it again on its next "
    "run."))
def discard(op_ids: Annotated[list[int], typer.Argument(help=_("Dead letter ids"))], config: ConfigOption = None) -> None:
    from bridge.store import audit
    from bridge.store import outbox as ob

    settings = settings_or_exit(config)

    async def action(tx):  # type: ignore[no-untyped-def]
        done = await ob.discard(tx, op_ids)
        await audit.write(tx, "cli", "dlq.discard", ",".join(map(str, done)))
        return done

    done = run_async(_with_store(settings.state_path, action))
    console.print(_("Discarded {count} dead letter(s): {ids}").format(count=len(done), ids=", ".join(map(str, done)) or "-"))
    missing = sorted(set(op_ids) - set(done))
    if missing:
        raise CliError(_("not dead letters (unknown or already handled): {ids}").format(
            ids=", ".join(map(str, missing))))
