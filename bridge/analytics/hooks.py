"""What the jobs call to feed the analytics store: one line at the job's side, the logic here.

Analytics never stops a job: a failure to feed is logged (and the next feed catches up, since orders are fed by
cursor from the state store); it never fails the run that called it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import structlog

from bridge.domain.time import business_date, utcnow

if TYPE_CHECKING:
    from bridge.analytics.store import AnalyticsStore
    from bridge.config import Settings
    from bridge.domain.time import Clock
    from bridge.store import Store
    from bridge.sync.services import Services

log = structlog.get_logger("bridge.analytics")


_STORES: dict[tuple[Any, ...], "AnalyticsStore"] = {}


def store_for(settings: Any) -> AnalyticsStore | None:
    """The analytics store of these settings (one object per file and limits, so its schema is checked once)."""
    section = getattr(settings, "analytics", None)
    if section is None or not section.enabled or section.path is None:
        return None
    key = (section.path, section.memory_limit, section.threads)
    found = _STORES.get(key)
    if found is None:
        # duckdb and pandas (the feed) are imported when analytics is on and fed, not by every job's import: they
        # are the largest part of a CLI command's start-up.
        from bridge.analytics.store import AnalyticsStore

        found = _STORES[key] = AnalyticsStore(section.path, memory_limit=section.memory_limit,
                                              threads=section.threads)
    return found


def warm_up(settings: Any) -> bool:
    """Import the feed (duckdb, pandas) and make the analytics store object ahead of the first copy: the daemon
    calls it at start-up, in a thread, so the first orders burst does not pay the imports (about a second of CPU)
    inside its event loop. Blocking; True when analytics is on."""
    if store_for(settings) is None:
        return False
    from bridge.analytics import feed  # noqa: F401 - the import is the point

    return True


async def _run(what: str, function: Any, *args: Any) -> Any:
    try:
        if isinstance(function, str):  # a function of the feed, imported on first use
            from bridge.analytics import feed

            function = getattr(feed, function)
        return await asyncio.to_thread(function, *args)
    except Exception as error:  # noqa: BLE001 - analytics must never fail the job that feeds it
        log.warning("analytics feed failed; the job is not affected", what=what, error=str(error))
        return None


async def orders_changed(context: Any) -> None:
    """After a job changed the orders mirror (orders, shipping): copy what changed."""
    analytics = store_for(context.settings)
    if analytics is not None:
        await _run("orders", "orders_from_state", context.store.path, analytics)


def _today(context: Any) -> date:
    clock = getattr(context, "clock", None)
    return business_date(clock.now() if clock is not None else utcnow())


async def stock_read(context: Any, levels: Sequence[Any]) -> bool:
    """After the stock job applied a 在庫 file: the day's stock (changes only), then the low-stock check. True when
    the analytics store took the file (False: off, or the feed failed)."""
    analytics = store_for(context.settings)
    if analytics is None:
        return False
    day = _today(context)
    fed = await _run("stock", "stock", analytics, levels, day) is not None
    await _low_stock(context, analytics, day)
    return fed


async def stock_changed(context: Any, changed: Sequence[Any], gone: Sequence[tuple[str, str]]) -> bool:
    """``stock_read`` with only what differs from the last file fed: its new or changed rows and the (商品コード,
    倉庫コード) it no longer has."""
    analytics = store_for(context.settings)
    if analytics is None:
        return False
    day = _today(context)
    from bridge.analytics.stock_delta import stock_delta

    fed = await _run("stock", stock_delta, analytics, changed, gone, day) is not None
    await _low_stock(context, analytics, day)
    return fed


async def _low_stock(context: Any, analytics: Any, day: date) -> None:
    from bridge.analytics import alerts

    try:
        await alerts.check(context, analytics, day)
    except Exception as error:  # noqa: BLE001 - see the module docstring
        log.warning("low-stock check failed; the job is not affected", error=str(error))


async def products_read(context: Any, products: Sequence[Any]) -> None:
    analytics = store_for(context.settings)
    if analytics is not None:
        await _run("products", "products", analytics, products, _today(context))


async def customers_read(context: Any, customers: Sequence[Any]) -> None:
    analytics = store_for(context.settings)
    if analytics is not None:
        await _run("customers", "customers", analytics, customers, _today(context))


@dataclass(frozen=True, slots=True)
class AnalyticsFeed:
    """The analytics side of a job, handed to the jobs that feed it (stock, products, customers, orders, shipping)
    by the job registry: the settings (analytics section, rules folder, mail), the state store the orders are copied
    from, the clock that dates the day's figures, and the services the low-stock check reads (reports rules, events).
    """

    settings: Settings
    store: Store
    clock: Clock
    services: Services

    async def orders_changed(self) -> None:
        await orders_changed(self)

    async def stock_read(self, levels: Sequence[Any]) -> bool:
        return await stock_read(self, levels)

    async def stock_changed(self, changed: Sequence[Any], gone: Sequence[tuple[str, str]]) -> bool:
        return await stock_changed(self, changed, gone)

    async def products_read(self, products: Sequence[Any]) -> None:
        await products_read(self, products)

    async def customers_read(self, customers: Sequence[Any]) -> None:
        await customers_read(self, customers)
