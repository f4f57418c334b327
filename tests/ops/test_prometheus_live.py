"""The dashboard and the alerts on real data: a real Prometheus scrapes a running daemon with every configured job
(one of them never succeeds). Every query of ops/grafana/dashboard.json and every alert expression must be valid
PromQL there; the job panels must show every job the settings know (stock, prices, customers, products, orders,
drift, shipping, and any job added to JobsSettings later); the stale-job alert must pick the failing job."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from bridge.config import JobsSettings
from tests.ops.conftest import DaemonProcess, PrometheusServer, every_job
from tests.ops.test_dashboard_and_alert_names import ALERTS, DASHBOARD

# Grafana's built-in and dashboard variables, as Grafana would expand them with "All" selected.
VARIABLES = {"$instance": ".*", "$sync_job": ".*", "$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m"}


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, query) of every variable and panel target."""
    found = [(f"variable {v['name']}", v["definition"]) for v in dashboard["templating"]["list"] if "definition" in v]
    for panel in dashboard["panels"]:
        found += [(f"{panel['title']} [{t['refId']}]", t["expr"]) for t in panel.get("targets", [])]
    return found


def as_promql(query: str) -> str:
    for name, value in VARIABLES.items():
        query = query.replace(name, value)
    # label_values(selector, label) is Grafana's; this is the PromQL behind it
    label_values = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query)
    return f"group by ({label_values[2]}) ({label_values[1]})" if label_values else query


def jobs_in(result: dict[str, Any]) -> set[str]:
    return {series["metric"].get("sync_job", "") for series in result["data"]["result"]}


# Panels fed by the scheduler's own metrics, which every job has from its first run: each must list every job.
EVERY_JOB_PANELS = (
    "variable sync_job", "Jobs: every configured job [A]", "Jobs: every configured job [C]",
    "Freshness as a share of 2× interval [A]",  # a job that never succeeded counts from the daemon's start
    "Job runs by outcome [A]", "Job duration (p95) [A]",
)
# Panels about successes: every job but the one that never succeeds.
SUCCEEDED_JOB_PANELS = ("Jobs: every configured job [B]", "Freshness: seconds since last success [A]")
NEVER_SUCCEEDS = "drift"


def alert_rules() -> list[dict[str, Any]]:
    return YAML(typ="safe").load(ALERTS.read_text(encoding="utf-8"))["groups"][0]["rules"]


def test_every_dashboard_and_alert_query_runs_on_prometheus_and_shows_every_job(short_dir: Path) -> None:
    jobs = set(JobsSettings.model_fields)
    assert {"stock", "prices", "customers", "products", "orders", "drift", "shipping"} <= jobs
    # 2× the interval must exceed the age a scraped value can have (1 s scrapes plus a run on a loaded machine), or
    # healthy jobs would look stale between scrapes
    daemon = DaemonProcess(short_dir, every_job(interval=2.0), extra_env={"OPS_TEST_EVERY_JOB": "1"})
    stale_expr = next(rule["expr"] for rule in alert_rules() if rule["alert"] == "BridgeJobStale")
    daemon.flag(f"fail-{NEVER_SUCCEEDS}", True)
    (short_dir / "prometheus").mkdir()
    prometheus = PrometheusServer(short_dir / "prometheus", f"127.0.0.1:{daemon.port}")
    daemon.start()
    prometheus.start()
    try:
        # rate() and histogram_quantile() need a few scrapes of every job's runs
        deadline = time.monotonic() + 30
        while True:
            ready = prometheus.query("count_over_time(bridge_job_runs_total[1m]) >= 2")
            # ...and the daemon is up long enough (2× interval) for a never-successful job to count as stale
            if ready.get("status") == "success" and jobs_in(ready) == jobs and \
                    NEVER_SUCCEEDS in jobs_in(prometheus.query(stale_expr)):
                break
            assert time.monotonic() < deadline, (ready, daemon.output()[-2000:],
                                                 prometheus.log.read_text(errors="replace")[-2000:])
            time.sleep(0.3)

        from bridge.dashboards import render  # the panels by their English titles (shipped: Japanese)

        queries = panel_queries(render(json.loads(DASHBOARD.read_text(encoding="utf-8")), "en"))
        answers = {}
        for where, query in queries:
            answer = prometheus.query(as_promql(query))
            assert answer["status"] == "success", f"{where}: {query}\n{answer.get('error')}"
            answers[where] = answer
        for where in EVERY_JOB_PANELS:
            assert where in answers, f"the dashboard lost {where!r}"
            assert jobs_in(answers[where]) == jobs, f"{where}: shows {sorted(jobs_in(answers[where]))}"
        for where in SUCCEEDED_JOB_PANELS:
            assert jobs_in(answers[where]) == jobs - {NEVER_SUCCEEDS}, where
        workflow = answers["Orders by workflow state [A]"]["data"]["result"]
        assert {series["metric"]["state"] for series in workflow} >= {"received", "shipping_instructed", "hold"}

        # The alert expressions on the real series (labels as Prometheus attaches them): the stale-job alert picks
        # exactly the job that never succeeded; nothing else is wrong with this daemon.
        firing = {}
        for rule in alert_rules():
            answer = prometheus.query(rule["expr"])
            assert answer["status"] == "success", f"{rule['alert']}: {answer.get('error')}"
            firing[rule["alert"]] = answer
        assert jobs_in(firing.pop("BridgeJobStale")) == {NEVER_SUCCEEDS}
        assert all(not answer["data"]["result"] for answer in firing.values()), firing
    finally:
        prometheus.stop()
        daemon.stop()


def test_an_invalid_query_is_reported_by_prometheus(short_dir: Path) -> None:
    prometheus = PrometheusServer(short_dir, "127.0.0.1:9")
    prometheus.start()
    try:
        answer = prometheus.query("sum by (sync_job (bridge_job_runs_total)")
        assert answer["status"] == "error" and "parse error" in answer["error"]
        assert jobs_in(prometheus.query("bridge_job_runs_total")) == set()
    finally:
        prometheus.stop()
