"""Text guard: CS-Cart stores characters outside the BMP (𠮷, 𩸽, emoji) as ``?`` and answers 200.

Its MySQL connection and tables are 3-byte ``utf8``, so a 4-byte character is lost silently. Before any write every
string in the body is checked: a character in the configured table is replaced (𠮷 → 吉), any other one is either
replaced by the configured fallback or the write is refused as a permanent error naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import structlog

from bridge.cscart import messages as msg
from bridge.domain.limits import CSCART_PRODUCT_NAME_MAX
from bridge.errors import PermanentError
from bridge.i18n import said

log = structlog.get_logger("bridge.cscart")

BMP_MAX = 0xFFFF


class TextGuardError(PermanentError):
    """A write holds a character CS-Cart cannot store; ``field`` is the JSON path, e.g. ``lastname``."""

    def __init__(self, field: str, character: str, text: str) -> None:
        super().__init__(
            said(msg.OUTSIDE_BMP, field=field, character=character, code=f"{ord(character):X}", text=text),
            hint=said(msg.HINT_OUTSIDE_BMP, character=character),
        )
        self.field = field
        self.character = character


class TextTooLong(PermanentError):
    """A text longer than its CS-Cart column (a product name over 255 characters): refused, never cut silently."""

    def __init__(self, field: str, text: str, limit: int) -> None:
        super().__init__(
            said(msg.TOO_LONG, field=field, length=len(text), start=text[:40], limit=limit),
            hint=said(msg.HINT_TOO_LONG, limit=limit),
        )
        self.field = field


# CS-Cart columns the bridge writes whose length it knows (the last part of the body path → characters).
COLUMN_LIMITS = {"product": CSCART_PRODUCT_NAME_MAX}

# C0 and C1 control characters (BEL, ESC …) but tab and line breaks: never meaningful in a shop's text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_non_bmp(text: str) -> bool:
    return any(ord(ch) > BMP_MAX for ch in text)


def strip_controls(text: str) -> str:
    return _CONTROL.sub("", text)


class TextGuard:
    def __init__(self, table: Mapping[str, str] | None = None, fallback: str | None = None) -> None:
        self._table = dict(table or {})
        self._fallback = fallback

    def clean_text(self, field: str, text: str) -> str:
        if _CONTROL.search(text):
            log.warning("cscart.control_characters_removed", field=field, text=repr(text[:80]))
            text = strip_controls(text)
        limit = COLUMN_LIMITS.get(field.rsplit(".", 1)[-1])
        if limit is not None and len(text) > limit:
            raise TextTooLong(field, text, limit)
        if not has_non_bmp(text):  # the common case stays one scan, no copy
            return text
        out: list[str] = []
        for ch in text:
            if ord(ch) <= BMP_MAX:
                out.append(ch)
            elif ch in self._table:
                out.append(self._table[ch])
            elif self._fallback is not None:
                out.append(self._fallback)
            else:
                raise TextGuardError(field, ch, text)
        return "".join(out)

    def clean(self, body: Any, path: str = "") -> Any:
        """Return ``body`` with every string (and every key) cleaned; raises ``TextGuardError`` naming the path."""
        if isinstance(body, str):
            return self.clean_text(path or "body", body)
        if isinstance(body, Mapping):
            return {
                self.clean_text(_join(path, str(key)), key) if isinstance(key, str) else key:
                    self.clean(value, _join(path, str(key)))
                for key, value in body.items()
            }
        if isinstance(body, list | tuple):
            return [self.clean(item, f"{path}[{index}]") for index, item in enumerate(body)]
        return body


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
