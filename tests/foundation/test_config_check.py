"""``bridge config check`` tells the truth: exit 0 only when ``bridge run`` would start healthy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge import preflight
from bridge.cli import app
from bridge.config import load_settings
from bridge.cscart.simulator import run_simulator
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "ops" / "config.example.yaml"


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\nrules_dir: {ROOT / 'rules'}\n{extra}", encoding="utf-8")
    return path


def check(path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path), *args])
    return result.exit_code, result.output


def test_example_config_is_healthy_with_jobs_left_out(tmp_path: Path, lang: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BRIDGE_RULES_DIR", str(ROOT / "rules"))
    code, output = check(EXAMPLE)
    assert code == 0, output
    expected = {"en": "CS-Cart is not configured", "ja": "CS-Cart が設定されていません"}[lang]
    assert expected in output
    assert "**********" not in output and "dispatch" not in output  # the short summary, not every setting


def test_full_prints_every_setting(tmp_path: Path) -> None:
    code, output = check(write_config(tmp_path), "--full")
    assert code == 0, output
    assert "dispatch:" in output and "retry:" in output


def test_missing_api_key_says_where_to_put_it(tmp_path: Path, lang: str) -> None:
    path = write_config(tmp_path, "cscart: {url: 'https://shop.example.jp', email: api@example.jp}\n")
    code, output = check(path)
    assert code == 2, output
    assert "BRIDGE_CSCART__API_KEY" in output and "/etc/cscart-smile-bridge/credentials/cscart_api_key" in output
    verdict = {"en": "bridge run would not start healthy", "ja": "bridge run は正常には起動しません"}[lang]
    assert verdict in output


def test_hmac_secret_only_needed_with_the_addon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_CSCART__API_KEY", "k")
    base = "cscart: {url: 'https://shop.example.jp', email: api@example.jp%s}\n"
    code, output = check(write_config(tmp_path, base % ""))
    assert code == 0, output
    code, output = check(write_config(tmp_path, base % ", addon: true"))
    assert code == 2 and "HMAC" in output and "cscart_hmac_secret" in output


def test_folder_that_is_a_file_is_an_error(tmp_path: Path, lang: str) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("not a folder")
    code, output = check(write_config(tmp_path, f"smile: {{outbox_dir: {blocker}}}\n"))
    assert code == 2, output
    assert f"{blocker}" in output and {"en": "is not a folder", "ja": "フォルダではありません"}[lang] in output


def test_bad_rules_fail_the_check(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "stock.yaml").write_text("version: 1\nguard:\n  zero_share: lots\n", encoding="utf-8")
    path = tmp_path / "config.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\nrules_dir: {rules}\n", encoding="utf-8")
    code, output = check(path)
    assert code == 2 and f"{rules / 'stock.yaml'}:3" in output


async def test_connect_signs_in_and_reports_a_refused_key(tmp_path: Path) -> None:
    async with run_simulator(products=5, users=2, orders=1, seed=3) as sim:
        good = load_settings(None, data_dir=tmp_path, cscart=sim.client_settings().model_dump(mode="python"))
        found = await preflight.connect(good)
        cscart = next(f for f in found if f.topic == "cscart")
        assert cscart.level == "ok", cscart
        bad = load_settings(None, data_dir=tmp_path, cscart={**sim.client_settings().model_dump(mode="python"),
                                                              "api_key": "wrong"})
        cscart = next(f for f in await preflight.connect(bad) if f.topic == "cscart")
        assert cscart.level == "error" and "BRIDGE_CSCART__API_KEY" in cscart.message


def test_connect_to_nothing_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_CSCART__API_KEY", "k")
    port = free_port()  # nobody listens there
    path = write_config(tmp_path, f"cscart: {{url: 'http://127.0.0.1:{port}', email: a@example.jp, timeout: 2}}\n"
                                  f"mqtt: {{host: 127.0.0.1, port: {free_port()}}}\n")
    code, output = check(path, "--connect")
    assert code == 1, output
    assert "could not reach CS-Cart" in output and "could not connect to the broker" in output


def test_example_config_daemon_is_ready(tmp_path: Path) -> None:
    """``bridge run`` with the shipped example: jobs whose system is not configured are left out in one line, and
    /readyz says ready instead of 503 for ever."""
    port = free_port()
    env = {**os.environ, "BRIDGE_DATA_DIR": str(tmp_path / "data"), "BRIDGE_RULES_DIR": str(ROOT / "rules"),
           "BRIDGE_HTTP__PORT": str(port), "BRIDGE_LOG__FORMAT": "json"}
    env.pop("NOTIFY_SOCKET", None)
    log = tmp_path / "daemon.log"
    with log.open("wb") as out:
        daemon = subprocess.Popen([sys.executable, "-m", "bridge", "run", "--config", str(EXAMPLE)], env=env,
                                  stdout=out, stderr=out, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    body = json.loads(response.read())
            except OSError:
                time.sleep(0.2)
        assert body is not None and body["ready"] is True, log.read_text()
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        skipped = [line for line in lines if line.get("event") == "daemon.jobs_not_configured"]
        assert len(skipped) == 1 and "orders" in skipped[0]["jobs"], lines
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)

