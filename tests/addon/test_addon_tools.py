"""``bridge addon check`` finds each kind of defect, naming the file and the fix; ``bridge addon build`` packs
exactly the CS-Cart tree, reproducibly, and refuses a broken add-on."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.cli import app
from bridge.cscart import addon_tools
from bridge.errors import ValidationFailed

from .conftest import ADDON_ROOT

PO_JA = "var/langs/ja/addons/smile_bridge.po"
XML = "app/addons/smile_bridge/addon.xml"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    copy = tmp_path / "addon"
    shutil.copytree(ADDON_ROOT, copy)
    return copy


def test_the_shipped_addon_is_clean() -> None:
    assert addon_tools.check() == []


def test_language_keys_cover_settings_templates_and_php() -> None:
    xml, _ = addon_tools._read_addon_xml(ADDON_ROOT)
    keys = addon_tools.required_language_keys(ADDON_ROOT, xml)
    assert "SettingsOptions::smile_bridge::hmac_secret" in keys  # addon.xml
    assert "Languages::smile_bridge.direct_ship_surcharge" in keys  # templates
    assert "Languages::smile_bridge.credit_limit_exceeded" in keys  # PHP
    assert "Languages::smile_bridge.direct_ship_payment_not_allowed" in keys  # PHP mapping table


def test_php_syntax_error_is_named(tree: Path) -> None:
    target = tree / "app/addons/smile_bridge/includes/batch.php"
    target.write_text(target.read_text() + "\nfunction broken( {\n")
    problems = addon_tools.check(tree)
    assert len(problems) == 1
    assert problems[0].startswith("app/addons/smile_bridge/includes/batch.php: php -l failed")


def test_php8_only_syntax_is_named(tree: Path) -> None:
    target = tree / "app/addons/smile_bridge/lib/SmileBridge/Rounding.php"
    text = target.read_text()
    text = text.replace(
        "        return is_string($mode) && in_array($mode, self::all(), true);",
        "        // str_contains( in a comment is fine\n"
        "        return match ($mode) { 'down' => true, default => str_contains((string) $mode, 'up') };",
    )
    target.write_text(text)
    problems = addon_tools.check(tree)
    relative = "app/addons/smile_bridge/lib/SmileBridge/Rounding.php"
    assert [p.split(": ", 1)[1] for p in problems] == [
        "match expression: not available in PHP 7.4; rewrite it for 7.4–8.3",
        "str_contains(): not available in PHP 7.4; rewrite it for 7.4–8.3",
    ]
    assert all(p.startswith(f"{relative}:") for p in problems)


def test_missing_translation_is_named(tree: Path) -> None:
    po = tree / PO_JA
    text = po.read_text(encoding="utf-8")
    start = text.index('msgctxt "Languages::smile_bridge.credit_limit_exceeded"')
    end = text.index("msgctxt", start + 10)
    po.write_text(text[:start] + text[end:], encoding="utf-8")
    problems = addon_tools.check(tree)
    assert any(p.startswith(PO_JA) and "Languages::smile_bridge.credit_limit_exceeded" in p for p in problems)
    assert any("exists only in en" in p for p in problems)


def test_template_variable_without_text_is_named(tree: Path) -> None:
    tpl = tree / "design/backend/templates/addons/smile_bridge/hooks/orders/customer_info.post.tpl"
    tpl.write_text(tpl.read_text() + '{__("smile_bridge.brand_new")}\n')
    problems = addon_tools.check(tree)
    assert sorted(p.split(":")[0] for p in problems) == [
        "var/langs/en/addons/smile_bridge.po",
        "var/langs/ja/addons/smile_bridge.po",
    ]
    assert all("Languages::smile_bridge.brand_new" in p for p in problems)


def test_broken_po_line_is_named(tree: Path) -> None:
    po = tree / PO_JA
    po.write_text(po.read_text(encoding="utf-8") + "\nmsgstr oops\n", encoding="utf-8")
    assert any("smile_bridge.po:" in p and "unexpected line" in p for p in addon_tools.check(tree))


def test_file_outside_the_tree_is_named(tree: Path) -> None:
    (tree / "app/addons/other").mkdir(parents=True)
    (tree / "app/addons/other/func.php").write_text("<?php\n")
    problems = addon_tools.check(tree)
    expected = "app/addons/other/func.php: file outside the add-on tree; move it under one of " + ", ".join(
        addon_tools.ALLOWED_PREFIXES
    )
    assert problems == [expected]


def test_malformed_addon_xml_names_the_line(tree: Path) -> None:
    xml = tree / XML
    xml.write_text(xml.read_text().replace("</version>", "</versio>"))
    problems = addon_tools.check(tree)
    assert any(p.startswith(f"{XML}:6: not well-formed") for p in problems)


def test_addon_xml_needs_id_settings_and_defined_functions(tree: Path) -> None:
    xml = tree / XML
    text = xml.read_text()
    text = text.replace("<id>smile_bridge</id>", "<id>smile</id>")
    text = text.replace('<item id="credit_check">', '<item id="credit_checks">')
    text = text.replace("fn_smile_bridge_uninstall", "fn_smile_bridge_remove")
    xml.write_text(text)
    problems = "\n".join(addon_tools.check(tree))
    assert "<id> must be 'smile_bridge'" in problems
    assert "setting 'credit_check' is missing" in problems
    assert "'fn_smile_bridge_remove', which no PHP file defines" in problems


def test_build_packs_the_tree_without_tests_reproducibly(tmp_path: Path) -> None:
    first = addon_tools.build(tmp_path / "one")
    second = addon_tools.build(tmp_path / "two")
    assert first.name == "smile_bridge-1.0.0.zip"
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
        assert archive.read(XML) == (ADDON_ROOT / XML).read_bytes()
    assert names == addon_tools.archive_members()
    assert "app/addons/smile_bridge/init.php" in names
    assert "var/langs/ja/addons/smile_bridge.po" in names
    assert "design/themes/responsive/templates/addons/smile_bridge/hooks/checkout/summary.post.tpl" in names
    assert not [n for n in names if n.startswith(("tests/", "phpunit.xml"))]
    assert all(n.startswith(addon_tools.ALLOWED_PREFIXES) for n in names)


def test_build_refuses_a_broken_addon_and_writes_nothing(tree: Path, tmp_path: Path) -> None:
    (tree / "app/addons/smile_bridge/func.php").write_text("<?php function (\n")
    with pytest.raises(ValidationFailed) as caught:
        addon_tools.build(tmp_path / "out", root=tree)
    assert caught.value.problems and "func.php" in caught.value.problems[0]
    assert not (tmp_path / "out").exists()


def test_missing_php_binary_is_a_clear_problem() -> None:
    assert addon_tools.check(php="php-does-not-exist") == [
        "'php-does-not-exist' not found on PATH; install php-cli (apt-get install php-cli) to lint the add-on"
    ]


def test_cli_check_and_build(tmp_path: Path) -> None:
    runner = CliRunner()
    checked = runner.invoke(app, ["addon", "check"])
    assert checked.exit_code == 0, checked.output
    assert "smile_bridge 1.0.0: ok" in checked.output
    built = runner.invoke(app, ["addon", "build", "--out", str(tmp_path)])
    assert built.exit_code == 0, built.output
    assert (tmp_path / "smile_bridge-1.0.0.zip").is_file()
    failing = runner.invoke(app, ["addon", "check", "--php", "php-does-not-exist"])
    assert failing.exit_code == 1
    assert "not found on PATH" in failing.output
