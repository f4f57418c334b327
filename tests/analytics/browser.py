"""Headless Chromium over the DevTools protocol: open a page, collect console errors and exceptions, measure the
charts' drawn marks, save a screenshot. Used by the rendering tests (Debian package ``chromium``)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CHART_PROBE = """
JSON.stringify([...document.querySelectorAll('svg.chart')].map(svg => {
  const marks = [...svg.querySelectorAll('.mark')].filter(m => {
    const box = m.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && Number.isFinite(parseFloat(m.dataset.value));
  });
  const box = svg.getBoundingClientRect();
  return {id: svg.id, marks: marks.length, width: box.width, height: box.height,
          nonzero: marks.filter(m => parseFloat(m.dataset.value) !== 0).length};
}))
"""
FONT_PROBE = "document.fonts.check('16px IPAGothic') || document.fonts.check('16px \"Noto Sans CJK JP\"')"


@dataclass
class PageCheck:
    errors: list[str] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    screenshot: Path | None = None
    title: str = ""
    # CSS.getPlatformFontsForNode of each selector asked for: the fonts that actually drew its text
    fonts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faces: list[str] = field(default_factory=list)  # document.fonts once ready: "family:status"


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


async def check_page(url: str, screenshot: Path, timeout: float = 60.0,
                     font_selectors: tuple[str, ...] = ()) -> PageCheck:
    binary = chromium()
    assert binary, "Debian package chromium is not installed (apt-get install chromium)"
    profile = tempfile.mkdtemp(prefix="chromium-")
    process = await asyncio.create_subprocess_exec(
        binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
        "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", f"--user-data-dir={profile}",
        "--window-size=1200,1600", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        return await asyncio.wait_for(_drive(process, url, screenshot, font_selectors), timeout)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        shutil.rmtree(profile, ignore_errors=True)


async def _drive(process: asyncio.subprocess.Process, url: str, screenshot: Path,
                 font_selectors: tuple[str, ...] = ()) -> PageCheck:
    assert process.stderr is not None
    port = None
    while port is None:
        line = (await process.stderr.readline()).decode(errors="replace")
        if not line:
            raise RuntimeError("chromium exited before DevTools listened")
        found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
        if found:
            port = int(found.group(1))
    asyncio.get_running_loop().create_task(_drain(process.stderr))
    result = PageCheck()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page = next(t for t in targets if t.get("type") == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            ids = iter(range(1, 10_000))
            pending: dict[int, asyncio.Future[Any]] = {}
            loaded = asyncio.Event()

            async def reader() -> None:
                async for message in ws:
                    data = json.loads(message.data)
                    if "id" in data and data["id"] in pending:
                        pending.pop(data["id"]).set_result(data)
                    method = data.get("method")
                    params = data.get("params", {})
                    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                        result.errors.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                                                     for a in params.get("args", [])))
                    elif method == "Runtime.exceptionThrown":
                        result.errors.append("exception: " + params["exceptionDetails"].get("text", ""))
                    elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                        result.errors.append("log: " + params["entry"].get("text", ""))
                    elif method == "Page.loadEventFired":
                        loaded.set()

            task = asyncio.get_running_loop().create_task(reader())

            async def call(method: str, **params: Any) -> Any:
                number = next(ids)
                future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                pending[number] = future
                await ws.send_str(json.dumps({"id": number, "method": method, "params": params}))
                answer = await future
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

            for domain in ("Runtime", "Log", "Page"):
                await call(f"{domain}.enable")
            await call("Page.navigate", url=url)
            await loaded.wait()
            await asyncio.sleep(0.3)  # late console messages
            probe = await call("Runtime.evaluate", expression=CHART_PROBE, returnByValue=True)
            result.charts = json.loads(probe["result"]["value"])
            title = await call("Runtime.evaluate", expression="document.title", returnByValue=True)
            result.title = title["result"]["value"]
            faces = await call("Runtime.evaluate", awaitPromise=True, returnByValue=True, expression=(
                "document.fonts.ready.then(() => [...document.fonts].map(f => f.family + ':' + f.status))"))
            result.faces = faces["result"]["value"]
            if font_selectors:
                await call("DOM.enable")
                await call("CSS.enable")
                root = (await call("DOM.getDocument", depth=-1))["root"]["nodeId"]
                for selector in font_selectors:
                    node = (await call("DOM.querySelector", nodeId=root, selector=selector))["nodeId"]
                    used = await call("CSS.getPlatformFontsForNode", nodeId=node) if node else {"fonts": []}
                    result.fonts[selector] = used["fonts"]
            shot = await call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            result.screenshot = screenshot
            task.cancel()
    return result


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass
