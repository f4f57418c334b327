"""One orders cycle in its own process, for the crash test: run the orders job against the simulator, then deliver
the CS-Cart status writes. ``KILL_AT`` makes the process SIGKILL itself at a named point of the export:

* ``before_file``: the batch and the orders' move to 出荷指示 are committed, the 受注 file does not exist yet;
* ``after_file``: the 受注 file is renamed into place, the batch is not marked written, no status write queued;
* ``after_enqueue``: the status writes are queued, none delivered;
* ``none``: run to the end.

Usage: python orders_worker.py CONFIG_FILE KILL_AT. Prints "started" when the job begins.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from bridge import wiring
from bridge.config import load_settings
from bridge.dispatch import Dispatcher
from bridge.domain.time import Clock
from bridge.store import Store
from bridge.sync import JobContext, RunOptions
from bridge.sync.orders import export
from bridge.sync.registry import orders_job


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(kill_at: str) -> Any:
    """Install the kill point; returns the wake-up callback for the job context."""
    finish_file = export.finish_file

    def before(directory: Path, batch: Any) -> str:
        die()
        return ""

    def after(directory: Path, batch: Any) -> str:
        done = finish_file(directory, batch)
        die()
        return done

    if kill_at == "before_file":
        export.finish_file = before
    elif kill_at == "after_file":
        export.finish_file = after
    return die if kill_at == "after_enqueue" else (lambda: None)


async def main(config: Path, kill_at: str) -> None:
    settings = load_settings(config)
    store = await Store.open(settings.state_path)
    wired = await wiring.build(settings, store)
    dispatcher = Dispatcher(store, wired.sinks, settings.dispatch, clock=Clock())
    await dispatcher.release_abandoned()
    context = JobContext(settings=settings, store=store, clock=Clock(), wake_dispatcher=arm(kill_at),
                         services=wired.services)
    print("started", flush=True)
    result = await orders_job(context).run(RunOptions())
    await dispatcher.drain_all()
    await wired.aclose()
    await store.close()
    print(f"done {result.summary()}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
