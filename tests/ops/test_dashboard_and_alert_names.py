"""The dashboard and the alerts query only metric names the bridge really exports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bridge import metrics
from tests.ops.promql import exported_names, metric_names

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "ops" / "grafana" / "dashboard.json"
ALERTS = ROOT / "ops" / "prometheus" / "alerts.yml"
PROMETHEUS_OWN = {"up"}  # added by Prometheus to every scrape target


def dashboard_queries(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"expr", "definition"} and isinstance(value, str):
                yield value
            elif key == "query" and isinstance(value, dict) and isinstance(value.get("query"), str):
                yield value["query"]
            else:
                yield from dashboard_queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from dashboard_queries(item)


def label_values_metric(query: str) -> set[str]:
    # Grafana's label_values(selector, label) is not PromQL; its first argument is a series selector.
    return metric_names(query.split("(", 1)[1].rsplit(",", 1)[0])


def test_extractor_finds_names_and_ignores_functions_labels_and_keywords() -> None:
    expr = ('histogram_quantile(0.95, sum by (endpoint, le) (rate(bridge_api_request_duration_seconds_bucket'
            '{instance=~"$instance", status!~"2.."}[$__rate_interval]))) > on (instance) group_left () '
            '2 * bridge_job_interval_seconds unless bridge_x offset 1h or time() - up')
    assert metric_names(expr) == {"bridge_api_request_duration_seconds_bucket", "bridge_job_interval_seconds",
                                  "bridge_x", "up"}


def test_exported_names_include_sample_suffixes() -> None:
    names = exported_names(metrics.REGISTRY)
    assert {"bridge_job_runs_total", "bridge_job_duration_seconds_bucket", "bridge_job_duration_seconds_count",
            "bridge_dead_letters"} <= names
    assert "bridge_job_runs" not in names


def test_dashboard_imports_with_the_datasource_as_a_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
    titles = " | ".join(p["title"] for p in panels).lower()
    # titled in Japanese (bridge/dashboards.py renders them from the message catalogue)
    for topic in ("鮮度", "変更・書き込み", "応答時間", "api のエラー", "送信待ち", "配信不能", "ワークフロー状態",
                  "smile ファイル"):
        assert topic in titles
    assert dashboard["__inputs"][0]["name"] == "DS_PROMETHEUS"  # Grafana asks for the data source on import
    assert variables["datasource"]["current"]["value"] == "${DS_PROMETHEUS}"


def test_every_dashboard_query_uses_exported_metric_names() -> None:
    exported = exported_names(metrics.REGISTRY) | PROMETHEUS_OWN
    queries = list(dashboard_queries(json.loads(DASHBOARD.read_text(encoding="utf-8"))))
    assert len(queries) > 20
    used: set[str] = set()
    for query in queries:
        names = label_values_metric(query) if query.startswith("label_values(") else metric_names(query)
        assert names, f"no metric in {query!r}"
        assert names <= exported, f"unknown metric(s) {sorted(names - exported)} in dashboard query {query!r}"
        used |= names
    assert {"bridge_job_last_success_timestamp_seconds", "bridge_orders_by_state",
            "bridge_smile_files_quarantined_total"} <= used


def test_every_alert_uses_exported_metric_names() -> None:
    exported = exported_names(metrics.REGISTRY) | PROMETHEUS_OWN
    rules = YAML(typ="safe").load(ALERTS.read_text(encoding="utf-8"))["groups"][0]["rules"]
    for rule in rules:
        names = metric_names(rule["expr"])
        assert names and names <= exported, f"{rule['alert']}: unknown metric(s) {sorted(names - exported)}"


@pytest.mark.parametrize("bad", ["bridge_job_runs", "bridge_dead_letter", "bridge_job_duration_seconds"])
def test_a_misspelt_or_unsuffixed_name_is_caught(bad: str) -> None:
    assert bad not in exported_names(metrics.REGISTRY)


NON_BASE_UNITS = ("_ms", "_milliseconds", "_microseconds", "_minutes", "_hours", "_days", "_kb", "_kilobytes",
                  "_mb", "_megabytes", "_percent")


def test_metric_names_follow_prometheus_conventions() -> None:
    families = list(metrics.REGISTRY.collect())
    assert len(families) > 20
    for family in families:
        name = family.name
        assert name.startswith("bridge_"), name
        assert not any(part in name + "_" for part in (u + "_" for u in NON_BASE_UNITS)), f"{name}: not a base unit"
        if family.type == "histogram":
            assert name.endswith(("_seconds", "_bytes")), f"{name}: a histogram measures a base unit"
        if family.type == "gauge":
            assert not name.endswith("_total"), f"{name}: _total is for counters"
        if "timestamp" in name:
            assert name.endswith("_timestamp_seconds"), name
        assert family.documentation, f"{name}: no HELP text"
