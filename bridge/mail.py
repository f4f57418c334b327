"""Staff e-mail (``mail.*`` settings): plain-text notifications over SMTP, best effort. A mail that cannot be sent
is logged and never fails the job that asked for it; the log, the metric and the MQTT event still carry the news."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

import structlog

from bridge.config import MailSettings

log = structlog.get_logger("bridge.mail")


def enabled(settings: MailSettings) -> bool:
    return bool(settings.smtp_host and settings.staff)


def _send(settings: MailSettings, message: EmailMessage) -> None:
    assert settings.smtp_host
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password.get_secret_value() if settings.password else "")
        smtp.send_message(message)


async def send_staff(settings: MailSettings, subject: str, body: str) -> bool:
    """Mail ``mail.staff``; True when the server accepted it, False when mail is off or the send failed."""
    if not enabled(settings):
        return False
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.staff)
    message["Subject"] = subject
    message.set_content(body)
    try:
        await asyncio.to_thread(_send, settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail.failed", subject=subject, error=str(exc))
        return False
    log.info("mail.sent", subject=subject, to=len(settings.staff))
    return True
