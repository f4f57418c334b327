"""お届け希望日 / 時間帯 at checkout: what the add-on offers per shipping method, from rules/shipping.yaml (lead time,
cut-off, business days of delay_watch, the carrier's slots) and which fields hold the choice (``orders.
delivery_fields``: the add-on's own, or CS-Cart.jp's ``jp_order_delivery_info``). Sent to the add-on as
``addon.settings`` values ``delivery_methods`` (JSON) and ``delivery_source`` by the customer_prices job.

The choice comes back on the order (``smile_delivery_date`` / ``smile_delivery_slot``, source.delivery_fields) and
goes into the 受注 納期, the label files and the delay watch.
"""

from __future__ import annotations

import json
from typing import Any

from bridge.carriers.rules import ShippingRules
from bridge.carriers.timeslots import KNOWN_SLOTS, LABELS_JA, NONE

_ISO_WEEKDAY = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
_TIMED = ("by-10", "by-17")  # B2 タイム only: not offered at checkout


def delivery_methods(rules: ShippingRules) -> dict[str, dict[str, Any]]:
    """shipping_id → the add-on's DeliveryDates settings; post-box services (no date, no slot) are left out."""
    dates, watch = rules.delivery_dates, rules.delay_watch
    if not dates.enabled:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for method in rules.methods:
        if method.service.is_mail:
            continue
        carrier_rules = rules.carriers.get(method.carrier)
        if carrier_rules is None:
            continue  # a carrier not configured: the labels job refuses its orders anyway
        table = carrier_rules.slot_table(method.carrier)
        offered = [NONE] + [slot for slot in KNOWN_SLOTS if slot != NONE and slot not in _TIMED and
                            slot in table.codes and slot not in table.replaced and slot not in table.deprecated]
        for shipping_id in method.shipping_ids:
            out.setdefault(str(shipping_id), {
                "carrier": method.carrier, "lead_business_days": dates.lead_business_days,
                "transit_days": dates.transit_days, "cutoff": dates.cutoff, "range_days": dates.range_days,
                "closed_weekdays": sorted(_ISO_WEEKDAY[day] for day in watch.weekend),
                "holidays": [day.isoformat() for day in sorted(watch.holidays)],
                "slots": [LABELS_JA[slot] for slot in offered],
            })
    return out


def delivery_settings(rules: ShippingRules | None, source: str) -> dict[str, Any]:
    """The ``addon.settings`` payload: the methods (none without shipping.yaml) and whose fields to use."""
    methods = delivery_methods(rules) if rules is not None else {}
    return {"values": {"delivery_methods": json.dumps(methods, ensure_ascii=False, sort_keys=True,
                                                      separators=(",", ":")),
                       "delivery_source": source}}
