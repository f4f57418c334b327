"""``bridge run``: the daemon (systemd ``Type=notify``)."""

from __future__ import annotations

from bridge.cli.common import ConfigOption, run_async, settings_or_exit
from bridge.i18n import N_

HELP = N_("Run the daemon: sync jobs on their intervals, dispatch the outbox, serve /metrics /healthz /readyz.")


def run(config: ConfigOption = None) -> None:
    """Run the daemon: sync jobs on their intervals, dispatch the outbox, serve /metrics /healthz /readyz."""
    from bridge.config import load_settings
    from bridge.daemon import Daemon
    from bridge.logging import configure

    settings = settings_or_exit(config)
    configure(settings.log.level, settings.log.format)
    # SIGHUP (and, while CS-Cart refuses the key, a minute-ly look) reads the settings again for new credentials
    run_async(Daemon(settings, reload_settings=lambda: load_settings(config)).run_until_stopped())
