"""``bridge simulator``: run the CS-Cart simulator standalone (demo, manual testing, benchmarks)."""

from __future__ import annotations

import asyncio

import typer

from bridge.cli.common import EXIT_FAILED, CliError, console
from bridge.i18n import N_, _

HELP = N_("Run a seeded CS-Cart simulator (REST API 2.1 with CS-Cart's quirks) until Ctrl-C.")


def simulator(
    host: str = typer.Option("127.0.0.1", help=_("Bind address.")),
    port: int = typer.Option(8080, min=0, max=65535, help=_("Port; 0 picks a free one.")),
    products: int = typer.Option(1000, min=0, help=_("Seeded products.")),
    users: int = typer.Option(100, min=0, help=_("Seeded customers.")),
    orders: int = typer.Option(200, min=0, help=_("Seeded historical orders.")),
    seed: int = typer.Option(1, help=_("Seed: the same seed gives the same store.")),
    email: str = typer.Option("admin@example.jp", help=_("Admin e-mail accepted for HTTP Basic.")),
    api_key: str = typer.Option("sim-api-key", help=_("API key accepted for HTTP Basic.")),
    latency_ms: float = typer.Option(0.0, min=0, help=_("Latency added to every API request (ms).")),
    latency_jitter_ms: float = typer.Option(0.0, min=0, help=_("Plus a uniform random share up to this (ms).")),
    write_latency_ms: float = typer.Option(0.0, min=0, help=_("Extra latency on writes, ms (a real store: about 85).")),
    error_rate: float = typer.Option(0.0, min=0, max=1, help=_("Share of API requests answered with 500 (0 to 1).")),
    page_size: int = typer.Option(50, min=1, help=_("Default items_per_page (CS-Cart's admin_elements_per_page).")),
    addon: bool = typer.Option(False, "--addon", help=_("Install the smile_bridge add-on (docs/addon.md).")),
    daemon_url: str = typer.Option("", help=_("With --addon: the bridge the add-on wakes (<URL>/hooks/cscart).")),
    hmac_secret: str = typer.Option("", help=_("With --addon: the wake-up's HMAC secret (cscart.hmac_secret).")),
) -> None:
    """Run a seeded CS-Cart simulator (REST API 2.1 with CS-Cart's quirks) until Ctrl-C."""
    from bridge.cscart.simulator import FaultConfig, FaultRule, SimSettings, run_simulator

    faults = FaultConfig(latency_ms=latency_ms, latency_jitter_ms=latency_jitter_ms,
                         write_latency_ms=write_latency_ms, seed=seed,
                         rules=[FaultRule(kind="error", rate=error_rate)] if error_rate else [])
    settings = SimSettings(email=email, api_key=api_key, admin_elements_per_page=page_size)

    async def serve() -> None:
        try:
            async with run_simulator(products=products, users=users, orders=orders, seed=seed, host=host,
                                     port=port, settings=settings, faults=faults, addon=addon,
                                     daemon_url=daemon_url, hmac_secret=hmac_secret) as sim:
                started = _("CS-Cart simulator on {url}/api/2.1/  (user {email}, key {api_key}); {products} products, "
                            "{users} customers, {orders} orders, smile_bridge add-on installed. Ctrl-C stops it."
                            ) if addon else _(
                    "CS-Cart simulator on {url}/api/2.1/  (user {email}, key {api_key}); {products} products, "
                    "{users} customers, {orders} orders. Ctrl-C stops it.")
                console.print(started.format(url=sim.url, email=email, api_key=api_key, products=products,
                                             users=users, orders=orders), markup=False, highlight=False)
                await asyncio.Event().wait()
        except OSError as exc:
            raise CliError(_("cannot listen on {host}:{port}: {reason}").format(
                host=host, port=port, reason=exc.strerror or exc), exit_code=EXIT_FAILED) from None

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        console.print(_("simulator stopped"))
