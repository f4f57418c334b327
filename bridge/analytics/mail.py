"""Mail for report packs and staff alerts, through SMTP with aiosmtplib (STARTTLS, SMTPS or plain, per config)."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib


class MailNotConfigured(RuntimeError):
    pass


def message(sender: str, recipients: Sequence[str], subject: str, body: str,
            attachments: Sequence[Path] = ()) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    mail.set_content(body, charset="utf-8")
    for path in attachments:
        kind, _ = mimetypes.guess_type(path.name)
        if path.suffix == ".xlsx":
            kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        main, _, sub = (kind or "application/octet-stream").partition("/")
        mail.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    return mail


async def send(settings: Any, mail: EmailMessage) -> None:
    """``settings`` is the config's ``mail`` section (smtp_host, smtp_port, starttls, username, password)."""
    if not settings.smtp_host:
        raise MailNotConfigured("mail.smtp_host is empty: set it (and mail.username / BRIDGE_MAIL__PASSWORD)")
    password = settings.password.get_secret_value() if settings.password else None
    await aiosmtplib.send(
        mail, hostname=settings.smtp_host, port=settings.smtp_port, username=settings.username or None,
        password=password, start_tls=bool(settings.starttls), timeout=settings.timeout)
