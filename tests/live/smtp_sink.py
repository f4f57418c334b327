"""A minimal SMTP server on 127.0.0.1 that keeps every message it is given (no relay, no auth): the store's mailer
is pointed at it so the live tests can read what CS-Cart sends."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Self


@dataclass
class SmtpSink:
    messages: list[EmailMessage] = field(default_factory=list)
    port: int = 0
    _server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write((line + "\r\n").encode())
            await writer.drain()

        await say("220 smtp-sink ESMTP")
        try:
            while line := await reader.readline():
                command = line.decode("utf-8", "replace").strip()
                verb = command.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    writer.write(b"250-smtp-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                    await writer.drain()
                elif verb == "DATA":
                    await say("354 end with <CRLF>.<CRLF>")
                    data = bytearray()
                    while (chunk := await reader.readline()) not in (b".\r\n", b".\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    self.messages.append(email.message_from_bytes(bytes(data), policy=email.policy.default))
                    await say("250 queued")
                elif verb == "QUIT":
                    await say("221 bye")
                    break
                else:  # MAIL, RCPT, RSET, NOOP
                    await say("250 ok")
        finally:
            writer.close()

    def text_of(self, message: EmailMessage) -> str:
        parts = [message.get("Subject", "")]
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts.append(part.get_content())
        return "\n".join(parts)
