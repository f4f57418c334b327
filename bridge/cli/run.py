"""``bridge run``: the daemon (systemd ``Type=notify``)."""

from __future__ import annotations

from bridge.cli.common import ConfigOption, run_async, settings_or_exit


def run(config: ConfigOption = None) -> None:
    """Run the daemon: sync jobs on their intervals, dispatch the outbox, serve /metrics /healthz /readyz."""
    from bridge.daemon import Daemon
    from bridge.logging import configure

    settings = settings_or_exit(config)
    configure(settings.log.level, settings.log.format)
    run_async(Daemon(settings).run_until_stopped())
