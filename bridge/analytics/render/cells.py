"""How a typed cell reads as text (HTML, mail) — one place, so every format shows the same figure."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any

from bridge.analytics.reports.base import Column


def text(value: Any, column: Column) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, bool):
        return "○" if value else "×"
    kind = column.kind
    if kind == "yen":
        return f"¥{float(value):,.0f}"
    if kind == "pct":
        return f"{float(value) * 100:.1f}%"
    if kind in ("int",):
        return f"{int(value):,}"
    if kind in ("qty", "float", "days"):
        number = float(value)
        return f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def plain(value: Any) -> Any:
    """A value as a spreadsheet or CSV wants it: Decimal → float (int when whole), the rest unchanged."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
