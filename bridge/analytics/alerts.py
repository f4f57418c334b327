"""Low-stock alerts: after each 在庫 file, SKUs whose stock + 発注残 fell to their reorder point raise an alert once
per crossing — log, metric ``bridge_stock_below_reorder`` (SKUs below now) and ``…_alerts_total``, the MQTT event
``stock_below_reorder``, and one staff mail listing them. A SKU that recovers above its point is re-armed.

The check follows what changed: it looks only at the SKUs whose stock figures changed since it last ran (every stock
feed lists them in ``stock_unchecked``, in its own transaction) and those whose demand sums, hence reorder point,
differ from the ones it last used (``reorder_checked``); every other SKU is where it was. Without that state, on
another day or with other options it checks every SKU. Either way the alerts are those of a check of every SKU
(tested).
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import structlog

from bridge import metrics
from bridge.analytics.reports.stock import DEFAULTS, DEMAND_SUMS_SQL, demand_window, position, reorder_of
from bridge.analytics.rules import rules_in_force
from bridge.analytics.store import AnalyticsStore
from bridge.i18n import _

log = structlog.get_logger("bridge.analytics.alerts")


@dataclass(frozen=True, slots=True)
class Crossing:
    product_code: str
    name: str
    available: Decimal  # stock + 発注残
    reorder_point: float
    suggested_order: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    crossed: list[Crossing]  # SKUs that crossed since the last check
    below_now: int  # SKUs below their point now
    checked: int  # SKUs looked at (every SKU on a full check)
    full: bool
    day: date


def _state_key(options: dict[str, Any]) -> str:
    return json.dumps({**DEFAULTS, **options}, sort_keys=True, default=str)


def evaluate(analytics: AnalyticsStore, day: date, options: dict[str, Any]) -> tuple[list[Crossing], int]:
    """Blocking. Returns (SKUs that crossed since the last check, SKUs below their point now), and records the
    set below now so the next check raises only new crossings."""
    found = check_now(analytics, day, options)
    return found.crossed, found.below_now


def check_now(analytics: AnalyticsStore, day: date, options: dict[str, Any], *, full: bool = False) -> Evaluation:
    """Blocking: ``evaluate``, looking only at what changed since the last check unless ``full`` (or the state
    of the last check is missing, of another day or other options)."""
    key = _state_key(options)
    with analytics.connect() as con:
        con.execute("BEGIN")
        try:
            state = dict(con.execute("SELECT name, value FROM low_stock_state").fetchall())
            full = full or state.get("day") != day.isoformat() or state.get("options") != key
            con.execute(f"CREATE OR REPLACE TEMP TABLE _demand AS {DEMAND_SUMS_SQL}", demand_window(day, options))
            if full:
                con.execute("DELETE FROM reorder_checked")
                con.execute("INSERT INTO reorder_checked SELECT * FROM _demand")
                among = None  # every SKU
            else:
                con.execute("""
                    CREATE OR REPLACE TEMP TABLE _candidates AS
                    SELECT product_code FROM stock_unchecked
                    UNION
                    SELECT coalesce(d.product_code, r.product_code) FROM _demand d
                    FULL JOIN reorder_checked r ON r.product_code = d.product_code
                    WHERE d.total IS DISTINCT FROM r.total OR d.squares IS DISTINCT FROM r.squares""")
                con.execute("DELETE FROM reorder_checked WHERE product_code IN (SELECT product_code FROM _candidates)")
                con.execute("INSERT INTO reorder_checked SELECT * FROM _demand "
                            "WHERE product_code IN (SELECT product_code FROM _candidates)")
                among = "_candidates"
            only = "WHERE product_code IN (SELECT product_code FROM _candidates)" if among else ""
            points = {code: reorder_of(total, squares, options) for code, total, squares in con.execute(
                f"SELECT product_code, total, squares FROM reorder_checked {only}").fetchall()}
            # only the SKUs with a reorder point can be below it: a full check reads the positions of those
            # (reorder_checked), not of every SKU in the file, and counts the SKUs it covers in SQL
            positions = position(con, day, among or "reorder_checked")
            checked = con.execute(
                "SELECT count(*) FROM (SELECT product_code FROM stock_changes WHERE day <= ? "
                "UNION SELECT product_code FROM reorder_checked)", [day]).fetchall()[0][0] if among is None else \
                con.execute("SELECT count(*) FROM _candidates").fetchall()[0][0]
            below: dict[str, tuple[Decimal, float, int]] = {}
            for code, reorder in points.items():
                on_hand, on_order = positions.get(code, (Decimal(0), Decimal(0)))
                available = Decimal(on_hand) + Decimal(on_order)
                if reorder.mean > 0 and float(available) <= reorder.reorder_point:
                    below[code] = (available, reorder.reorder_point,
                                   max(0, math.ceil(reorder.order_up_to - float(available))))
            known = {row[0] for row in con.execute(f"SELECT product_code FROM below_reorder {only}").fetchall()}
            crossed = sorted(set(below) - known)
            recovered = sorted(known - set(below))
            if recovered:
                con.execute("DELETE FROM below_reorder WHERE product_code IN (SELECT unnest(?))", [recovered])
            if crossed:
                con.execute("INSERT INTO below_reorder SELECT unnest($1), $2, unnest($3), unnest($4)",
                            [crossed, day, [str(below[c][0]) for c in crossed], [below[c][1] for c in crossed]])
            below_now = con.execute("SELECT count(*) FROM below_reorder").fetchall()[0][0]
            names = dict(con.execute("SELECT product_code, name FROM products WHERE product_code IN "
                                     "(SELECT unnest(?))", [crossed]).fetchall()) if crossed else {}
            con.execute("DELETE FROM stock_unchecked")
            con.execute("INSERT OR REPLACE INTO low_stock_state VALUES ('day', ?), ('options', ?)",
                        [day.isoformat(), key])
            con.execute("DROP TABLE IF EXISTS _candidates")
            con.execute("DROP TABLE _demand")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return Evaluation([Crossing(c, names.get(c, ""), below[c][0], below[c][1], below[c][2]) for c in crossed],
                      int(below_now), int(checked), full, day)


@dataclass(frozen=True, slots=True)
class LowStock:
    """The low-stock rules in force for one check (None from ``rules_for`` when the check is off)."""

    options: dict[str, Any]
    mail: bool


def rules_for(context: Any) -> LowStock | None:
    rules = rules_in_force(context.services, context.settings.rules_dir)
    if not rules.low_stock.enabled:
        return None
    return LowStock(rules.settings.options_for("stock"), bool(rules.low_stock.mail))


async def check(context: Any, analytics: AnalyticsStore, day: date) -> list[Crossing]:
    low_stock = rules_for(context)
    if low_stock is None:
        return []
    found = await asyncio.to_thread(check_now, analytics, day, low_stock.options)
    return await announce(context, low_stock, found)


async def announce(context: Any, low_stock: LowStock, found: Evaluation) -> list[Crossing]:
    """The metric, the log lines, the events and the staff mail of one check."""
    crossed = found.crossed
    metrics.STOCK_BELOW_REORDER.set(found.below_now)
    if not crossed:
        return crossed
    metrics.STOCK_REORDER_ALERTS.inc(len(crossed))
    for item in crossed:
        log.warning("stock.below_reorder", product_code=item.product_code, available=str(item.available),
                    reorder_point=round(item.reorder_point, 2), suggested_order=item.suggested_order)
    for item in crossed:
        await context.services.events.publish("stock_below_reorder", {
            "product_code": item.product_code, "available": float(item.available),
            "reorder_point": round(item.reorder_point, 2), "suggested_order": item.suggested_order})
    mail_settings = getattr(context.settings, "mail", None)
    if low_stock.mail and mail_settings is not None and mail_settings.smtp_host and mail_settings.staff:
        await _mail(mail_settings, crossed, found.day)
    return crossed


async def _mail(mail_settings: Any, crossed: list[Crossing], day: date) -> None:
    from bridge.analytics import mail

    lines: list[str] = [_("{count} SKU(s) at or below their reorder point ({day}):").format(
        count=len(crossed), day=f"{day:%Y-%m-%d}"), ""]
    lines += [_("{code} {name}: 在庫+発注残 {available}, 発注点 {reorder_point}, 推奨発注数 {suggested}").format(
        code=c.product_code, name=c.name, available=f"{c.available:f}", reorder_point=f"{c.reorder_point:.1f}",
        suggested=c.suggested_order) for c in crossed[:200]]
    if len(crossed) > 200:
        lines.append(_("… and {count} more (bridge report stock)").format(count=len(crossed) - 200))
    try:
        await mail.send(mail_settings, mail.message(mail_settings.sender, list(mail_settings.staff),
                                                    _("[stock] {count} below reorder point").format(
                                                        count=len(crossed)), "\n".join(lines)))
    except Exception as error:  # noqa: BLE001 - the alert is already logged, counted and published
        log.warning("low-stock mail not sent", error=str(error))
