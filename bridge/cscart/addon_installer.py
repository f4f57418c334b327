"""``bridge addon install|uninstall --store-root DIR``: put the add-on into a CS-Cart tree, run CS-Cart's console
installer as the web user, then check the store's database for what the install must have done.

CS-Cart's console (``php admin.php -p --dispatch=addons.install --addon=…``) exits 0 even when the install failed
half-way, and prints nothing when the add-on is already installed. So the exit code is never trusted: after the
console, a small PHP program bootstraps the same store (its ``init.php``, as the console does) and reports the
add-on's row, version, tables, columns, params and order statuses as JSON; ``install_problems`` /
``uninstall_problems`` compare that with ``addon_schema``.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.cscart import addon_schema as schema
from bridge.cscart.addon_tools import ADDON_ID, ADDON_ROOT, addon_info, archive_members
from bridge.errors import BridgeError
from bridge.i18n import Text, _

CONSOLE_TIMEOUT = 300.0
REPORT_MARK = "@@SMILE_BRIDGE_VERIFY@@"
SUCCESS_INSTALL = "has been installed successfully"
SUCCESS_UNINSTALL = "has been uninstalled"

# Runs inside the store (cwd = its root) with CS-Cart bootstrapped exactly as admin.php does it.
_REPORT_PHP = r"""
define('AREA', 'A');
define('ACCOUNT_TYPE', 'admin');
require getcwd() . '/init.php';
$addon = $argv[1];
$tables = json_decode($argv[2], true);
$prefix = (string) \Tygh\Registry::get('config.table_prefix');
$out = ['addon' => db_get_row('SELECT status, version FROM ?:addons WHERE addon = ?s', $addon) ?: null,
        'tables' => [], 'columns' => [], 'params' => [], 'statuses' => [], 'orders_by_status' => []];
foreach ($tables as $table) {
    $out['tables'][$table] = (bool) db_get_field('SHOW TABLES LIKE ?s', $prefix . $table);
}
foreach (['users', 'products', 'orders'] as $table) {
    $out['columns'][$table] = array_values(array_filter(db_get_fields('SHOW COLUMNS FROM ?:' . $table),
        static function ($column) { return strpos($column, 'smile_') === 0; }));
}
if ($out['tables']['smile_bridge_params'] ?? false) {
    $out['params'] = (object) db_get_hash_single_array('SELECT name, value FROM ?:smile_bridge_params', ['name', 'value']);
}
foreach (db_get_array('SELECT s.status, d.lang_code, d.description FROM ?:statuses AS s'
    . ' INNER JOIN ?:status_descriptions AS d ON d.status_id = s.status_id WHERE s.type = ?s', STATUSES_ORDER) as $row) {
    $out['statuses'][$row['status']][$row['lang_code']] = $row['description'];
}
$out['orders_by_status'] = (object) db_get_hash_single_array(
    'SELECT status, COUNT(*) AS n FROM ?:orders GROUP BY status', ['status', 'n']);
$out['languages'] = db_get_fields('SELECT lang_code FROM ?:languages');
$out['product_version'] = PRODUCT_VERSION;
$out['product_edition'] = PRODUCT_EDITION;
echo "\n", '@@SMILE_BRIDGE_VERIFY@@', json_encode($out, JSON_UNESCAPED_UNICODE), "\n";
"""


class InstallFailed(BridgeError):
    """The console ran, but the store is not in the state it must be in; ``problems`` says what is missing."""

    def __init__(self, message: str, problems: Sequence[str], console_output: str = "") -> None:
        super().__init__(message)
        self.problems = list(problems)
        self.console_output = console_output


@dataclass(frozen=True, slots=True)
class StoreReport:
    """The store's add-on state as ``_REPORT_PHP`` read it."""

    addon: Mapping[str, str] | None
    tables: Mapping[str, bool]
    columns: Mapping[str, Sequence[str]]
    params: Mapping[str, str]
    statuses: Mapping[str, Mapping[str, str]]  # letter → lang_code → name
    orders_by_status: Mapping[str, int]
    languages: Sequence[str]
    product_version: str = ""
    product_edition: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoreReport:
        return cls(
            addon=data.get("addon") or None,
            tables={str(k): bool(v) for k, v in (data.get("tables") or {}).items()},
            columns={str(k): list(v) for k, v in (data.get("columns") or {}).items()},
            params={str(k): str(v) for k, v in (data.get("params") or {}).items()},
            statuses={str(k): {str(lang): str(name) for lang, name in v.items()}
                      for k, v in (data.get("statuses") or {}).items()},
            orders_by_status={str(k): int(v) for k, v in (data.get("orders_by_status") or {}).items()},
            languages=[str(lang) for lang in data.get("languages") or []],
            product_version=str(data.get("product_version") or ""),
            product_edition=str(data.get("product_edition") or ""),
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    action: str  # install | uninstall
    console_output: str
    report: StoreReport
    notes: list[Text] = field(default_factory=list)


def install_problems(report: StoreReport, version: str, *, inactive: bool = True) -> list[Text]:
    """Everything a finished install must have left in the store and did not; empty = installed and complete.
    ``inactive=False`` leaves out the one problem of an add-on that is complete but switched off."""
    problems: list[Text] = []
    if report.addon is None:
        problems.append(_("the add-on {addon} is not installed (no row in the add-ons table)").format(
                            addon=ADDON_ID))
    else:
        if report.addon.get("status") != "A" and inactive:
            problems.append(_("the add-on is installed but not active (status {value!r}, expected 'A'): the install "
                              "stopped "
                              "part-way; see the console output above").format(value=report.addon.get('status')))
        if report.addon.get("version") != version:
            problems.append(_("the store has version {value!r} of the add-on, expected {version!r}").format(
                                value=report.addon.get('version'), version=version))
    for table in schema.TABLES:
        if not report.tables.get(table):
            problems.append(_("table {table} is missing").format(table=table))
    for table, columns in schema.COLUMNS.items():
        present = set(report.columns.get(table, ()))
        missing = [column for column in columns if column not in present]
        if missing:
            problems.append(_("{table}: column(s) {items} missing").format(table=table, items=', '.join(missing)))
    problems += _status_problems(report)
    return problems


def _status_problems(report: StoreReport) -> list[Text]:
    problems: list[Text] = []
    for status in schema.STATUSES:
        letter = report.params.get(f"status.{status.key}", "")
        if not (len(letter) == 1 and "A" <= letter <= "Z"):
            problems.append(_("status {ja} ({key}): no letter recorded in smile_bridge_params").format(
                                ja=status.ja, key=status.key))
            continue
        names = report.statuses.get(letter)
        if names is None:
            problems.append(_("status {ja} ({key}): letter {letter} is recorded, but the store has no order status "
                              "{letter}").format(
                                ja=status.ja, key=status.key, letter=letter))
            continue
        for lang in report.languages:
            expected = status.ja if lang == "ja" else status.en
            if names.get(lang) != expected:
                problems.append(_("status {letter}: its {lang} name is {value!r}, expected {expected!r}").format(
                                    letter=letter, lang=lang, value=names.get(lang), expected=expected))
        twins = sorted(other for other, other_names in report.statuses.items()
                       if other != letter and status.ja in (other_names.get("ja"), other_names.get("en")))
        if twins:
            problems.append(_("status {ja} exists twice: {letter} (the add-on's) and {items}; orders may use either; "
                              "merge "
                              "them by hand").format(ja=status.ja, letter=letter, items=', '.join(twins)))
    return problems


def uninstall_problems(report: StoreReport, before: StoreReport | None = None) -> list[Text]:
    """What a finished uninstall must have removed and did not. Statuses orders still use stay (documented)."""
    problems: list[Text] = []
    if report.addon is not None:
        problems.append(_("the add-on {addon} is still installed (status {value!r})").format(
                            addon=ADDON_ID, value=report.addon.get('status')))
    for table in schema.UNINSTALL_DROPS:
        if report.tables.get(table):
            problems.append(_("table {table} is still there").format(table=table))
    for table, columns in schema.COLUMNS.items():
        left = [column for column in columns if column in set(report.columns.get(table, ()))]
        if left:
            problems.append(_("{table}: column(s) {items} still there").format(table=table, items=', '.join(left)))
    if before is not None:
        for status in schema.STATUSES:
            letter = before.params.get(f"status.{status.key}", "")
            if letter and letter in report.statuses and report.orders_by_status.get(letter, 0) == 0:
                problems.append(_("status {letter} ({ja}) is still there although no order uses it").format(
                                    letter=letter, ja=status.ja))
    return problems


def kept_statuses(report: StoreReport, before: StoreReport) -> list[str]:
    """The add-on's statuses the uninstall kept because orders use them (for the operator's information)."""
    kept = []
    for status in schema.STATUSES:
        letter = before.params.get(f"status.{status.key}", "")
        if letter and letter in report.statuses:
            kept.append(f"{letter} {status.ja} ({report.orders_by_status.get(letter, 0)} order(s))")
    return kept


def console_errors(output: str) -> list[str]:
    """Lines of the console's output that report a failure (CS-Cart exits 0 anyway)."""
    return [line.strip() for line in output.splitlines()
            if line.strip().startswith(("Error:", "[Error]", "PHP Fatal error", "Fatal error", "PHP Warning"))]


class StoreConsole:
    """One CS-Cart tree and the way to run PHP in it as the web server's user."""

    def __init__(self, store_root: Path, *, web_user: str = "www-data", php: str = "php") -> None:
        self.root = store_root.resolve()
        self.web_user = web_user
        self.php = php
        problems = [_("{root}/{name} not found").format(root=self.root, name=name)
                    for name in ("admin.php", "init.php", "config.local.php") if not (self.root / name).is_file()]
        if problems:
            raise BridgeError(_("{root} is not a CS-Cart store root ({items}); pass the folder that holds admin.php "
                                "and "
                                "config.local.php").format(root=self.root, items='; '.join(problems)))
        if shutil.which(php) is None:
            raise BridgeError(_("{php!r} not found on PATH; install the PHP CLI the store uses").format(php=php))

    def _as_web_user(self, argv: list[str]) -> list[str]:
        if not self.web_user or os.geteuid() != 0:
            return argv  # already the web user (or told to run as the caller)
        try:
            pwd.getpwnam(self.web_user)
        except KeyError:
            raise BridgeError(_("web user {web_user!r} does not exist; pass --web-user").format(
                                  web_user=self.web_user)) from None
        return ["runuser", "-u", self.web_user, "--", *argv]

    def run(self, argv: list[str], timeout: float = CONSOLE_TIMEOUT) -> tuple[int, str]:
        try:
            done = subprocess.run(self._as_web_user(argv), cwd=self.root, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise BridgeError(_("{items} did not finish within {timeout:g} s").format(
                                  items=' '.join(argv), timeout=timeout)) from None
        return done.returncode, (done.stdout + done.stderr).strip()

    def dispatch(self, dispatch: str, **params: str) -> tuple[int, str]:
        argv = [self.php, "admin.php", "-p", f"--dispatch={dispatch}", *(f"--{k}={v}" for k, v in params.items())]
        return self.run(argv)

    def report(self) -> StoreReport:
        code, output = self.run([self.php, "-r", _REPORT_PHP, "--", ADDON_ID, json.dumps(list(schema.TABLES))])
        marker = output.rfind(REPORT_MARK)
        if marker < 0:
            raise BridgeError(_("could not read the store's state (php exit {code}): {value}").format(
                                  code=code, value=output[-800:]))
        line = output[marker + len(REPORT_MARK):].splitlines()[0]
        return StoreReport.from_json(json.loads(line))

    def copy_addon(self, source: Path) -> int:
        """Copy the add-on's files into the tree, owned like the tree's app/addons folder. Returns the file count."""
        members = archive_members(source)
        owner = (self.root / "app" / "addons").stat()
        for name in members:
            target = self.root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, target)
            if os.geteuid() == 0:
                for path in [target, *[p for p in target.parents if self.root in p.parents]]:
                    os.chown(path, owner.st_uid, owner.st_gid)
        cache = self.root / "var" / "cache"
        if cache.is_dir():  # compiled templates and the add-on scheme cache of the old files
            for entry in cache.iterdir():
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        return len(members)


def install(console: StoreConsole, source: Path = ADDON_ROOT) -> Outcome:
    """Copy, install with CS-Cart's console, verify. Raises ``InstallFailed`` naming every missing piece."""
    version = addon_info(source).version
    copied = console.copy_addon(source)
    notes = [_("{copied} files copied into {root}").format(copied=copied, root=console.root)]
    before = console.report()
    if before.addon is not None and before.addon.get("status") != "A":
        if install_problems(before, version, inactive=False):
            # A failed install leaves the add-on disabled with half its pieces, and the console then answers a
            # second install with silence: take the broken one out first (statuses orders use stay and are reused).
            console.dispatch("addons.uninstall", addon=ADDON_ID)
            notes.append(_("the add-on was installed incompletely (version {value}, status {value2}); uninstalled it "
                           "first").format(
                             value=before.addon.get('version'), value2=before.addon.get('status')))
        else:
            console.dispatch("addons.update_status", id=ADDON_ID, status="A")
            notes.append(_("the add-on was installed but disabled; enabled it"))
    _code, output = console.dispatch("addons.install", addon=ADDON_ID)
    report = console.report()
    problems = install_problems(report, version)
    errors = console_errors(output)
    if errors and problems:
        problems = [_("CS-Cart's console: {line}").format(line=line) for line in errors] + problems
    if problems:
        raise InstallFailed(_("the add-on {addon} {version} is not installed correctly").format(
                                addon=ADDON_ID, version=version), problems, output)
    if SUCCESS_INSTALL not in output:
        notes.append(_("CS-Cart's console printed no success notice (the add-on was installed already); the store's "
                       "state was checked and is complete"))
    return Outcome("install", output, report, notes)


def uninstall(console: StoreConsole) -> Outcome:
    before = console.report()
    if before.addon is None:
        raise InstallFailed(_("the add-on {addon} is not installed on this store; nothing to uninstall").format(
                                addon=ADDON_ID), [])
    _code, output = console.dispatch("addons.uninstall", addon=ADDON_ID)
    report = console.report()
    problems = uninstall_problems(report, before)
    if problems:
        errors = [_("CS-Cart's console: {line}").format(line=line) for line in console_errors(output)]
        raise InstallFailed(_("the add-on {addon} is not uninstalled cleanly").format(addon=ADDON_ID),
                            errors + problems, output)
    kept = kept_statuses(report, before)
    notes = [_("kept statuses still used by orders: {items} (a reinstall reuses them)").format(
        items=", ".join(kept))] if kept else []
    return Outcome("uninstall", output, report, notes)
