"""Text CS-Cart has already damaged: its 3-byte utf8 tables store a character outside the BMP (𠮷, 𩸽, emoji) as
``?`` and answer 200, so an order can arrive with ``????町`` in an address. Such text must not reach SMILE or a label
as it is; the order is held naming the fields, for staff to correct in CS-Cart."""

from __future__ import annotations

import re

from bridge.domain.orders import Order

ADDRESS_FIELDS = ("name", "name_kana", "prefecture", "city", "street", "building", "company", "department")

# "??" anywhere, or one "?" touching a non-ASCII character: a literal question mark is not part of a Japanese
# name or address, a replaced character is.
_DAMAGED = re.compile(r"\?\?|\?[^\x00-\x7f]|[^\x00-\x7f]\?")


def looks_damaged(text: str) -> bool:
    return bool(text) and "?" in text and _DAMAGED.search(text) is not None


def damaged_fields(order: Order) -> list[str]:
    """``shipping.street``-style names of the order's text fields that hold CS-Cart's '?' replacement."""
    found = []
    for side in ("billing", "shipping"):
        address = getattr(order, side)
        found += [f"{side}.{name}" for name in ADDRESS_FIELDS if looks_damaged(getattr(address, name))]
    found += [f"line {index}.name" for index, line in enumerate(order.lines, start=1) if looks_damaged(line.name)]
    if looks_damaged(order.notes):
        found.append("notes")
    return found
