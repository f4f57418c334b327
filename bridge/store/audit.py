"""Audit log: what happened, for people (job summaries, operator actions, alerts)."""

from __future__ import annotations

import json
from typing import Any

from bridge.domain.time import iso, utcnow
from bridge.store.db import Connection


async def write(tx: Connection, actor: str, action: str, subject: str | None = None, detail: Any = None) -> None:
    text = None if detail is None else (detail if isinstance(detail, str) else json.dumps(detail, default=str))
    await tx.execute(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        (iso(utcnow()), actor, action, subject, text),
    )
