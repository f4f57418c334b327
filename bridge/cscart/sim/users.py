"""``/users``, ``/users/:id/usergroups`` and ``/usergroups``: user_type required, limited fields, company_id reset."""

from __future__ import annotations

from typing import Any

from bridge.cscart.sim import addon_columns
from bridge.cscart.sim.api import ApiCall, ApiError, Result, as_list, envelope, page_params, paginate
from bridge.cscart.sim.state import SimState, SimUser, SimUsergroup, mysql_utf8

TEXT_FIELDS = ("email", "firstname", "lastname", "company", "phone")
PROFILE_PREFIXES = ("b_", "s_")
# On POST CS-Cart re-derives shipping fields from billing and these come out blank (ship_to_another=false).
BLANKED_ON_POST = ("s_address", "s_city", "s_country", "s_zipcode")


def row(user: SimUser) -> dict[str, str | None]:
    """The only fields CS-Cart returns for users, in lists and in the single GET alike (plus the add-on's columns,
    which its get_users hook adds)."""
    return {
        "user_id": str(user.user_id), "user_login": f"user_{user.user_id}", "is_root": "N",
        "timestamp": str(user.timestamp), "user_type": user.user_type, "status": user.status,
        "firstname": user.firstname, "lastname": user.lastname, "email": user.email, "company": user.company,
        "company_id": str(user.company_id), "phone": user.phone, "last_login": "0", "company_name": "",
        "points": "0", "anonymized": "N", **user.extra,
    }


def index(call: ApiCall) -> Result:
    state = call.state
    if call.id is not None and call.child == "usergroups":
        return _links_index(call)
    if call.id is not None:
        user = state.users.get(_php_id(call.id))
        if user is None:  # 4.20.1 answers a missing user with an empty list, not 404
            echo = {"page": 1, "items_per_page": state.settings.admin_elements_per_page, "extended_search": True,
                    "user_id": call.id, "sort_order": "asc", "sort_by": "name"}
            return Result(200, envelope("users", [], echo, 0))
        return Result(200, row(user))
    if not call.params.get("user_type"):
        raise ApiError(400, "The user_type field is required")
    users = [u for u in state.users.values() if u.user_type == call.params["user_type"]]
    if email := call.params.get("email"):
        users = [u for u in users if str(email) in u.email]  # LIKE %x%
    if str(company := call.params.get("company_id", "")).isdigit():
        users = [u for u in users if u.company_id == int(company)]
    if statuses := as_list(call.params.get("status")):
        users = [u for u in users if u.status in statuses]
    if (group := call.params.get("usergroup_id")) not in (None, ""):
        users = [u for u in users if u.usergroups.get(int(group)) == "A"]
    if ids := {int(i) for i in as_list(call.params.get("user_id")) + as_list(call.params.get("user_ids"))}:
        users = [u for u in users if u.user_id in ids]
    if state.addon is not None and (code := call.params.get("smile_customer_code")):  # the add-on's filter
        users = [u for u in users if u.extra.get("smile_customer_code") == str(code)]
    descending = str(call.params.get("sort_order") or "asc").lower() == "desc"
    users.sort(key=lambda u: u.user_id, reverse=descending)
    page, size = page_params(call)
    echo = {**call.params, "page": page, "items_per_page": size}
    return Result(200, envelope("users", [row(u) for u in paginate(users, page, size)], echo, len(users)))


def create(call: ApiCall) -> Result:
    state = call.state
    body = call.body
    for required in ("company_id", "email", "user_type"):
        if body.get(required) in (None, ""):
            raise ApiError(400, f"The {required} field is required")
    user = SimUser(user_id=state.new_id("user", state.users), email="", user_type=str(body["user_type"]),
                   company_id=int(body["company_id"]), timestamp=state.now())
    if state.addon is not None:
        user.extra = dict(addon_columns.USER_COLUMNS)
    _apply(user, body)
    for key in BLANKED_ON_POST:
        user.profile[key] = ""
    state.users[user.user_id] = user
    if state.addon is not None:  # the update_profile hook
        state.addon.record("user.updated", user.user_id, {"action": "add", "user_type": user.user_type})
    return Result(201, {"user_id": user.user_id, "profile_id": str(user.user_id)})


def update(call: ApiCall) -> Result:
    state = call.state
    if call.child == "usergroups":
        return _link_update(call)
    user = _get(state, call)
    _apply(user, call.body)
    # Ultimate: company_id comes from runtime.company_id (0 for a root-admin API call) when the body lacks it.
    user.company_id = int(call.body["company_id"]) if call.body.get("company_id") not in (None, "") else 0
    if state.addon is not None:  # the update_profile hook
        state.addon.record("user.updated", user.user_id, {"action": "update", "user_type": user.user_type})
    return Result(200, {"user_id": user.user_id})


def delete(call: ApiCall) -> Result:
    state = call.state
    if call.child == "usergroups":
        user = _get(state, call)
        user.usergroups[int(call.child_id or 0)] = "F"
        return Result(204)
    if state.users.pop(call.int_id(), None) is None:
        raise ApiError(404)
    return Result(204)


def _apply(user: SimUser, body: dict[str, Any]) -> None:
    for key in TEXT_FIELDS:
        if key in body:
            setattr(user, key, mysql_utf8(str(body[key])))
    if "status" in body:
        user.status = str(body["status"])
    for key, value in body.items():
        if key.startswith(PROFILE_PREFIXES):
            user.profile[key] = mysql_utf8(str(value))
        elif key in user.extra:  # an existing column (the add-on's): core writes it, NULL stays NULL
            user.extra[key] = addon_columns.stored(key, None if value is None else mysql_utf8(str(value)))


def _php_id(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _get(state: SimState, call: ApiCall) -> SimUser:
    return call.row(state.users, "The User not found", key="errors")


def _links_index(call: ApiCall) -> Result:
    """A map keyed by usergroup_id with a link_id, or ``[]`` (PHP's empty array) when there is none, as a real
    4.20.1 answers; links to disabled groups are hidden."""
    state = call.state
    user = _get(state, call)
    links = {str(gid): {"link_id": str(user.user_id * 1000 + gid), "usergroup_id": str(gid), "status": status}
             for gid, status in sorted(user.usergroups.items())
             if gid in state.usergroups and state.usergroups[gid].status == "A"}
    return Result(200, links or [])


def _link_update(call: ApiCall) -> Result:
    state = call.state
    user = _get(state, call)
    try:
        group_id = int(call.child_id or "")
    except ValueError:
        raise ApiError(405, "Method Not Allowed") from None
    if group_id not in state.usergroups:
        raise ApiError(404, f"The usergroup {group_id} not found")
    status = str(call.body.get("status") or "")
    if status not in ("A", "P", "F"):
        raise ApiError(400, "The status field is required")
    user.usergroups[group_id] = status
    return Result(200, {"user_id": user.user_id, "usergroup_id": group_id})


def usergroups_index(call: ApiCall) -> Result:
    """``GET /usergroups``: a bare map keyed by id (no envelope, no paging)."""
    state = call.state
    if call.id is not None:
        group = call.row(state.usergroups, f"The usergroup {call.id} not found")
        return Result(200, {**_group_row(group), "privileges": []})
    wanted = call.params.get("type")
    return Result(200, {str(g.usergroup_id): _group_row(g) for g in state.usergroups.values()
                        if not wanted or g.type == wanted})


def usergroups_create(call: ApiCall) -> Result:
    state = call.state
    for required in ("status", "type"):
        if not call.body.get(required):
            raise ApiError(400, f"The {required} field is required")
    group_id = max(3, state.new_id("usergroup", state.usergroups))
    state.usergroups[group_id] = SimUsergroup(usergroup_id=group_id, usergroup=mysql_utf8(str(call.body.get(
        "usergroup", ""))), status=str(call.body["status"]), type=str(call.body["type"]))
    return Result(201, {"usergroup_id": group_id})


def _group_row(group: SimUsergroup) -> dict[str, str]:
    return {"usergroup_id": str(group.usergroup_id), "status": group.status, "type": group.type,
            "usergroup": group.usergroup}
