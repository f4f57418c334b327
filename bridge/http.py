"""The daemon's HTTP server: /healthz (liveness), /readyz (readiness), /metrics (Prometheus), plus edge routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bridge import metrics

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Probe:
    """Readiness = every check passes; each check returns (ok, reason)."""

    checks: dict[str, Callable[[], tuple[bool, str]]] = field(default_factory=dict)
    # liveness: a failed one makes /healthz answer 503 (a part of the process died; a restart is the remedy)
    live: dict[str, Callable[[], tuple[bool, str]]] = field(default_factory=dict)

    def alive(self) -> tuple[bool, dict[str, str]]:
        results = {name: ("ok" if ok else reason) for name, (ok, reason) in ((n, c()) for n, c in self.live.items())}
        return all(v == "ok" for v in results.values()), results

    def evaluate(self) -> tuple[bool, dict[str, str]]:
        results = {}
        ready = True
        for name, check in self.checks.items():
            ok, reason = check()
            ready = ready and ok
            results[name] = "ok" if ok else reason
        return ready, results


def build_app(probe: Probe, extra_routes: list[tuple[str, str, Handler]] | None = None) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        alive, results = probe.alive()
        if not alive:
            return web.json_response({"status": "failing", "checks": results}, status=503)
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        ready, results = probe.evaluate()
        return web.json_response({"ready": ready, "checks": results}, status=200 if ready else 503)

    async def metrics_view(_: web.Request) -> web.Response:
        response = web.Response(body=metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    for method, path, handler in extra_routes or []:
        app.router.add_route(method, path, handler)
    return app


class HttpServer:
    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self._runner = web.AppRunner(app, access_log=None)
        self.host = host
        self.port = port

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # noqa: SLF001 - the bound port when 0 was asked
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self._runner.cleanup()
