"""The operator docs cover every alert (the runbook links resolve) and every MQTT event kind, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

from bridge.events import EVENT_FIELDS

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations.md"
JAPANESE = ROOT / "docs" / "ja" / "運用ガイド.md"


def alert_rules() -> list[dict]:
    return YAML(typ="safe").load((ROOT / "ops/prometheus/alerts.yml").read_text(encoding="utf-8"))["groups"][0]["rules"]


def anchors(markdown: str) -> set[str]:
    """GitHub-style anchors of the headings."""
    found = set()
    for heading in re.findall(r"^#+\s+(.+)$", markdown, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def test_every_alert_has_a_runbook_section_its_link_points_to() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    headings = anchors(text)
    for rule in alert_rules():
        runbook = rule["annotations"]["runbook"]
        assert runbook == f"docs/operations.md#{rule['alert'].lower()}"
        assert rule["alert"].lower() in headings, f"no section for {rule['alert']} in docs/operations.md"


def test_every_event_kind_and_field_is_documented() -> None:
    for doc in (OPERATIONS, JAPANESE):
        text = doc.read_text(encoding="utf-8")
        for kind, fields in EVENT_FIELDS.items():
            row = next((line for line in text.splitlines() if line.startswith(f"| `{kind}`")), None)
            assert row is not None, f"{doc.name}: event kind {kind} not documented"
            for field in fields:
                assert f"`{field}`" in row, f"{doc.name}: field {field} of {kind} not documented"


def test_the_japanese_guide_covers_every_alert() -> None:
    text = JAPANESE.read_text(encoding="utf-8")
    for rule in alert_rules():
        assert f"### {rule['alert']}" in text, rule["alert"]
