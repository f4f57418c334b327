"""Low-stock alerts: after each 在庫 file, SKUs whose stock + 発注残 fell to their reorder point raise an alert once
per crossing — log, metric ``bridge_stock_below_reorder`` (SKUs below now) and ``…_alerts_total``, the MQTT event
``stock_below_reorder``, and one staff mail listing them. A SKU that recovers above its point is re-armed."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import structlog

from bridge import metrics
from bridge.analytics.reports.stock import position, reorder_points
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


def evaluate(analytics: AnalyticsStore, day: date, options: dict[str, Any]) -> tuple[list[Crossing], int]:
    """Blocking. Returns (SKUs that crossed since the last check, SKUs below their point now), and records the
    set below now so the next check raises only new crossings."""
    with analytics.connect() as con:
        points = reorder_points(con, day, options)
        positions = position(con, day)
        names = dict(con.execute("SELECT product_code, name FROM products").fetchall())
        below: dict[str, tuple[Decimal, float, int]] = {}
        for code, reorder in points.items():
            on_hand, on_order = positions.get(code, (Decimal(0), Decimal(0)))
            available = Decimal(on_hand) + Decimal(on_order)
            if reorder.mean > 0 and float(available) <= reorder.reorder_point:
                below[code] = (available, reorder.reorder_point,
                               max(0, math.ceil(reorder.order_up_to - float(available))))
        known = {row[0] for row in con.execute("SELECT product_code FROM below_reorder").fetchall()}
        crossed = sorted(set(below) - known)
        con.execute("BEGIN")
        recovered = sorted(known - set(below))
        if recovered:
            con.executemany("DELETE FROM below_reorder WHERE product_code = ?", [[c] for c in recovered])
        if crossed:
            con.executemany("INSERT INTO below_reorder VALUES (?, ?, ?, ?)",
                            [[c, day, below[c][0], below[c][1]] for c in crossed])
        con.execute("COMMIT")
    return [Crossing(c, names.get(c, ""), below[c][0], below[c][1], below[c][2]) for c in crossed], len(below)


async def check(context: Any, analytics: AnalyticsStore, day: date) -> list[Crossing]:
    rules = rules_in_force(context.services, context.settings.rules_dir)
    if not rules.low_stock.enabled:
        return []
    crossed, below_now = await asyncio.to_thread(evaluate, analytics, day, rules.settings.options_for("stock"))
    metrics.STOCK_BELOW_REORDER.set(below_now)
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
    if rules.low_stock.mail and mail_settings is not None and mail_settings.smtp_host and mail_settings.staff:
        await _mail(mail_settings, crossed, day)
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
