"""``bridge dlq``: list, show, replay and discard dead letters."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.table import Table

from bridge.cli.common import CliError, ConfigOption, console, run_async, settings_or_exit
from bridge.domain.time import Clock

if TYPE_CHECKING:
    import aiosqlite

T = TypeVar("T")

app = typer.Typer(help="Dead letters: writes that failed for good and wait for an operator.", no_args_is_help=True)


async def _with_store(settings_path: Path, action: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
    from bridge.store import Store

    store = await Store.open(settings_path, must_exist=True)
    try:
        async with store.transaction() as tx:
            return await action(tx)
    finally:
        await store.close()


@app.command("list")
def list_(config: ConfigOption = None) -> None:
    """List every dead letter with its error."""
    from bridge.store import outbox as ob

    settings = settings_or_exit(config)
    dead = run_async(_with_store(settings.state_path, lambda tx: ob.dead_letters(tx, limit=100_000)))
    if not dead:
        console.print("No dead letters.")
        return
    table = Table()
    for column in ("id", "target", "entity", "key", "attempts", "updated", "error"):
        table.add_column(column)
    for op in dead:
        table.add_row(str(op.id), op.target, op.entity, op.key, str(op.attempts), op.updated_at,
                      (op.last_error or "")[:80])
    console.print(table)


@app.command("show")
def show(op_id: int, config: ConfigOption = None) -> None:
    """Show one dead letter whole: payload, error and what to do about it."""
    from bridge.store import outbox as ob

    settings = settings_or_exit(config)
    op = run_async(_with_store(settings.state_path, lambda tx: ob.get(tx, op_id)))
    if op is None:
        raise CliError(f"no outbox op #{op_id}")
    console.print(f"#{op.id} {op.target} {op.op} {op.entity} {op.key} — state {op.state}, attempts {op.attempts}",
                  markup=False)
    console.print(f"created {op.created_at}, updated {op.updated_at}", markup=False)
    console.print(f"error: {op.last_error or '-'}", markup=False)
    console.print(f"hint:  {op.hint or '-'}", markup=False)
    if op.resolution:
        console.print(f"resolution: {op.resolution}", markup=False)
    console.print("payload:")
    console.print_json(json.dumps(op.payload, ensure_ascii=False))


@app.command("replay")
def replay(
    op_ids: Annotated[list[int] | None, typer.Argument(help="Dead letter ids")] = None,
    all_: bool = typer.Option(False, "--all", help="Replay every dead letter."),
    config: ConfigOption = None,
) -> None:
    """Put dead letters back in the queue with a fresh attempt budget."""
    from bridge.store import audit
    from bridge.store import outbox as ob

    if not op_ids and not all_:
        raise CliError("name dead letter ids, or use --all")
    settings = settings_or_exit(config)
    now = Clock().time()

    async def action(tx):  # type: ignore[no-untyped-def]
        done = await ob.replay(tx, None if all_ else op_ids, now)
        await audit.write(tx, "cli", "dlq.replay", ",".join(map(str, done)))
        return done

    done = run_async(_with_store(settings.state_path, action))
    missing = sorted(set(op_ids or []) - set(done))
    console.print(f"Replayed {len(done)} dead letter(s): {', '.join(map(str, done)) or '-'}")
    if missing:
        raise CliError(f"not dead letters (unknown or already handled): {', '.join(map(str, missing))}")


@app.command("discard")
def discard(op_ids: Annotated[list[int], typer.Argument(help="Dead letter ids")], config: ConfigOption = None) -> None:
    """Give up on dead letters. A job that still wants the value will enqueue it again on its next run."""
    from bridge.store import audit
    from bridge.store import outbox as ob

    settings = settings_or_exit(config)

    async def action(tx):  # type: ignore[no-untyped-def]
        done = await ob.discard(tx, op_ids)
        await audit.write(tx, "cli", "dlq.discard", ",".join(map(str, done)))
        return done

    done = run_async(_with_store(settings.state_path, action))
    console.print(f"Discarded {len(done)} dead letter(s): {', '.join(map(str, done)) or '-'}")
    missing = sorted(set(op_ids) - set(done))
    if missing:
        raise CliError(f"not dead letters (unknown or already handled): {', '.join(map(str, missing))}")
