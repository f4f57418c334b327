"""The report kinds and the ``by`` choices of each, without the reports' code: what validating ``rules/reports.yaml``
needs (every command loads the rules; importing the reports themselves cost half a second of start-up). The
catalogue in ``bridge.analytics.reports`` is tested to match."""

from __future__ import annotations

KINDS: dict[str, tuple[str, ...]] = {
    "sales": ("product", "category", "customer", "customer_group", "prefecture", "region", "day", "week", "month",
              "payment", "direct_ship"),
    "stock": (),
    "customers": (),
    "delivery": (),
    "campaigns": (),
    "forecast": (),
}
