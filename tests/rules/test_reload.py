"""Hot reload: a bad file is refused and the last good rules stay; a fixed file is picked up; start-up refuses."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bridge import metrics
from bridge.config import load_settings
from bridge.rules import RuleSet, RulesInvalid
from bridge.rules.provider import RulesProvider
from bridge.store import Store
from bridge.wiring import build, rule_files


def sample(name: str, outcome: str | None = None) -> float:
    labels = {"outcome": outcome} if outcome else {}
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def set_surcharge(rules_dir: Path, text: str) -> None:
    path = rules_dir / "pricing.yaml"
    content = path.read_text(encoding="utf-8")
    start = content.index("  surcharge_percent:")
    end = content.index("\n", start)
    path.write_text(content[:start] + f"  surcharge_percent: {text}" + content[end:], encoding="utf-8")


def test_a_bad_file_keeps_the_last_good_rules_and_a_fixed_one_is_picked_up(rules_dir: Path) -> None:
    provider = RulesProvider.open(rules_dir, rule_files())
    good = provider.current
    assert sample("bridge_rules_valid") == 1
    rejected_before = sample("bridge_rule_reloads_total", "rejected")

    set_surcharge(rules_dir, "ten")
    result = provider.poll()
    assert result is not None and result.outcome == "rejected" and result.digest == good.digest
    assert provider.current is good and provider.current.pricing.direct_ship.surcharge_percent == 10
    assert [p.key for p in provider.problems] == ["direct_ship.surcharge_percent"]
    assert sample("bridge_rules_valid") == 0
    assert sample("bridge_rule_reloads_total", "rejected") == rejected_before + 1
    assert provider.poll() is None  # the same bad content is not refused (and logged) again on every poll

    seen: list[RuleSet] = []
    provider.subscribe(seen.append)
    set_surcharge(rules_dir, "8")
    result = provider.poll()
    assert result is not None and result.outcome == "loaded"
    assert provider.current.pricing.direct_ship.surcharge_percent == 8 and seen == [provider.current]
    assert provider.problems == () and sample("bridge_rules_valid") == 1


def test_sighup_reload_of_unchanged_files_is_reported_as_unchanged(rules_dir: Path) -> None:
    provider = RulesProvider.open(rules_dir)
    before = sample("bridge_rule_reloads_total", "unchanged")
    assert provider.reload().outcome == "unchanged"
    assert sample("bridge_rule_reloads_total", "unchanged") == before + 1


async def test_the_watcher_reloads_a_changed_file(rules_dir: Path) -> None:
    provider = RulesProvider.open(rules_dir)
    changed = asyncio.Event()
    provider.subscribe(lambda rules: changed.set())
    watcher = asyncio.create_task(provider.watch(interval=0.01))
    try:
        set_surcharge(rules_dir, "12")
        await asyncio.wait_for(changed.wait(), timeout=10)
        assert provider.current.pricing.direct_ship.surcharge_percent == 12
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)


def test_start_up_with_bad_rules_raises_every_problem(rules_dir: Path) -> None:
    set_surcharge(rules_dir, "-1")
    (rules_dir / "stock.yaml").write_text("version: 1\nguard:\n  zero_shar: 0.1\n", encoding="utf-8")
    with pytest.raises(RulesInvalid) as raised:
        RulesProvider.open(rules_dir, rule_files())
    text = str(raised.value)
    assert "2 problem(s)" in text and "pricing.yaml:" in text and "stock.yaml:3: guard.zero_shar" in text


async def test_wiring_provides_rules_reload_hook_and_watcher(rules_dir: Path, tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path / "data", rules_dir=rules_dir)
    store = await Store.open(tmp_path / "state.sqlite3")
    try:
        wiring = await build(settings, store)
        provider = wiring.services.rules
        assert isinstance(provider, RulesProvider) and provider.current.shipping is not None
        assert provider.reload_hook in wiring.reload_hooks and provider.watch in wiring.background
        set_surcharge(rules_dir, "7")
        for hook in wiring.reload_hooks:
            await hook()
        assert provider.current.pricing.direct_ship.surcharge_percent == 7
        await wiring.aclose()

        set_surcharge(rules_dir, "ten")
        with pytest.raises(RulesInvalid, match="pricing.yaml:.*direct_ship.surcharge_percent"):
            await build(settings, store)
    finally:
        await store.close()
