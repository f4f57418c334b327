"""``bridge simulator``: run the CS-Cart simulator standalone (demo, manual testing, benchmarks)."""

from __future__ import annotations

import asyncio

import typer

from bridge.cli.common import CliError, console


def simulator(
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(8080, min=0, max=65535, help="Port; 0 picks a free one."),
    products: int = typer.Option(1000, min=0, help="Seeded products."),
    users: int = typer.Option(100, min=0, help="Seeded customers."),
    orders: int = typer.Option(200, min=0, help="Seeded historical orders."),
    seed: int = typer.Option(1, help="Seed: the same seed gives the same store."),
    email: str = typer.Option("admin@example.jp", help="Admin e-mail accepted for HTTP Basic."),
    api_key: str = typer.Option("sim-api-key", help="API key accepted for HTTP Basic."),
    latency_ms: float = typer.Option(0.0, min=0, help="Latency added to every API request."),
    latency_jitter_ms: float = typer.Option(0.0, min=0, help="Plus a uniform random share up to this."),
    write_latency_ms: float = typer.Option(0.0, min=0, help="Extra latency on writes (a real store: about 85)."),
    error_rate: float = typer.Option(0.0, min=0, max=1, help="Share of API requests answered with 500."),
    page_size: int = typer.Option(50, min=1, help="Default items_per_page (CS-Cart's admin_elements_per_page)."),
    addon: bool = typer.Option(False, "--addon", help="Install the smile_bridge add-on (docs/addon.md)."),
    daemon_url: str = typer.Option("", help="With --addon: the bridge the add-on wakes (<URL>/hooks/cscart)."),
    hmac_secret: str = typer.Option("", help="With --addon: the wake-up's HMAC secret (cscart.hmac_secret)."),
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
                console.print(f"CS-Cart simulator on {sim.url}/api/2.1/  (user {email}, key {api_key}); "
                              f"{products} products, {users} users, {orders} orders"
                              f"{', smile_bridge add-on installed' if addon else ''}. Ctrl-C stops it.",
                              markup=False, highlight=False)
                await asyncio.Event().wait()
        except OSError as exc:
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        console.print("stopped")
