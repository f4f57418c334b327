"""Render the Grafana dashboards for a site: panel titles in the operator's language, the data source asked for
on import.

    python -m bridge.dashboards [--language ja|en] [--input ops/grafana/dashboard.json] [--output FILE]
    python -m bridge.dashboards --input ops/grafana/business.json --output ops/grafana/business.json

Two dashboards: ``dashboard.json`` for operations (jobs, outbox, CS-Cart API, SMILE files) and ``business.json`` for
sales and management (orders and sales today, 直送 share, held orders, shipments, low stock, campaigns), told apart by
their uid; each has its own title table.

Titles are looked up by panel id in ``TITLES`` (English, marked for the message catalogue). On import Grafana asks
for the Prometheus data source (``__inputs`` ``DS_PROMETHEUS``); the panels use the ``$datasource`` variable, whose
default is that input. The shipped ``ops/grafana/dashboard.json`` is the Japanese rendering; a test keeps it in step.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bridge import i18n
from bridge.i18n import N_, _
from bridge.opsfile import render_main

TITLES: dict[int, str] = {
    1: N_("Jobs"),
    28: N_("Jobs: every configured job"),
    2: N_("Freshness: seconds since last success"),
    3: N_("Freshness as a share of 2× interval"),
    4: N_("Job runs by outcome"),
    5: N_("Job duration (p95)"),
    6: N_("Records changed and written"),
    7: N_("Outside systems"),
    8: N_("CS-Cart API latency by endpoint (p95)"),
    9: N_("CS-Cart API errors by endpoint"),
    10: N_("CS-Cart credentials"),
    11: N_("MQTT broker"),
    12: N_("MQTT events published and dropped"),
    13: N_("Outbox"),
    14: N_("Outbox by state"),
    15: N_("Dead letters"),
    16: N_("Deliveries by target and outcome"),
    17: N_("Orders and shipping"),
    18: N_("Orders by workflow state"),
    19: N_("Orders not confirmed by SMILE"),
    20: N_("Shipments delayed"),
    21: N_("SMILE files"),
    22: N_("SMILE files processed and quarantined"),
    23: N_("Stock mass-change guard"),
    24: N_("Daemon"),
    25: N_("Uptime"),
    26: N_("Version"),
    27: N_("Rules in force"),
    29: N_("SKUs below reorder point"),
}
# The business dashboard (ops/grafana/business.json: sales and management), by panel id.
BUSINESS_UID = "cscart-smile-bridge-business"
BUSINESS_TITLES: dict[int, str] = {
    1: N_("Orders and sales today"),
    2: N_("Orders today"),
    3: N_("Sales today"),
    4: N_("直送 share today"),
    5: N_("Orders in the last hour"),
    6: N_("Orders per hour"),
    7: N_("Orders per day"),
    8: N_("Sales per day"),
    9: N_("Held orders and shipping"),
    10: N_("Held orders by reason"),
    11: N_("Shipped today"),
    12: N_("Shipments delayed"),
    13: N_("Orders by workflow state"),
    14: N_("Stock and campaigns"),
    15: N_("SKUs below reorder point"),
    16: N_("Campaigns running"),
    17: N_("Campaign usage (orders)"),
    18: N_("Campaign events"),
}
VARIABLE_LABELS: dict[str, str] = {"datasource": N_("Data source"), "instance": N_("Bridge"), "sync_job": N_("Job")}

DATASOURCE_INPUT = {
    "name": "DS_PROMETHEUS", "label": "Prometheus", "description": "", "type": "datasource",
    "pluginId": "prometheus", "pluginName": "Prometheus",
}


class MissingTitles(ValueError):
    """A panel has no entry in ``TITLES``."""


def render(dashboard: dict[str, Any], language: str = "ja") -> dict[str, Any]:
    previous = i18n.get_language()
    i18n.set_language(language)
    try:
        business = dashboard.get("uid") == BUSINESS_UID
        titles, table = (BUSINESS_TITLES, "BUSINESS_TITLES") if business else (TITLES, "TITLES")
        missing = [str(panel.get("id")) for panel in dashboard["panels"] if panel.get("id") not in titles]
        if missing:
            raise MissingTitles(f"panels without a title in bridge/dashboards.py {table}: {', '.join(missing)}")
        for panel in dashboard["panels"]:
            panel["title"] = _(titles[panel["id"]])
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable.get("name") in VARIABLE_LABELS:
                variable["label"] = _(VARIABLE_LABELS[variable["name"]])
            if variable.get("type") == "datasource":
                variable["current"] = {"selected": True, "text": "${DS_PROMETHEUS}", "value": "${DS_PROMETHEUS}"}
        dashboard["__inputs"] = [DATASOURCE_INPUT]
    finally:
        i18n.set_language(previous)
    return dashboard


def dumps(dashboard: dict[str, Any]) -> str:
    return json.dumps(dashboard, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    return render_main(argv, prog="python -m bridge.dashboards", description=__doc__.split("\n\n")[0],
                       default_input=Path("ops/grafana/dashboard.json"), errors=(ValueError,),
                       render=lambda text, args: dumps(render(json.loads(text), args.language)))


if __name__ == "__main__":
    raise SystemExit(main())
