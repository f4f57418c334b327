"""``bridge addon check`` lints the smile_bridge CS-Cart add-on; ``bridge addon build`` packs its archive;
``bridge addon install|uninstall --store-root DIR`` runs CS-Cart's console on a store and verifies the result."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bridge.cli.common import CliError, console, console_err
from bridge.i18n import _
from bridge.errors import BridgeError, ValidationFailed

if TYPE_CHECKING:
    from bridge.cscart import addon_installer

DEFAULT_OUT = Path("dist")

app = typer.Typer(help=_("The smile_bridge CS-Cart add-on: lint, package, install on a store."), no_args_is_help=True)


def _report(problems: Sequence[str]) -> None:
    for problem in problems:
        console.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)


@app.command("check", help=_(
    "Lint the add-on: php -l, addon.xml, en/ja texts for every language variable, file tree; with "
    "--store-root or --cscart-version, warn when that CS-Cart version was never tested "
    "(docs/compatibility.md)."))
def check_cmd(
    php: str = typer.Option("php", "--php", help=_("PHP CLI binary used for php -l.")),
    store_root: Annotated[Path | None, typer.Option(
        "--store-root", help=_("A CS-Cart folder: warn when its version is not in docs/compatibility.md."))] = None,
    cscart_version: Annotated[str | None, typer.Option(
        "--cscart-version", help=_("The target store's CS-Cart version (e.g. 4.20.1), when its folder is elsewhere."))
    ] = None,
) -> None:
    from bridge.cscart import addon_tools, compatibility

    problems = addon_tools.check(php=php)
    if problems:
        _report(problems)
        raise CliError(_("the add-on has {count} problem(s)").format(count=len(problems)))
    info = addon_tools.addon_info()
    console.print(_("{addon} {version}: ok ({count} files)").format(
        addon=info.addon_id, version=info.version, count=len(info.files)), markup=False)
    target: compatibility.StoreVersion | None = None
    if store_root is not None:
        try:
            target = compatibility.read_store_version(store_root)
        except ValueError as exc:
            raise CliError(str(exc), exit_code=2) from None
    elif cscart_version:
        target = compatibility.StoreVersion(cscart_version.strip())
    if target is not None:
        warning = compatibility.warning(target)
        if warning:
            console_err.print(warning, markup=False, highlight=False, soft_wrap=True)
        else:
            console.print(_("{store}: tested (docs/compatibility.md)").format(
                store=f"CS-Cart {target.version} {target.edition}".rstrip()), markup=False)


@app.command("build", help=_(
    "Check the add-on, then write the installable archive (upload it in Add-ons → Manage add-ons)."))
def build_cmd(
    out: Annotated[
        Path, typer.Option("--out", help=_("Directory for smile_bridge-<version>.zip."))
    ] = DEFAULT_OUT,
    php: str = typer.Option("php", "--php", help=_("PHP CLI binary used for php -l.")),
) -> None:
    try:
        from bridge.cscart import addon_tools

        target = addon_tools.build(out, php=php)
    except ValidationFailed as exc:
        _report(exc.problems)
        raise CliError(str(exc)) from None
    console.print(str(target), markup=False)


StoreRoot = Annotated[Path, typer.Option("--store-root", help=_("The CS-Cart folder (holds admin.php and config.local.php)."))]
WebUser = Annotated[str, typer.Option("--web-user", help=_(
    "Run CS-Cart's console as this user when started as root (the web server's user; '' = as the caller)."))]


def _console(store_root: Path, web_user: str, php: str) -> addon_installer.StoreConsole:
    from bridge.cscart import addon_installer

    try:
        return addon_installer.StoreConsole(store_root, web_user=web_user, php=php)
    except BridgeError as exc:
        raise CliError(str(exc), exit_code=2) from None


def _finish(action: str, run: Callable[[], addon_installer.Outcome]) -> None:
    from bridge.cscart import addon_installer, addon_schema, compatibility

    try:
        outcome = run()
    except addon_installer.InstallFailed as exc:
        if exc.console_output:
            console.print(_("CS-Cart's console said:"), markup=False)
            _report(exc.console_output.splitlines()[-12:])
        _report(exc.problems)
        raise CliError(str(exc)) from None
    except BridgeError as exc:
        raise CliError(str(exc)) from None
    for note in outcome.notes:
        console.print(note, markup=False, highlight=False, soft_wrap=True)
    report = outcome.report
    if action == "install":
        warning = compatibility.warning(compatibility.StoreVersion(report.product_version, report.product_edition))
        if warning:
            console_err.print(warning, markup=False, highlight=False, soft_wrap=True)
        letters = ", ".join(f"{status.ja} {report.params.get('status.' + status.key, '?')}"
                            for status in addon_schema.STATUSES)
        console.print(_("smile_bridge {version} installed and verified on CS-Cart {store_version} {edition}: active, "
                        "tables, columns, statuses ({letters})").format(
            version=report.addon["version"] if report.addon else "?", store_version=report.product_version,
            edition=report.product_edition, letters=letters), markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(_("smile_bridge uninstalled and verified: add-on row, tables and columns removed"),
                      markup=False, highlight=False, soft_wrap=True)


@app.command("install", help=_(
    "Copy the add-on into the store, install it with CS-Cart's console, then verify the store's "
    "database.\n\nCS-Cart's console exits 0 even when the install fails; this command exits 1 naming "
    "what is missing."))
def install_cmd(
    store_root: StoreRoot,
    web_user: WebUser = "www-data",
    source: Annotated[Path | None, typer.Option(
        "--from", help=_("The add-on tree to install (default: the one shipped with the bridge)."))] = None,
    php: str = typer.Option("php", "--php", help=_("PHP CLI binary of the store.")),
) -> None:
    from bridge.cscart import addon_installer, addon_tools

    store = _console(store_root, web_user, php)
    _finish("install", lambda: addon_installer.install(store, source or addon_tools.ADDON_ROOT))


@app.command("uninstall", help=_(
    "Uninstall the add-on with CS-Cart's console, then verify that its tables and columns are gone."))
def uninstall_cmd(
    store_root: StoreRoot,
    web_user: WebUser = "www-data",
    php: str = typer.Option("php", "--php", help=_("PHP CLI binary of the store.")),
) -> None:
    from bridge.cscart import addon_installer

    store = _console(store_root, web_user, php)
    _finish("uninstall", lambda: addon_installer.uninstall(store))
