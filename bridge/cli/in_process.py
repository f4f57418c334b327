"""A job context for CLI commands that run a job's work in this process, wired as the daemon wires it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bridge import wiring
from bridge.config import Settings
from bridge.dispatch import Dispatcher
from bridge.domain.time import Clock
from bridge.store import Store
from bridge.sync import JobContext


@dataclass(frozen=True, slots=True)
class InProcess:
    context: JobContext
    dispatcher: Dispatcher  # delivers what the command enqueued (when ``has_sinks``)
    has_sinks: bool


@asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[InProcess]:
    """Open the store, wire the services and sinks, and close both again, also when wiring fails."""
    store = await Store.open(settings.state_path)
    try:
        wired = await wiring.build(settings, store)
    except BaseException:
        await store.close()
        raise
    try:
        clock = Clock()
        dispatcher = Dispatcher(store, wired.sinks, settings.dispatch, clock=clock)
        context = JobContext(settings=settings, store=store, clock=clock, wake_dispatcher=dispatcher.wake,
                             services=wired.services)
        yield InProcess(context, dispatcher, bool(wired.sinks))
    finally:
        await wired.aclose()
        await store.close()
