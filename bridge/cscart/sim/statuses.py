"""``/statuses``: order (``O``) and shipment (``S``) statuses; POST takes the next free letter (N, T reserved)."""

from __future__ import annotations

from bridge.cscart.sim.api import ApiCall, ApiError, Result, envelope, page_params, paginate
from bridge.cscart.sim.state import SimStatus, mysql_utf8

SHIPMENT_STATUSES = (("P", "Picked up"), ("A", "Packed"), ("S", "Shipped"))


def row(status: SimStatus) -> dict[str, object]:
    return {
        "status_id": str(status.status_id), "status": status.status, "type": status.type,
        "is_default": status.is_default, "description": status.description, "email_subj": "", "email_header": "",
        "lang_code": "ja", "params": {"inventory": status.inventory, **status.params},
    }


def index(call: ApiCall) -> Result:
    state = call.state
    kind = str(call.params.get("type") or "O")
    rows: list[dict[str, object]]
    if kind == "S":
        rows = [{"status_id": str(100 + i), "status": letter, "type": "S", "description": name, "params": {}}
                for i, (letter, name) in enumerate(SHIPMENT_STATUSES)]
    else:
        rows = [row(s) for s in state.statuses.values()]
    if call.id is not None:
        for candidate in rows:
            if candidate["status_id"] == call.id:
                return Result(200, candidate)
        raise ApiError(404, f"The status {call.id} not found")
    page, size = page_params(call)
    echo = {**call.params, "type": kind, "page": page, "items_per_page": size}
    return Result(200, envelope("statuses", paginate(rows, page, size), echo, len(rows)))


def create(call: ApiCall) -> Result:
    """The API cannot choose the letter: ``status`` in the body is ignored."""
    state = call.state
    if str(call.body.get("type") or "O") != "O":
        raise ApiError(400, "Only order statuses can be created here")
    letter = state.next_free_letter()
    if letter is None:
        raise ApiError(400, "All 26 status letters are in use")
    params = {str(k): str(v) for k, v in (call.body.get("params") or {}).items()}
    status_id = max((s.status_id for s in state.statuses.values()), default=0) + 1
    state.statuses[letter] = SimStatus(status_id=status_id, status=letter,
                                       description=mysql_utf8(str(call.body.get("description", ""))),
                                       inventory=params.pop("inventory", "D"), params=params)
    return Result(201, {"status_id": status_id})


def delete(call: ApiCall) -> Result:
    state = call.state
    for letter, status in list(state.statuses.items()):
        if str(status.status_id) == call.id:
            del state.statuses[letter]
            return Result(204)
    raise ApiError(404, f"The status {call.id} not found")
