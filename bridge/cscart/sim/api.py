"""HTTP shape of the CS-Cart API as the simulator speaks it: requests decoded the PHP way, answers in CS-Cart's
envelopes with every scalar a string, and CS-Cart's error bodies."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from aiohttp import web

from bridge.cscart.sim.state import SimState

Row = TypeVar("Row")


class ApiError(Exception):
    """Answer with CS-Cart's error body: ``{"message": "<reason>: <details>", "messages": [...], "status": N}``."""

    def __init__(self, status: int, *details: str, key: str = "messages") -> None:
        super().__init__(f"{status} {'; '.join(details)}")
        self.status = status
        self.details = list(details)
        self.key = key  # 4.20.1 lists details under "messages", a few entity errors under "errors"

    def response(self) -> web.Response:
        reason = HTTPStatus(self.status).phrase
        body: dict[str, Any] = {"message": f"{reason}: {' '.join(self.details)}" if self.details else reason,
                                "status": self.status}
        if self.details:
            body[self.key] = self.details
        headers = {"WWW-Authenticate": 'Basic realm="User email/API key"'} if self.status == 401 else None
        return json_response(body, status=self.status, headers=headers)


@dataclass
class ApiCall:
    """One decoded API request: ``/api/2.1/users/4/usergroups/3`` → entity users, id 4, child usergroups, 3."""

    method: str
    version: str
    entity: str
    id: str | None
    child: str | None
    child_id: str | None
    params: dict[str, Any]
    body: dict[str, Any] = field(default_factory=dict)
    state: SimState = field(default_factory=SimState)

    def int_id(self) -> int:
        try:
            return int(self.id or "")
        except ValueError:
            raise ApiError(404, f"The {self.entity} {self.id} not found") from None

    def row(self, table: Mapping[int, Row], *details: str, key: str = "messages") -> Row:
        """The record ``table`` holds under this call's id, else a 404 with the ``details`` CS-Cart gives for that
        entity (each words it its own way; a few give none)."""
        found = table.get(self.int_id())
        if found is None:
            raise ApiError(404, *details, key=key)
        return found


@dataclass
class Result:
    status: int
    data: Any = None


Handler = Callable[[ApiCall], Awaitable[Result] | Result]


def stringify(value: Any) -> Any:
    """PHP's ``json_encode`` of DB rows: every scalar is a string; lists and maps keep their shape."""
    if isinstance(value, Mapping):
        return {str(k): stringify(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [stringify(v) for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    return value if isinstance(value, str) else str(value)


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # PHP escapes non-ASCII as \u00e9-style escapes (plain json_encode), which is also json.dumps' default.
    text = json.dumps(data, separators=(",", ":"))
    return web.Response(text=text, status=status, content_type="application/json", headers=headers)


def envelope(key: str, rows: list[Any], params: Mapping[str, Any], total: int) -> dict[str, Any]:
    return {key: rows, "params": {**stringify(dict(params)), "total_items": str(total)}}


def parse_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """PHP's ``$_GET``: ``status[]=P&status[]=C`` becomes a list, a repeated plain key keeps the last value."""
    params: dict[str, Any] = {}
    for key, value in pairs:
        if key.endswith("[]"):
            params.setdefault(key[:-2], [])
            if isinstance(params[key[:-2]], list):
                params[key[:-2]].append(value)
        else:
            params[key] = value
    return params


def decode_body(content_type: str | None, raw: bytes, method: str = "POST") -> dict[str, Any]:
    """CS-Cart picks the body decoder from Content-Type. Without the header the body is ``text/plain``, decoded with
    ``parse_str``: a JSON body becomes one junk key (so it changes nothing), a form body is applied. A form-encoded
    PUT decodes to nothing (and is then refused with 405 "Missing parameters")."""
    if not raw:
        return {}
    kind = (content_type or "text/plain").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(raw)
        except ValueError:
            raise ApiError(400, "Syntax error") from None
        if not isinstance(data, dict):
            raise ApiError(400, "Syntax error")
        return data
    if kind == "text/plain" or (kind == "application/x-www-form-urlencoded" and method == "POST"):
        return parse_query(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    if kind == "application/x-www-form-urlencoded":
        return {}  # PHP fills $_POST only for POST: a form-encoded PUT reaches CS-Cart with no parameters
    raise ApiError(415)  # 4.20.1 names no detail


def page_params(call: ApiCall) -> tuple[int, int | None]:
    """(page, items_per_page) as 4.20.1 reads them; ``None`` = no LIMIT. There is no maximum.

    ``items_per_page`` given as 0 or empty lists every row; a negative or non-numeric one (``abc``) falls back to the
    default page size with 200, as does a missing one. A non-numeric ``page`` is page 1.
    """
    default = call.state.settings.admin_elements_per_page
    page = _php_int(call.params.get("page"))
    page = page if page >= 1 else 1
    raw = call.params.get("items_per_page")
    if raw is None:
        return page, default
    text = str(raw).strip()
    if text in ("", "0"):
        return page, None
    size = _php_int(text) if text.lstrip("-").isdigit() else 0
    return page, size if size > 0 else default


def _php_int(value: Any) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 0


def paginate(rows: list[Any], page: int, size: int | None) -> list[Any]:
    if size is None:
        return rows
    start = (page - 1) * size
    return rows[start:start + size]


def flag(params: Mapping[str, Any], key: str, default: bool) -> bool:
    value = params.get(key)
    if value is None:
        return default
    return str(value).upper() in ("1", "Y", "TRUE")


def as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part for part in str(value).split(",") if part]
