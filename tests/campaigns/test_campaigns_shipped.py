"""The shipped rules/campaigns.yaml is safe as it comes: its category ids are examples, its campaigns are switched off,
and a campaign enabled with a category id the store does not have is refused with the fix, not written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ruamel.yaml import YAML

from bridge.i18n import set_language
from bridge.rules.campaigns import CampaignRules

from .conftest import ROOT, bench

SHIPPED = (ROOT / "rules" / "campaigns.yaml").read_text(encoding="utf-8")
IN_SPRING = datetime(2027, 3, 10, 3, 0, tzinfo=UTC)  # the example spring campaign's period, 12:00 JST


def test_every_shipped_campaign_is_switched_off_and_the_file_says_why_in_japanese() -> None:
    rules = CampaignRules.model_validate(YAML(typ="safe").load(SHIPPED))
    assert rules.campaigns and not any(c.enabled for c in rules.campaigns)
    assert rules.categories == {"0100": [12], "0200": [13, 14]}
    assert "見本" in SHIPPED and "enabled: true にしてください" in SHIPPED


async def test_the_shipped_file_writes_nothing_and_enabling_it_unchanged_is_refused(tmp_path: Path) -> None:
    async with bench(tmp_path, SHIPPED, IN_SPRING) as b:  # the store has categories 12 and 13, not 14
        first = await b.run()
        assert first.failed == 0 and first.enqueued == 0, first.notes
        assert b.sim.addon.managed_promotions == {}
        assert any("spring-bulk-2027 (enabled: false)" in note and "no category 14" in note for note in first.notes)

        enabled = SHIPPED.replace("enabled: false            # 見本", "enabled: true  # 見本", 1)
        b.write_rules(enabled)
        refused = await b.run()
        assert refused.failed == 1 and refused.enqueued == 0
        [note] = [n for n in refused.notes if "spring-bulk-2027" in n]
        assert "target.categories" in note and "no category 14" in note and "categories:" in note
        set_language("ja")
        try:
            b.write_rules(enabled)
            japanese = await b.run()
        finally:
            set_language("en")
        assert any("カテゴリ 14 がありません" in n for n in japanese.notes), japanese.notes
        assert b.sim.addon.managed_promotions == {}  # nothing was written with the example ids

        b.write_rules(enabled.replace('"0200": [13, 14]', '"0200": [13]'))
        fixed = await b.run()
        assert fixed.failed == 0 and b.promotion("spring-bulk-2027").status == "A"


def test_rules_check_on_the_shipped_rules_shows_the_campaigns_switched_off(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bridge.cli import app

    result = CliRunner().invoke(app, ["rules", "check", str(ROOT / "rules")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "spring-bulk-2027" in line]
    assert lines and "無効" in lines[0], result.output
