"""Times shown to people: in the shop's time zone (setting ``ui.timezone``, default Asia/Tokyo), zone named.

Machine output (``--json``, logs, the store) stays ISO 8601 with offset; this module is only for human text.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Tokyo"

_zone = ZoneInfo(DEFAULT_ZONE)


def set_display_zone(name: str) -> None:
    global _zone
    try:
        _zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Asia/Tokyo)") from exc


def display_zone() -> ZoneInfo:
    return _zone


def zone_label(moment: datetime) -> str:
    """The zone's abbreviation (JST) or, where the zone has none (``+05``), its IANA name."""
    abbreviation = moment.tzname() or ""
    if not abbreviation or abbreviation[0] in "+-":
        return getattr(moment.tzinfo, "key", None) or abbreviation or "UTC"
    return abbreviation


def format_local(moment: datetime | str | None, *, seconds: bool = False, empty: str = "-") -> str:
    """``2026-12-04 01:19 JST`` for an aware datetime or an ISO 8601 string; naive values are taken as UTC."""
    if moment is None or moment == "":
        return empty
    if isinstance(moment, str):
        try:
            parsed = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    else:
        parsed = moment
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    local = parsed.astimezone(_zone)
    return f"{local:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {zone_label(local)}"
