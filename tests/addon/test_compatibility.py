"""``bridge addon check`` warns on a CS-Cart version docs/compatibility.md does not list as tested."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bridge.cscart.compatibility import TESTED, StoreVersion, read_store_version, warning

ROOT = Path(__file__).resolve().parents[2]


def test_every_tested_version_is_in_docs_compatibility() -> None:
    text = (ROOT / "docs/compatibility.md").read_text(encoding="utf-8")
    for version, edition in TESTED:
        assert f"| {version} | {edition.capitalize()} |" in text, (version, edition)


def test_the_version_comes_from_the_stores_config_php(tmp_path: Path) -> None:
    (tmp_path / "config.php").write_text("<?php\ndefine('PRODUCT_VERSION', '4.19.1');\n"
                                         "define( \"PRODUCT_EDITION\" , 'MULTIVENDOR' );\n", encoding="utf-8")
    assert read_store_version(tmp_path) == StoreVersion("4.19.1", "MULTIVENDOR")
    with pytest.raises(ValueError, match="config.php: cannot read it"):
        read_store_version(tmp_path / "nowhere")


def test_tested_is_silent_and_untested_warns_in_both_languages(lang: str) -> None:
    assert warning(StoreVersion("4.20.1", "ULTIMATE")) is None
    assert warning(StoreVersion("4.20.1")) is None
    text = warning(StoreVersion("4.20.1", "MULTIVENDOR"))
    expected = "CS-Cart 4.20.1 MULTIVENDOR は未検証です" if lang == "ja" else "4.20.1 MULTIVENDOR is untested"
    assert text is not None and expected in text


def test_addon_check_prints_the_warning_and_still_exits_0(tmp_path: Path) -> None:
    (tmp_path / "config.php").write_text("<?php define('PRODUCT_VERSION', '4.17.2'); "
                                         "define('PRODUCT_EDITION', 'ULTIMATE');", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bridge", "addon", "check", "--store-root", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "CS-Cart 4.17.2 ULTIMATE is untested" in done.stderr
    done = subprocess.run([sys.executable, "-m", "bridge", "addon", "check", "--cscart-version", "4.20.1"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0 and "CS-Cart 4.20.1: tested" in done.stdout, done.stdout + done.stderr
