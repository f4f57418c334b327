"""What every report returns: tables with typed columns, charts, and a one-line Japanese summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from bridge.analytics.periods import Period

Kind = Literal["text", "int", "yen", "qty", "pct", "days", "date", "float"]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str  # Japanese / English, shown to people
    kind: Kind = "text"


@dataclass(slots=True)
class Table:
    name: str  # sheet / file name
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def dicts(self) -> list[dict[str, Any]]:
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]

    def column(self, key: str) -> list[Any]:
        index = [c.key for c in self.columns].index(key)
        return [row[index] for row in self.rows]


@dataclass(slots=True)
class Chart:
    title: str
    kind: Literal["bar", "line"]
    labels: list[str]
    series: dict[str, list[float]]


@dataclass(slots=True)
class Report:
    kind: str
    title: str
    period: Period
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    summary: str = ""

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"report {self.kind} has no table {name!r}: {[t.name for t in self.tables]}")


@dataclass(frozen=True, slots=True)
class Params:
    period: Period
    by: str = ""
    top: int | None = None
    bottom: int | None = None
    options: dict[str, Any] = field(default_factory=dict)  # rules/reports.yaml settings of the report
    today: date | None = None


ReportFunction = Callable[[Any, Params], Report]


@dataclass(frozen=True, slots=True)
class ReportSpec:
    kind: str
    title: str
    function: ReportFunction
    by: tuple[str, ...] = ()
    default_by: str = ""


def number(value: Any) -> float:
    return float(value) if value is not None else 0.0
