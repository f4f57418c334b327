"""Structured logs: JSON lines when not on a TTY (files, pipes), readable colours on a TTY, and under systemd the
journal's native protocol: each line with its priority (``journalctl -p err``) and its fields (``journalctl JOB=stock
RUN_ID=… ORDER_ID=…``).

``bind_run(job, run_id)`` puts the job name and run id on every line logged inside that run. Library loggers
(aiohttp, aiomqtt, …) go through the same processors, so they come out in the same format. Event names stay English
(machines key on them); a human ``message=`` in them follows the operator's language.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import struct
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

_SECRET_KEYS = {"api_key", "password", "hmac_secret", "authorization", "secret"}

JOURNAL_SOCKET = "/run/systemd/journal/socket"
JOURNAL_SOCKET_ENV = "BRIDGE_JOURNAL_SOCKET"  # another journald instance (a namespace's socket), e.g. in tests
IDENTIFIER = "cscart-smile-bridge"
# syslog priorities, as journalctl -p understands them
PRIORITY = {"critical": 2, "exception": 3, "error": 3, "warning": 4, "warn": 4, "info": 6, "debug": 7}
_NOT_FIELDS = {"event", "level", "timestamp", "message", "exception", "exc_info", "stack"}


def _drop_secrets(_: object, __: str, event: MutableMapping[str, object]) -> MutableMapping[str, object]:
    for key in list(event):
        if key.lower() in _SECRET_KEYS:
            event[key] = "**********"
    return event


def journal_connected(stream: Any, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``stream`` is the journal stream systemd connected (``JOURNAL_STREAM=dev:inode``)."""
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in value.split(":"))
        stat = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (stat.st_dev, stat.st_ino) == (device, inode)


def field_name(key: str) -> str:
    """A journal field name: upper-case letters, digits and _, not starting with _ or a digit."""
    name = re.sub(r"[^A-Z0-9_]", "_", key.upper()).lstrip("_0123456789")
    return name[:64] or "FIELD"


def journal_fields(event: Mapping[str, Any]) -> dict[str, str]:
    """The journal entry of one event: MESSAGE (human text), PRIORITY, the event name and every bound field."""
    level = str(event.get("level", "info"))
    name = str(event.get("event", ""))
    details = " ".join(f"{key}={_text(value)}" for key, value in event.items() if key not in _NOT_FIELDS)
    human = str(event["message"]) if event.get("message") else f"{name} {details}".strip()
    if event.get("exception"):
        human = f"{human}\n{event['exception']}"
    fields = {"MESSAGE": human, "PRIORITY": str(PRIORITY.get(level, 6)), "SYSLOG_IDENTIFIER": IDENTIFIER,
              "EVENT": name}
    for key, value in event.items():
        if key not in _NOT_FIELDS and value is not None:
            fields.setdefault(field_name(key), _text(value))
    return fields


def encode_journal(fields: Mapping[str, str]) -> bytes:
    """The native protocol: ``KEY=value\\n``, or ``KEY\\n<64-bit length>value\\n`` for values with a newline."""
    out = bytearray()
    for key, value in fields.items():
        data = value.encode("utf-8", "replace")
        if b"\n" in data:
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += key.encode() + b"=" + data + b"\n"
    return bytes(out)


class JournalWriter:
    """structlog's last processor under systemd: sends the event to journald; on failure (socket gone, entry too
    large) the event goes on to the stream renderer, which prefixes its priority (``<3>``) for journald."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def __call__(self, _: object, __: str, event: dict[str, Any]) -> dict[str, Any]:
        try:
            self.sock.sendto(encode_journal(journal_fields(event)), self.path)
        except OSError:
            return event
        raise structlog.DropEvent


def _prefixed(renderer: Any) -> Any:
    """Prefix a rendered line with ``<N>``, which journald reads as the priority of a stdout line."""

    def render(logger: object, name: str, event: dict[str, Any]) -> str:
        level = str(event.get("level", "info"))
        return f"<{PRIORITY.get(level, 6)}>" + str(renderer(logger, name, event))

    return render


class _ToStructlog(logging.Handler):
    """stdlib records (aiohttp, aiomqtt, asyncio …) → the same structlog pipeline, with the logger's name."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields: dict[str, Any] = {"logger": record.name}
            if record.exc_info:
                fields["exc_info"] = record.exc_info
            structlog.get_logger().log(record.levelno, record.getMessage(), **fields)
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)


def configure(level: str = "INFO", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """``fmt``: auto (journal under systemd, console on a TTY, JSON otherwise), journal, json, console."""
    stream = stream or sys.stderr
    under_journal = fmt == "journal" or (fmt == "auto" and journal_connected(stream))
    use_json = under_journal or fmt == "json" or (fmt == "auto" and not getattr(stream, "isatty", lambda: False)())
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if use_json else structlog.dev.ConsoleRenderer()
    )
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_secrets,
        structlog.processors.format_exc_info if use_json else structlog.processors.StackInfoRenderer(),
    ]
    if under_journal:
        processors.append(JournalWriter(os.environ.get(JOURNAL_SOCKET_ENV) or JOURNAL_SOCKET))
        renderer = _prefixed(renderer)
    processors.append(renderer)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    root.handlers = [_ToStructlog()]
    root.setLevel(getattr(logging, level))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


@contextmanager
def bind_run(job: str, run_id: str) -> Iterator[None]:
    with structlog.contextvars.bound_contextvars(job=job, run_id=run_id):
        yield


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)
