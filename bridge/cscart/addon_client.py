"""The daemon's calls to the ``smile_bridge`` add-on's API entities, over the CS-Cart client's transport (auth,
metrics, error classification). The wire shapes are parsed by ``addon_protocol``; docs/addon.md §5 is the contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bridge.cscart.addon_protocol import (
    BATCH_ENTITY,
    EVENTS_ENTITY,
    MAIL_KINDS,
    MAILS_ENTITY,
    RETURNS_ENTITY,
    MAX_BATCH_ITEMS,
    MAX_EVENTS_PER_PAGE,
    AddonProtocolError,
    BatchResponse,
    EventPage,
    ReturnRequest,
)
from bridge.cscart import messages as msg
from bridge.cscart.client import CSCartClient, NotFoundError
from bridge.i18n import said


class AddonClient:
    def __init__(self, client: CSCartClient) -> None:
        self.client = client

    async def events(self, after_id: int | None, limit: int = MAX_EVENTS_PER_PAGE) -> EventPage:
        """One page after ``after_id`` (None = after the add-on's acknowledged id)."""
        params: dict[str, Any] = {"limit": max(1, min(limit, MAX_EVENTS_PER_PAGE))}
        if after_id is not None:
            params["after_id"] = int(after_id)
        return EventPage.from_dict(await self._call("GET", EVENTS_ENTITY, params=params))

    async def acknowledge(self, event_id: int) -> int:
        """Record that everything up to ``event_id`` is processed; returns the add-on's acknowledged id."""
        # CS-Cart's API core refuses a PUT without parameters (405 "Missing parameters") before the entity runs.
        data = await self._call("PUT", f"{EVENTS_ENTITY}/{int(event_id)}", body={"event_id": int(event_id)})
        if not isinstance(data, Mapping) or not isinstance(data.get("acknowledged_id"), int):
            raise AddonProtocolError(said(msg.ACKNOWLEDGEMENT, value=data))
        return int(data["acknowledged_id"])

    async def batch(self, items: Sequence[Mapping[str, Any]]) -> BatchResponse:
        """One ``POST /api/smile_bridge_batch`` of 1–500 items; one result per item, in order."""
        if not 1 <= len(items) <= MAX_BATCH_ITEMS:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH_ITEMS} items, got {len(items)}")
        # Values are already guarded and validated by the caller; the add-on refuses non-BMP text per item.
        data = await self._call("POST", BATCH_ENTITY, body={"items": list(items)}, guard=False)
        return BatchResponse.from_dict(data, sent=len(items))

    async def send_mail(self, order_id: int, kind: str, key: str, values: Mapping[str, Any] | None = None) -> str:
        """One of the add-on's customer mails (``POST /api/smile_bridge_mails``), sent by CS-Cart's mailer once per
        ``key``; returns ``sent`` or ``duplicate`` (already sent under that key)."""
        if kind not in MAIL_KINDS:
            raise ValueError(f"unknown mail kind {kind!r}; known: {', '.join(MAIL_KINDS)}")
        data = await self._call("POST", MAILS_ENTITY, body={"order_id": int(order_id), "kind": kind, "key": key,
                                                           "values": dict(values or {})})
        status = data.get("status") if isinstance(data, Mapping) else None
        if status not in ("sent", "duplicate"):
            raise AddonProtocolError(said(msg.MAIL_ANSWER, key=key, value=data))
        return str(status)

    async def returns(self, statuses: Sequence[str], since: int, limit: int = 200) -> list[ReturnRequest]:
        """Return requests (CS-Cart's rma add-on) in ``statuses`` requested at or after ``since``, newest first.
        Raises NotFoundError when the store has no rma add-on."""
        data = await self._call("GET", RETURNS_ENTITY, params={"statuses": ",".join(statuses), "since": int(since),
                                                               "limit": max(1, min(limit, 200))})
        rows = data.get("returns") if isinstance(data, Mapping) else None
        if not isinstance(rows, list):
            raise AddonProtocolError(said(msg.RETURNS_ANSWER, value=data))
        return [ReturnRequest.from_dict(row, f"returns[{index}]") for index, row in enumerate(rows)]

    async def return_request(self, return_id: int) -> ReturnRequest:
        return ReturnRequest.from_dict(await self._call("GET", f"{RETURNS_ENTITY}/{int(return_id)}"))

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return await self.client.request(method, path, **kwargs)
        except NotFoundError as exc:
            if path.split("/")[0] in (EVENTS_ENTITY, BATCH_ENTITY, MAILS_ENTITY) and "Entity" in str(exc):
                self.client.addon_gone()  # uninstalled since detection: callers fall back to plain REST
            raise
