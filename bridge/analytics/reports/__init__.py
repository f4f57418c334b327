"""The report catalogue: ``bridge report list`` prints it, ``bridge report KIND`` and the packs run from it.

``REPORTS`` (``catalogue.py``) is loaded on first use: importing one report's module (``reports.stock``, which the
stock job's low-stock check uses) runs this package first, and should not load every report with it (the forecast
loads numpy, the campaigns report a part of the campaigns job).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.analytics.reports.base import Params, Report, ReportSpec

if TYPE_CHECKING:
    REPORTS: dict[str, ReportSpec]


def __getattr__(name: str) -> object:
    if name == "REPORTS":
        from bridge.analytics.reports.catalogue import REPORTS

        return REPORTS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class UnknownReport(ValueError):
    pass


def run(kind: str, con: object, params: Params) -> Report:
    from bridge.analytics.reports.catalogue import REPORTS

    spec = REPORTS.get(kind)
    if spec is None:
        raise UnknownReport(f"unknown report {kind!r}; known: {', '.join(REPORTS)} (bridge report list)")
    if params.by and spec.by and params.by not in spec.by:
        raise ValueError(f"report {kind}: --by {params.by!r} is not one of {', '.join(spec.by)}")
    if params.by and not spec.by:
        raise ValueError(f"report {kind} has no --by")
    return spec.function(con, params)


__all__ = ["REPORTS", "Params", "Report", "UnknownReport", "run"]
