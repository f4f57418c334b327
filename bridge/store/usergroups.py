"""Customers' CS-Cart usergroup memberships over time (table ``customer_usergroups``), for the campaigns report.

The campaigns job reads the members of every usergroup campaigns.yaml names (``GET /users?usergroup_id=``, active
links only, as CS-Cart's usergroup promotion condition counts them) and records each membership as an interval:
``since`` the first read that saw it ('' when the user was already a member at the group's first read: the start
is unknown, so it counts from the beginning), ``until`` the first read that no longer did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bridge.domain.time import iso, parse_iso
from bridge.store.db import Connection


@dataclass(frozen=True, slots=True)
class Membership:
    usergroup: str
    since: datetime | None  # None: before the group was first read
    until: datetime | None  # None: still a member

    def covers(self, moment: datetime) -> bool:
        return (self.since is None or self.since <= moment) and (self.until is None or moment < self.until)


async def record_members(tx: Connection, usergroup: str, user_ids: Iterable[int], now: datetime) -> tuple[int, int]:
    """The members of ``usergroup`` read at ``now``: opens and closes intervals; returns (joined, left)."""
    stamp = iso(now)
    first = await (await tx.execute("SELECT 1 FROM customer_usergroups_read WHERE usergroup = ?",
                                    (usergroup,))).fetchone() is None
    rows = await (await tx.execute("SELECT user_id FROM customer_usergroups WHERE usergroup = ? AND until IS NULL",
                                   (usergroup,))).fetchall()
    current = {int(r[0]) for r in rows}
    members = {int(u) for u in user_ids}
    joined, left = members - current, current - members
    for user_id in sorted(joined):
        await tx.execute("INSERT OR IGNORE INTO customer_usergroups (user_id, usergroup, since, until) "
                         "VALUES (?, ?, ?, NULL)", (user_id, usergroup, "" if first else stamp))
    for user_id in sorted(left):
        await tx.execute("UPDATE customer_usergroups SET until = ? WHERE user_id = ? AND usergroup = ? "
                         "AND until IS NULL", (stamp, user_id, usergroup))
    await tx.execute("INSERT INTO customer_usergroups_read (usergroup, first_read, last_read) VALUES (?, ?, ?) "
                     "ON CONFLICT (usergroup) DO UPDATE SET last_read = excluded.last_read",
                     (usergroup, stamp, stamp))
    return len(joined), len(left)


async def memberships(tx: Connection) -> dict[int, list[Membership]]:
    """user_id → every membership interval recorded."""
    rows = await (await tx.execute("SELECT user_id, usergroup, since, until FROM customer_usergroups "
                                   "ORDER BY user_id, usergroup, since")).fetchall()
    out: dict[int, list[Membership]] = {}
    for user_id, group, since, until in rows:
        out.setdefault(int(user_id), []).append(
            Membership(str(group), parse_iso(since) if since else None, parse_iso(until) if until else None))
    return out


async def groups_read(tx: Connection) -> set[str]:
    """The usergroups whose members have been read at least once."""
    rows = await (await tx.execute("SELECT usergroup FROM customer_usergroups_read")).fetchall()
    return {str(r[0]) for r in rows}


def member_at(memberships_of: Mapping[int, list[Membership]], user_id: int, groups: Iterable[str],
              moment: datetime) -> bool:
    """Was ``user_id`` in any of ``groups`` at ``moment``?"""
    wanted = set(groups)
    return any(m.usergroup in wanted and m.covers(moment) for m in memberships_of.get(user_id, []))
