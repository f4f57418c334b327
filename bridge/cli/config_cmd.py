"""``bridge config check``: would ``bridge run`` start healthy? Settings, rules, folders; ``--connect`` tries the
outside systems; a short summary by default, ``--full`` prints every setting (secrets masked).

Exit codes (docs/operations.md): 0 it would start healthy, 2 the settings/rules/folders are wrong, 1 a connection
that ``--connect`` tried failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from bridge.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, ConfigOption, console, run_async, settings_or_exit
from bridge.i18n import _

if TYPE_CHECKING:
    from bridge.config import Settings

app = typer.Typer(help=_("Inspect the settings."), no_args_is_help=True)

MARKS = {"ok": "✓", "warning": "!", "error": "✗"}


@app.command("check", help=_(
    "Check that bridge run would start healthy: settings, rules, folders and what the enabled jobs need. "
    "Exit 0 only then; 2 when something must be fixed; 1 when --connect could not reach a system."))
def check(
    config: ConfigOption = None,
    connect: bool = typer.Option(False, "--connect", help=_(
        "Also try the connections: CS-Cart sign-in and add-on, MQTT broker, SMTP server (mail.*).")),
    full: bool = typer.Option(False, "--full", help=_("Print every setting (secrets masked), not just the summary.")),
) -> None:
    from bridge import preflight
    from bridge.config import masked, resolve_config_path

    settings = settings_or_exit(config)
    source = resolve_config_path(config)
    console.print(_("Settings: {source} + BRIDGE_* environment").format(
        source=source or _("built-in defaults")), highlight=False, markup=False)
    if full:
        from bridge.config import dump_yaml

        console.print(dump_yaml(masked(settings)), highlight=False, markup=False)
    else:
        from rich.cells import cell_len, set_cell_size

        rows = summary(settings)
        width = max(cell_len(label) for label, _value in rows) + 2
        for label, value in rows:
            console.print(f"  {set_cell_size(label, width)}{value}", highlight=False, markup=False)
    findings = preflight.check(settings, source)
    failed_connection = False
    if connect and not any(f.level == "error" for f in findings):
        connected = run_async(preflight.connect(settings))
        failed_connection = any(f.level == "error" for f in connected)
        findings += connected
    console.print()
    for finding in findings:
        console.print(f"{MARKS[finding.level]} {finding}", highlight=False, markup=False, soft_wrap=True)
    errors = sum(1 for f in findings if f.level == "error")
    if errors:
        console.print(_("bridge run would not start healthy: {count} problem(s) above (✗)").format(count=errors),
                      highlight=False, markup=False)
        # connections are tried only when the static checks pass, so an error then is a failed connection
        raise typer.Exit(EXIT_FAILED if failed_connection else EXIT_BAD_INPUT)
    console.print(_("bridge run would start healthy.") if connect else
                  _("bridge run would start healthy (connections not tried; add --connect)."),
                  highlight=False, markup=False)


def summary(settings: Settings) -> list[tuple[str, str]]:
    """The dozen settings an operator asks about first."""
    cscart, dirs = settings.cscart, settings.smile.dirs(settings.data_dir)

    def secret(value: object) -> str:
        return _("set") if value else _("missing")

    from bridge.preflight import unconfigured_jobs

    skipped = unconfigured_jobs(settings)
    enabled = [name for name, job in settings.jobs.items() if job.enabled and name not in skipped]
    return [
        (_("language / time zone"), f"{settings.ui.language} / {settings.ui.timezone}"),
        ("data_dir", str(settings.data_dir)),
        ("state_file", str(settings.state_path)),
        ("rules_dir", str(settings.rules_dir)),
        ("cscart.url", cscart.url or _("(not set)")),
        ("cscart.email", cscart.email or _("(not set)")),
        (_("CS-Cart API key"), secret(cscart.api_key and cscart.api_key.get_secret_value())),
        (_("add-on / HMAC secret"), f"{_('on') if cscart.addon else _('off')} / {secret(cscart.hmac_secret)}"),
        ("smile.inbox_dir", str(dirs.inbox)),
        ("smile.outbox_dir", str(dirs.outbox)),
        ("mqtt.host", settings.mqtt.host or _("(off)")),
        ("http", f"{settings.http.host}:{settings.http.port}"),
        (_("jobs that would run"), ", ".join(enabled) or _("none")),
        ("log", f"{settings.log.level} {settings.log.format}"),
    ]
