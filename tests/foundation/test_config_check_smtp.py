"""``bridge config check --connect`` tries the SMTP server of ``mail.*`` (a real aiosmtpd on 127.0.0.1): it connects
and signs in, sends nothing, and names the server, the setting and the fix when that fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from typer.testing import CliRunner

from bridge import preflight
from bridge.cli import app
from bridge.config import load_settings
from tests.analytics.smtp import Inbox
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"bridge", b"s3cret")
    return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_server(auth: bool) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    options: dict[str, Any] = {"authenticator": _authenticator, "auth_require_tls": False} if auth else {}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def smtp_finding(tmp_path: Path, **mail: Any) -> preflight.Finding:
    import asyncio

    settings = load_settings(None, data_dir=tmp_path, mail=mail)
    found = asyncio.run(preflight.connect(settings, timeout=10))
    return next(f for f in found if f.topic == "smtp")


def test_off_when_no_smtp_host(tmp_path: Path) -> None:
    finding = smtp_finding(tmp_path)
    assert finding.level == "ok" and "mail.smtp_host is empty" in finding.message


def test_a_plain_server_answers_and_nothing_is_sent(tmp_path: Path) -> None:
    with smtp_server(auth=False) as (inbox, port):
        finding = smtp_finding(tmp_path, smtp_host="127.0.0.1", smtp_port=port, staff=["ops@example.jp"])
    assert finding.level == "ok", finding
    assert f"127.0.0.1:{port} answers" in finding.message and "ops@example.jp" in finding.message
    assert inbox.messages == []


def test_empty_staff_is_a_warning(tmp_path: Path) -> None:
    with smtp_server(auth=False) as (_inbox, port):
        finding = smtp_finding(tmp_path, smtp_host="127.0.0.1", smtp_port=port)
    assert finding.level == "warning" and "mail.staff is empty" in finding.message


def test_sign_in_accepted_and_refused(tmp_path: Path) -> None:
    with smtp_server(auth=True) as (_inbox, port):
        good = smtp_finding(tmp_path, smtp_host="127.0.0.1", smtp_port=port, username="bridge", password="s3cret",
                            staff=["ops@example.jp"])
        bad = smtp_finding(tmp_path, smtp_host="127.0.0.1", smtp_port=port, username="bridge", password="wrong",
                           staff=["ops@example.jp"])
    assert good.level == "ok" and "signed in as bridge" in good.message, good
    assert bad.level == "error", bad
    assert "refused mail.username bridge" in bad.message and "BRIDGE_MAIL__PASSWORD" in bad.message


def test_starttls_against_a_server_without_it_says_which_setting(tmp_path: Path) -> None:
    with smtp_server(auth=False) as (_inbox, port):
        finding = smtp_finding(tmp_path, smtp_host="127.0.0.1", smtp_port=port, starttls=True,
                               staff=["ops@example.jp"])
    assert finding.level == "error" and "mail.starttls" in finding.message, finding


def test_cli_exits_1_when_the_smtp_server_is_not_there(tmp_path: Path, lang: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_CSCART__API_KEY", "k")
    path = tmp_path / "config.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\nrules_dir: {ROOT / 'rules'}\n"
                    f"mail: {{smtp_host: 127.0.0.1, smtp_port: {free_port()}, staff: [ops@example.jp], timeout: 3}}\n",
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path), "--connect"])
    assert result.exit_code == 1, result.output
    expected = "could not connect to the SMTP server" if lang == "en" else "SMTP サーバー"
    assert expected in result.output
