"""The message catalogue: language choice, every message translated, times in the shop's zone."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bridge
from bridge import i18n
from bridge.config import load_settings
from bridge.errors import ConfigError
from bridge.i18n import _, catalogue, format_local


@pytest.mark.parametrize(("environ", "expected"), [
    ({"LANG": "ja_JP.UTF-8"}, "ja"),
    ({"LANG": "ja_JP.eucJP"}, "ja"),
    ({"LANG": "ja"}, "ja"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({}, "en"),
    ({"LANG": "ja_JP.UTF-8", "LC_MESSAGES": "C"}, "en"),  # LC_MESSAGES before LANG
    ({"LANG": "C", "LC_MESSAGES": "ja_JP.UTF-8"}, "ja"),
    ({"LC_ALL": "en_GB.UTF-8", "LC_MESSAGES": "ja_JP.UTF-8"}, "en"),  # LC_ALL first
    ({"LANG": "", "LC_MESSAGES": "", "LC_ALL": "ja_JP.UTF-8"}, "ja"),
])
def test_language_follows_the_locale_environment(environ: dict[str, str], expected: str) -> None:
    assert i18n.language_from_env(environ) == expected


@given(setting=st.sampled_from(["ja", "en", "JA", "auto", "", None]), locale=st.sampled_from(["ja_JP.UTF-8", "C"]))
def test_setting_forces_the_language(setting: str | None, locale: str) -> None:
    resolved = i18n.resolve_language(setting, {"LANG": locale})
    if setting and setting.lower() in ("ja", "en"):
        assert resolved == setting.lower()
    else:
        assert resolved == ("ja" if locale.startswith("ja") else "en")


def test_every_message_has_a_japanese_translation_with_the_same_placeholders() -> None:
    assert catalogue.problems("ja") == []


def test_translation_switches_with_the_language() -> None:
    i18n.set_language("en")
    assert _("error: {message}") == "error: {message}"
    i18n.set_language("ja")
    assert _("error: {message}") == "エラー: {message}"
    assert _("a message nobody translated") == "a message nobody translated"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        i18n.set_language("fr")


def test_times_for_people_are_in_the_shop_zone_with_the_zone_named() -> None:
    moment = datetime(2026, 12, 3, 16, 19, 5, tzinfo=timezone.utc)
    assert format_local(moment) == "2026-12-04 01:19 JST"
    assert format_local("2026-12-03T16:19:05+00:00", seconds=True) == "2026-12-04 01:19:05 JST"
    assert format_local(None) == "-"
    i18n.set_display_zone("Europe/Berlin")
    assert format_local(moment) == "2026-12-03 17:19 CET"
    i18n.set_display_zone("Asia/Dubai")  # a zone without an abbreviation is named by its IANA key
    assert format_local(moment) == "2026-12-03 20:19 Asia/Dubai"


def test_ui_settings_are_validated(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("ui:\n  language: ja\n  timezone: Asia/Tokio\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert "ui.timezone" in str(raised.value) and "Asia/Tokyo" in str(raised.value)
    config.write_text("ui:\n  language: ja\n  timezone: Europe/Berlin\n", encoding="utf-8")
    settings = load_settings(config)
    assert (settings.ui.language, settings.ui.timezone) == ("ja", "Europe/Berlin")


def test_cli_speaks_the_language_of_the_environment(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    base = [sys.executable, "-m", "bridge", "config", "check", "--config", str(missing)]
    english = subprocess.run(base, capture_output=True, text=True, env={"LANG": "C.UTF-8", "PATH": "/usr/bin"})
    japanese = subprocess.run(base, capture_output=True, text=True, env={"LANG": "ja_JP.UTF-8", "PATH": "/usr/bin"})
    forced = subprocess.run(base, capture_output=True, text=True,
                            env={"LANG": "C.UTF-8", "BRIDGE_UI__LANGUAGE": "ja", "PATH": "/usr/bin"})
    assert english.returncode == japanese.returncode == forced.returncode == 2
    assert english.stderr.startswith("error: ")
    assert japanese.stderr.startswith("エラー: ")
    assert forced.stderr.startswith("エラー: ")


def test_version_flag() -> None:
    done = subprocess.run([sys.executable, "-m", "bridge", "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.strip() == f"cscart-smile-bridge {bridge.__version__}"
