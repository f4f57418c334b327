"""What ``bridge run`` needs before it can start healthy, checked without starting it (``bridge config check``).

``check`` looks at the settings, the rules and the folders; ``connect`` tries the outside systems. Each finding is
``ok``, ``warning`` (runs, but not all of it) or ``error`` (would not start, or would fail every run). The daemon uses
``unconfigured_jobs`` to leave out, with one start-up line, the jobs whose system is not configured at all.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bridge.config import Settings
from bridge.i18n import N_, _

Level = Literal["ok", "warning", "error"]

API_KEY_WHERE = N_("BRIDGE_CSCART__API_KEY in the environment (systemd: EnvironmentFile=), or the file "
                   "/etc/cscart-smile-bridge/credentials/cscart_api_key (the unit loads it with LoadCredential=)")
HMAC_WHERE = N_("BRIDGE_CSCART__HMAC_SECRET in the environment, or the file "
                "/etc/cscart-smile-bridge/credentials/cscart_hmac_secret (LoadCredential=)")


@dataclass(frozen=True, slots=True)
class Finding:
    level: Level
    topic: str  # cscart, smile, rules, data, mqtt, smtp, jobs (English: machine key)
    message: str  # in the operator's language, with the fix

    def __str__(self) -> str:
        return f"{self.topic}: {self.message}"


def unconfigured_jobs(settings: Settings) -> dict[str, str]:
    """Enabled jobs that cannot run because a system they need (``JobSpec.needs``) is not configured at all, with
    the reason. Every shipped job talks to CS-Cart; without ``cscart.url`` it could only fail on every run."""
    from bridge.sync import registered_jobs

    missing = {} if settings.cscart.url else {"cscart": _("CS-Cart is not configured (cscart.url is empty)")}
    specs = registered_jobs()
    skipped: dict[str, str] = {}
    for name, job in settings.jobs.items():
        spec = specs.get(name)
        if job.enabled and spec is not None:
            reasons = [missing[need] for need in spec.needs if need in missing]
            if reasons:
                skipped[name] = "; ".join(reasons)
    return skipped


def check(settings: Settings, source: Path | None) -> list[Finding]:
    found: list[Finding] = []
    found += _check_cscart(settings)
    found += _check_folders(settings)
    found += _check_rules(settings)
    found += _check_jobs(settings)
    return found


def _check_cscart(settings: Settings) -> list[Finding]:
    cscart = settings.cscart
    if not cscart.url:
        return [Finding("warning", "cscart", _(
            "CS-Cart is not configured: the daemon starts without jobs. Set cscart.url, cscart.email and the API "
            "key ({where}).").format(where=_(API_KEY_WHERE)))]
    found: list[Finding] = []
    if not cscart.url.startswith(("https://", "http://")):
        found.append(Finding("error", "cscart", _(
            "cscart.url {url!r} must start with https:// (the store root, e.g. https://shop.example.jp)"
        ).format(url=cscart.url)))
    if not cscart.email:
        found.append(Finding("error", "cscart", _(
            "cscart.email is empty: set the e-mail of the CS-Cart administrator whose API key the bridge uses")))
    if cscart.api_key is None or not cscart.api_key.get_secret_value():
        found.append(Finding("error", "cscart", _("the CS-Cart API key is missing: put it in {where}").format(
            where=_(API_KEY_WHERE))))
    if cscart.addon and settings.jobs.orders.enabled and not cscart.hmac_secret:
        found.append(Finding("error", "cscart", _(
            "cscart.addon is on but the add-on's HMAC secret is missing, so /hooks/cscart refuses its order "
            "pushes: put the secret from the add-on's settings in {where}").format(where=_(HMAC_WHERE))))
    if not found:
        found.append(Finding("ok", "cscart", _("CS-Cart {url} as {email}, API key set").format(
            url=cscart.url, email=cscart.email)))
    return found


def _check_folders(settings: Settings) -> list[Finding]:
    found = [_writable_folder("data", _("data_dir"), settings.data_dir)]
    dirs = settings.smile.dirs(settings.data_dir)
    for label, path in ((_("SMILE inbox (smile.inbox_dir)"), dirs.inbox),
                        (_("SMILE outbox (smile.outbox_dir)"), dirs.outbox),
                        (_("SMILE archive (smile.archive_dir)"), dirs.archive),
                        (_("SMILE error folder (smile.error_dir)"), dirs.error)):
        found.append(_writable_folder("smile", label, path))
    state = settings.state_path
    if state.exists() and not os.access(state, os.R_OK | os.W_OK):
        found.append(Finding("error", "data", _(
            "the state file {path} cannot be read and written by this user; run the check as the service user "
            "(sudo -u cscart-smile-bridge) or fix its owner").format(path=state)))
    return found


def _writable_folder(topic: str, label: str, path: Path) -> Finding:
    if path.exists():
        if not path.is_dir():
            return Finding("error", topic, _("{label} {path} is not a folder").format(label=label, path=path))
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            return Finding("error", topic, _(
                "{label} {path}: this user cannot read and write it; run the check as the service user or fix the "
                "owner and mode (docs/operations.md, Folders and permissions)").format(label=label, path=path))
        return Finding("ok", topic, _("{label} {path}: readable and writable").format(label=label, path=path))
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if os.access(parent, os.W_OK | os.X_OK):
        return Finding("ok", topic, _("{label} {path}: does not exist yet, will be created").format(
            label=label, path=path))
    return Finding("error", topic, _(
        "{label} {path} does not exist and cannot be created ({parent} is not writable); create it for the service "
        "user").format(label=label, path=path, parent=parent))


def _check_rules(settings: Settings) -> list[Finding]:
    from bridge.rules import check_rules
    from bridge.wiring import rule_files

    rules, problems = check_rules(settings.rules_dir, rule_files())
    if rules is None:
        return [Finding("error", "rules", str(problem)) for problem in problems]
    return [Finding("ok", "rules", _("{directory}: valid ({count} file(s))").format(
        directory=settings.rules_dir, count=len(rules.files)))]


def _check_jobs(settings: Settings) -> list[Finding]:
    skipped = unconfigured_jobs(settings)
    running = [name for name, job in settings.jobs.items() if job.enabled and name not in skipped]
    if not running:
        return [Finding("warning", "jobs", _("no job would run; the daemon only serves /metrics and /readyz"))]
    return [Finding("ok", "jobs", _("jobs that would run: {jobs}").format(jobs=", ".join(running)))]


# -- --connect ------------------------------------------------------------------------------------------------------


async def connect(settings: Settings, timeout: float = 10.0) -> list[Finding]:
    """Try each configured system once; a system that is not configured is said so, not tried."""
    attempts: list[tuple[str, Callable[[], Coroutine[Any, Any, Finding]]]] = [
        ("cscart", lambda: _connect_cscart(settings)),
        ("mqtt", lambda: _connect_mqtt(settings)),
        ("smtp", lambda: _connect_smtp(settings)),
    ]
    found: list[Finding] = []
    for topic, attempt in attempts:
        try:
            found.append(await asyncio.wait_for(attempt(), timeout))
        except TimeoutError:
            found.append(Finding("error", topic, _("no answer within {seconds:.0f} s").format(seconds=timeout)))
    return found


async def _connect_cscart(settings: Settings) -> Finding:
    if not settings.cscart.url:
        return Finding("warning", "cscart", _("not configured; not tried"))
    from bridge.cscart.client import CSCartClient
    from bridge.errors import AuthError, BridgeError

    client = CSCartClient(settings.cscart)
    try:
        statuses = await client.statuses(refresh=True)
        addon = await client.addon_installed(refresh=True)
    except AuthError as exc:
        return Finding("error", "cscart", _(
            "CS-Cart refused the e-mail and API key ({error}); check cscart.email and the key in {where}").format(
            error=exc, where=_(API_KEY_WHERE)))
    except BridgeError as exc:
        return Finding("error", "cscart", _("could not reach CS-Cart at {url}: {error}").format(
            url=settings.cscart.url, error=exc))
    finally:
        await client.close()
    if settings.cscart.addon and not addon:
        return Finding("error", "cscart", _(
            "signed in, but the smile_bridge add-on does not answer although cscart.addon is on; install and "
            "enable the add-on (docs/addon.md) or set cscart.addon: false"))
    return Finding("ok", "cscart", _("signed in; {count} order statuses; smile_bridge add-on: {addon}").format(
        count=len(statuses), addon=_("answers") if addon else _("not installed")))


async def _connect_mqtt(settings: Settings) -> Finding:
    mqtt = settings.mqtt
    if not mqtt.host:
        return Finding("ok", "mqtt", _("MQTT is off (mqtt.host is empty); not tried"))
    import aiomqtt

    password = mqtt.password.get_secret_value() if mqtt.password else None
    try:
        async with aiomqtt.Client(mqtt.host, mqtt.port, username=mqtt.username, password=password,
                                  identifier=f"{mqtt.client_id}-check", timeout=5):
            pass
    except aiomqtt.MqttError as exc:
        return Finding("error", "mqtt", _("could not connect to the broker {host}:{port}: {error}").format(
            host=mqtt.host, port=mqtt.port, error=exc))
    return Finding("ok", "mqtt", _("connected to the broker {host}:{port}").format(host=mqtt.host, port=mqtt.port))


async def _connect_smtp(settings: Settings) -> Finding:
    """Connect, EHLO, STARTTLS when ``mail.starttls``, log in when ``mail.username``; no mail is sent."""
    mail = settings.mail
    if not mail.smtp_host:
        return Finding("ok", "smtp", _("staff mail is off (mail.smtp_host is empty); not tried"))
    import aiosmtplib

    where = f"{mail.smtp_host}:{mail.smtp_port}"
    client = aiosmtplib.SMTP(hostname=mail.smtp_host, port=mail.smtp_port, timeout=mail.timeout,
                             start_tls=bool(mail.starttls))
    try:
        await client.connect()
        if mail.username:
            await client.login(mail.username, mail.password.get_secret_value() if mail.password else "")
    except aiosmtplib.SMTPAuthenticationError as exc:
        return Finding("error", "smtp", _(
            "the SMTP server {server} refused mail.username {user} and the password ({error}); check them "
            "(the password goes in BRIDGE_MAIL__PASSWORD)").format(server=where, user=mail.username, error=exc))
    except (aiosmtplib.SMTPException, OSError) as exc:
        hint = _("; is mail.starttls right for this server?") if "TLS" in str(exc).upper() else ""
        return Finding("error", "smtp", _("could not connect to the SMTP server {server}: {error}{hint}").format(
            server=where, error=exc, hint=hint))
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except aiosmtplib.SMTPException:
                client.close()
    if not mail.staff:
        return Finding("warning", "smtp", _(
            "the SMTP server {server} answers, but mail.staff is empty: staff mail stays off until it lists "
            "recipients").format(server=where))
    how = _(", signed in as {user}").format(user=mail.username) if mail.username else ""
    return Finding("ok", "smtp", _("the SMTP server {server} answers{tls}{how}; staff mail goes to {staff}").format(
        server=where, tls=" (STARTTLS)" if mail.starttls else "", how=how, staff=", ".join(mail.staff)))
