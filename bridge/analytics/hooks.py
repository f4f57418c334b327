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


async def stock_read(context: Any, levels: Sequence[Any], *, mark: str | None = None) -> bool:
    """After the stock job applied a 在庫 file: the day's stock (changes only), then the low-stock check. True when
    the analytics store took the file (False: off, or the feed failed). ``mark``: the snapshot's, for a later
    ``stock_changed`` against it."""
    analytics = store_for(context.settings)
    if analytics is None:
        return False

    def whole(day: date) -> None:
        # feed.stock without importing pandas (the feed module's other parts need it; this one does not)
        from bridge.analytics.stock_delta import stock_snapshot

        stock_snapshot(analytics, levels, day, mark=mark)

    return await _stock(context, analytics, whole)


async def stock_changed(context: Any, changed: Sequence[Any], gone: Sequence[tuple[str, str]], *,
                        whole: Sequence[Any] | None = None, expect: str | None = None,
                        mark: str | None = None) -> bool:
    """``stock_read`` with only what differs from the last file fed: its new or changed rows and the (商品コード,
    倉庫コード) it no longer has. ``expect``: the mark of the snapshot the difference was taken against; when the
    store holds another (fed by another process in between), the ``whole`` snapshot is fed instead (none given:
    nothing is, and False tells the job to feed the whole next time)."""
    analytics = store_for(context.settings)
    if analytics is None:
        return False
    from bridge.analytics.stock_delta import StockDrift, stock_delta, stock_snapshot

    def difference(day: date) -> None:
        try:
            stock_delta(analytics, changed, gone, day, expect=expect, mark=mark)
        except StockDrift as drift:
            if whole is None:
                raise
            log.info("analytics stock snapshot drifted; feeding the whole file", reason=str(drift))
            stock_snapshot(analytics, whole, day, mark=mark)

    return await _stock(context, analytics, difference)


async def _stock(context: Any, analytics: Any, feeder: Any) -> bool:
    """The stock feed (``feeder(day)``), then the low-stock check of the SKUs it changed, on one connection in one
    worker thread; the check's alerts go out after. A failure of either is logged and affects neither the job nor
    the other."""
    from bridge.analytics import alerts

    day = _today(context)
    try:
        low_stock = alerts.rules_for(context)
    except Exception as error:  # noqa: BLE001 - see the module docstring
        log.warning("low-stock check failed; the job is not affected", error=str(error))
        low_stock = None

    def feed_then_check() -> tuple[bool, alerts.Evaluation | None]:
        fed, found = False, None
        with analytics.connect():  # the feed's and the check's connection
            try:
                feeder(day)
                fed = True
            except Exception as error:  # noqa: BLE001 - analytics must never fail the job that feeds it
                log.warning("analytics feed failed; the job is not affected", what="stock", error=str(error))
                _roll_back(analytics)
            if low_stock is not None:
                try:
                    found = alerts.check_now(analytics, day, low_stock.options)
                except Exception as error:  # noqa: BLE001 - see the module docstring
                    log.warning("low-stock check failed; the job is not affected", error=str(error))
        return fed, found

    try:
        fed, found = await asyncio.to_thread(feed_then_check)
    except Exception as error:  # noqa: BLE001 - the store could not be opened: neither ran
        log.warning("analytics feed failed; the job is not affected", what="stock", error=str(error))
        return False
    if low_stock is not None and found is not None:
        try:
            await alerts.announce(context, low_stock, found)
        except Exception as error:  # noqa: BLE001 - see the module docstring
            log.warning("low-stock check failed; the job is not affected", error=str(error))
    return fed


def _roll_back(analytics: Any) -> None:
    """End a transaction a failed step left open on the shared connection (none open: nothing to do)."""
    try:
        with analytics.connect() as con:
            con.execute("ROLLBACK")
    except Exception:  # noqa: BLE001, S110 - no transaction was open
        pass


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

    async def stock_read(self, levels: Sequence[Any], *, mark: str | None = None) -> bool:
        return await stock_read(self, levels, mark=mark)

    async def stock_changed(self, changed: Sequence[Any], gone: Sequence[tuple[str, str]], *,
                            whole: Sequence[Any] | None = None, expect: str | None = None,
                            mark: str | None = None) -> bool:
        return await stock_changed(self, changed, gone, whole=whole, expect=expect, mark=mark)

    async def products_read(self, products: Sequence[Any]) -> None:
        await products_read(self, products)

    async def customers_read(self, customers: Sequence[Any]) -> None:
        await customers_read(self, customers)
