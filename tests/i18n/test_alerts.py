"""Alert texts come from the catalogue (Japanese summaries), runbook links are absolute, and the shipped rules file is
the rendering of bridge/alerting.py."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from bridge import alerting

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "ops" / "prometheus" / "alerts.yml"


def rules(text: str) -> dict[str, dict]:
    data = YAML(typ="safe").load(text)
    return {rule["alert"]: rule for group in data["groups"] for rule in group["rules"]}


def test_shipped_rules_are_the_rendering() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert alerting.render(text, alerting.DEFAULT_DOCS_URL, "ja") == text, (
        "ops/prometheus/alerts.yml is out of step: run python -m bridge.alerting --output ops/prometheus/alerts.yml")


def test_rendering_in_both_languages_with_a_site_docs_url(lang: str) -> None:
    text = alerting.render(SHIPPED.read_text(encoding="utf-8"), "https://intra.example.jp/bridge/", lang)
    rendered = rules(text)
    down = rendered["BridgeDown"]["annotations"]
    expected = {"en": "The bridge on {{ $labels.instance }} does not answer /metrics",
                "ja": "{{ $labels.instance }} のブリッジが /metrics に応答しません"}[lang]
    assert down["summary"] == expected
    assert down["summary_en"] == "The bridge on {{ $labels.instance }} does not answer /metrics"
    page = {"en": "operations.html", "ja": "ja/運用ガイド.html"}[lang]
    assert down["runbook_url"] == f"https://intra.example.jp/bridge/{page}#bridgedown"
    for name, rule in rendered.items():
        assert rule["annotations"]["runbook_url"].startswith("https://intra.example.jp/bridge/"), name


def test_a_missing_scrape_fires_through_absent() -> None:
    absent = rules(SHIPPED.read_text(encoding="utf-8"))["BridgeAbsent"]
    assert absent["expr"].startswith('absent(up{job="cscart-smile-bridge"}')


def test_every_alert_has_texts() -> None:
    assert set(rules(SHIPPED.read_text(encoding="utf-8"))) == set(alerting.TEXTS)


def test_shipped_dashboard_is_the_japanese_rendering_and_english_renders_too(lang: str) -> None:
    import json

    from bridge import dashboards

    shipped_path = ROOT / "ops" / "grafana" / "dashboard.json"
    shipped = shipped_path.read_text(encoding="utf-8")
    assert dashboards.dumps(dashboards.render(json.loads(shipped), "ja")) == shipped, (
        "ops/grafana/dashboard.json is out of step: run python -m bridge.dashboards --output ops/grafana/dashboard.json")
    rendered = dashboards.render(json.loads(shipped), lang)
    titles = {panel["id"]: panel["title"] for panel in rendered["panels"]}
    assert titles[15] == {"en": "Dead letters", "ja": "配信不能"}[lang]
    assert rendered["__inputs"] == [dashboards.DATASOURCE_INPUT]
