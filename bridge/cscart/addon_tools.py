"""Lint and package the ``smile_bridge`` CS-Cart add-on (``bridge addon check`` / ``bridge addon build``).

The add-on lives in ``bridge/cscart/addon/`` laid out as a CS-Cart tree; the archive has the same tree at its
root, which is what Add-ons → Manage add-ons → "Upload & install add-on" expects.
``tests/`` and ``phpunit.xml`` are for development only and never enter the archive.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bridge.errors import ValidationFailed
from bridge.i18n import Text, _, verbatim

ADDON_ID = "smile_bridge"
ADDON_ROOT = Path(__file__).resolve().parent / "addon"
ADDON_XML = f"app/addons/{ADDON_ID}/addon.xml"
LANGUAGES = ("en", "ja")

# The only places an add-on may put files in a CS-Cart tree (cscart.md §10.1).
ALLOWED_PREFIXES = (
    f"app/addons/{ADDON_ID}/",
    f"design/backend/templates/addons/{ADDON_ID}/",
    f"design/themes/responsive/templates/addons/{ADDON_ID}/",
    *(f"var/langs/{lang}/addons/{ADDON_ID}.po" for lang in LANGUAGES),
)
DEV_ONLY_PREFIXES = ("tests/", "phpunit.xml")
IGNORED_NAMES = (".phpunit.result.cache", ".DS_Store")

REQUIRED_SETTINGS = (
    "daemon_url",
    "hmac_secret",
    "event_retention_days",
    "direct_ship_rate",
    "direct_ship_payment_ids",
    "credit_check",
    "on_account_payment_ids",
)

# __("smile_bridge.x") in templates, '__("smile_bridge.x")' or 'smile_bridge.x' literals in PHP.
_TEMPLATE_VAR = re.compile(r"""__\(\s*["'](smile_bridge\.[a-z0-9_]+)["']""")
_PHP_VAR = re.compile(r"""["'](smile_bridge\.[a-z0-9_]+)["']""")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same sources give the same archive bytes


@dataclass(frozen=True, slots=True)
class AddonInfo:
    addon_id: str
    version: str
    files: tuple[str, ...]  # archive members, relative to the tree root


def _relative_files(root: Path) -> list[str]:
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and path.name not in IGNORED_NAMES and "__pycache__" not in path.parts
    )


def archive_members(root: Path = ADDON_ROOT) -> list[str]:
    return [name for name in _relative_files(root) if name.startswith(ALLOWED_PREFIXES)]


# ---- checks ------------------------------------------------------------------------------------


def _check_tree(root: Path) -> list[Text]:
    problems: list[Text] = []
    for name in _relative_files(root):
        if not name.startswith(ALLOWED_PREFIXES) and not name.startswith(DEV_ONLY_PREFIXES):
            problems.append(
                _("{name}: file outside the add-on tree; move it under one of {items}").format(
                    name=name, items=', '.join(ALLOWED_PREFIXES))
            )
    return problems


def _read_addon_xml(root: Path) -> tuple[ET.Element | None, list[Text]]:
    path = root / ADDON_XML
    if not path.is_file():
        return None, [_("{file}: missing").format(file=ADDON_XML)]
    try:
        return ET.parse(path).getroot(), []
    except ET.ParseError as exc:
        line = exc.position[0]
        return None, [_("{file}:{line}: not well-formed XML ({exc}); fix the markup").format(
                          file=ADDON_XML, line=line, exc=exc)]


def _check_addon_xml(root: Path, xml: ET.Element) -> list[Text]:
    problems: list[Text] = []
    if xml.tag != "addon" or xml.get("scheme") != "3.0":
        problems.append(
            _("{file}: root must be <addon scheme=\"3.0\">, got <{tag} scheme=\"{scheme}\">").format(
                file=ADDON_XML, tag=xml.tag, scheme=xml.get('scheme'))
        )
    if (xml.findtext("id") or "").strip() != ADDON_ID:
        problems.append(
            _("{file}: <id> must be {addon!r} (the directory name), got {got!r}").format(
                file=ADDON_XML, addon=ADDON_ID, got=xml.findtext('id'))
        )
    if not (xml.findtext("version") or "").strip():
        problems.append(_("{file}: <version> is missing").format(file=ADDON_XML))
    settings = {item.get("id") for item in xml.iterfind("settings/sections/section/items/item")}
    for name in REQUIRED_SETTINGS:
        if name not in settings:
            problems.append(_("{file}: setting {name!r} is missing under <settings><sections>…<items>").format(
                                file=ADDON_XML, name=name))
    php_source = "\n".join(
        p.read_text(encoding="utf-8") for p in (root / f"app/addons/{ADDON_ID}").rglob("*.php")
    )
    for item in xml.iterfind("functions/item"):
        function = (item.text or "").strip()
        if not re.search(rf"\bfunction\s+{re.escape(function)}\s*\(", php_source):
            problems.append(_("{file}: <functions> names {function!r}, which no PHP file defines").format(
                                file=ADDON_XML, function=function))
    return problems


def _lint_php(root: Path, php: str) -> list[Text]:
    files = sorted(root.rglob("*.php"))

    def lint(path: Path) -> Text | None:
        done = subprocess.run([php, "-l", str(path)], capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return None
        detail = (done.stdout + done.stderr).strip().splitlines()
        return (
            _("{file}: php -l failed: {detail}").format(
                file=path.relative_to(root).as_posix(), detail=detail[0] if detail else done.returncode)
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        return [problem for problem in pool.map(lint, files) if problem]


# The add-on must run on PHP 7.4 while CI has a newer php: php -l accepts PHP 8 syntax, so the tokens and functions
# that 7.4 lacks are looked for with PHP's own tokenizer (comments and strings cannot cause false alarms).
_PHP74_SCAN = r"""
$bad = ['T_MATCH' => 'match expression', 'T_NULLSAFE_OBJECT_OPERATOR' => '?-> operator',
        'T_ATTRIBUTE' => '#[attribute]', 'T_READONLY' => 'readonly', 'T_ENUM' => 'enum'];
$functions = ['str_contains', 'str_starts_with', 'str_ends_with', 'array_is_list', 'get_debug_type', 'fdiv'];
foreach (array_slice($argv, 1) as $file) {
    $tokens = token_get_all(file_get_contents($file));
    foreach ($tokens as $i => $token) {
        if (!is_array($token)) { continue; }
        $name = token_name($token[0]);
        if (isset($bad[$name])) { echo $file, ':', $token[2], ': ', $bad[$name], "\n"; }
        if ($token[0] === T_STRING && in_array(strtolower($token[1]), $functions, true)) {
            $next = $tokens[$i + 1] ?? null;
            if ($next === '(') { echo $file, ':', $token[2], ': ', $token[1], "()\n"; }
        }
    }
}
"""


def _check_php74(root: Path, php: str) -> list[Text]:
    files = [str(path) for path in sorted(root.rglob("*.php"))]
    done = subprocess.run([php, "-r", _PHP74_SCAN, "--", *files], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return [_("PHP 7.4 compatibility scan failed: {error}").format(error=(done.stderr or done.stdout).strip())]
    problems: list[Text] = []
    for line in done.stdout.splitlines():
        path, _sep, rest = line.partition(":")
        relative = Path(path).relative_to(root).as_posix()
        problems.append(_("{relative}:{rest}: not available in PHP 7.4; rewrite it for 7.4–8.3").format(
                            relative=relative, rest=rest))
    return problems


def parse_po(path: Path) -> dict[str, str]:
    """msgctxt → msgstr of a CS-Cart .po file; raises ValueError naming the line of a broken entry."""
    entries: dict[str, str] = {}
    current: dict[str, str] = {}
    field: str | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r'(msgctxt|msgid|msgstr)\s+"(.*)"', line)
        if match:
            field = match.group(1)
            if field == "msgctxt" and current:
                _close_entry(path, number, current, entries)
                current = {}
            current[field] = match.group(2)
        elif line.startswith('"') and line.endswith('"') and field:
            current[field] += line[1:-1]
        else:
            raise ValueError(
                _("{name}:{number}: unexpected line {raw!r}; expected msgctxt/msgid/msgstr \"…\"").format(
                    name=path.name, number=number, raw=raw)
            )
    if current:
        _close_entry(path, 0, current, entries)
    return entries


def _close_entry(path: Path, number: int, entry: dict[str, str], entries: dict[str, str]) -> None:
    if "msgctxt" not in entry:
        return  # the header entry
    if "msgid" not in entry or "msgstr" not in entry:
        raise ValueError(_("{name}:{number}: entry {context!r} lacks msgid or msgstr").format(
                             name=path.name, number=number, context=entry['msgctxt']))
    entries[entry["msgctxt"]] = entry["msgstr"]


def required_language_keys(root: Path, xml: ET.Element | None) -> set[str]:
    """Every msgctxt the add-on needs: add-on name/description, settings texts, and variables used in code."""
    keys = {f"Addons::name::{ADDON_ID}", f"Addons::description::{ADDON_ID}"}
    if xml is not None:
        for section in xml.iterfind("settings/sections/section"):
            keys.add(f"SettingsSections::{ADDON_ID}::{section.get('id')}")
            for item in section.iterfind("items/item"):
                keys.add(f"SettingsOptions::{ADDON_ID}::{item.get('id')}")
                for variant in item.iterfind("variants/item"):
                    keys.add(f"SettingsVariants::{ADDON_ID}::{item.get('id')}::{variant.get('id')}")
    for path in root.rglob("*.tpl"):
        keys.update(f"Languages::{name}" for name in _TEMPLATE_VAR.findall(path.read_text(encoding="utf-8")))
    for path in (root / f"app/addons/{ADDON_ID}").rglob("*.php"):
        keys.update(f"Languages::{name}" for name in _PHP_VAR.findall(path.read_text(encoding="utf-8")))
    return keys


def _check_languages(root: Path, xml: ET.Element | None) -> list[Text]:
    problems: list[Text] = []
    catalogs: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        relative = f"var/langs/{lang}/addons/{ADDON_ID}.po"
        path = root / relative
        if not path.is_file():
            problems.append(_("{relative}: missing; every text needs an {lang} translation").format(
                                relative=relative, lang=lang))
            continue
        try:
            catalogs[lang] = parse_po(path)
        except ValueError as exc:
            problems.append(verbatim(f"var/langs/{lang}/addons/{exc}"))  # exc: parse_po's catalogue text
    for key in sorted(required_language_keys(root, xml)):
        for lang, catalog in catalogs.items():
            if not catalog.get(key, "").strip():
                problems.append(
                    _("var/langs/{lang}/addons/{addon}.po: no text for {key!r}; add msgctxt/msgid/msgstr for it")
                    .format(lang=lang, addon=ADDON_ID, key=key)
                )
    if len(catalogs) == len(LANGUAGES):
        en, ja = (set(catalogs[lang]) for lang in LANGUAGES)
        for key in sorted(en ^ ja):
            only = "en" if key in en else "ja"
            problems.append(_("var/langs/*/addons/{addon}.po: {key!r} exists only in {only}; translate it").format(
                                addon=ADDON_ID, key=key, only=only))
    return problems


def check(root: Path = ADDON_ROOT, php: str = "php") -> list[Text]:
    """Every problem of the add-on tree, each naming its file (and line where known) and the fix.

    An empty list means the add-on is clean.
    """
    if shutil.which(php) is None:
        return [_("{php!r} not found on PATH; install php-cli (apt-get install php-cli) to lint the add-on").format(
                    php=php)]
    problems = _check_tree(root)
    xml, xml_problems = _read_addon_xml(root)
    problems += xml_problems
    if xml is not None:
        problems += _check_addon_xml(root, xml)
    problems += _lint_php(root, php)
    problems += _check_php74(root, php)
    problems += _check_languages(root, xml)
    return problems


# ---- build -------------------------------------------------------------------------------------


def addon_info(root: Path = ADDON_ROOT) -> AddonInfo:
    xml, problems = _read_addon_xml(root)
    if xml is None:
        raise ValidationFailed(_("cannot read addon.xml"), problems)
    return AddonInfo(
        addon_id=(xml.findtext("id") or "").strip(),
        version=(xml.findtext("version") or "").strip(),
        files=tuple(archive_members(root)),
    )


def _write_zip(root: Path, members: Iterable[str], target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (root / name).read_bytes())


def build(out_dir: Path, root: Path = ADDON_ROOT, php: str = "php") -> Path:
    """Check the add-on, then write ``smile_bridge-<version>.zip`` into ``out_dir``.

    Raise ``ValidationFailed`` (and write nothing) when the check finds problems.
    """
    problems = check(root, php)
    if problems:
        raise ValidationFailed(_("the add-on has {count} problem(s); nothing was built").format(count=len(problems)),
                               problems)
    info = addon_info(root)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{info.addon_id}-{info.version}.zip"
    partial = target.with_suffix(".zip.part")
    _write_zip(root, info.files, partial)
    partial.replace(target)  # never leave a half-written archive under the final name
    return target
