"""When the shipping mail goes out (出荷済 → 出荷通知済), and the tracking link it carries."""

from __future__ import annotations

from datetime import datetime, timedelta

from bridge.carriers.rules import Notification, ShippingRules
from bridge.carriers.tracking import tracking_url
from bridge.domain.time import JST


def notification_due(shipped_at: datetime, notification: Notification) -> datetime:
    """The moment the notification for a shipment recorded at ``shipped_at`` is due."""
    if notification.mode == "immediate":
        return shipped_at
    local = shipped_at.astimezone(JST)
    for day in (0, 1):
        for at in notification.time_list():
            candidate = datetime.combine(local.date() + timedelta(days=day), at, tzinfo=JST)
            if candidate >= local:
                return candidate
    raise AssertionError("unreachable: a non-empty list of times always has a next one")


def tracking_link(rules: ShippingRules, carrier: str, number: str) -> str:
    """The URL the customer mail carries, from the rules' templates (carriers.md §4)."""
    return tracking_url(carrier, number, rules.tracking_urls)
