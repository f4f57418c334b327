"""The add-on's batch validation as the simulator runs it: a line-by-line port of ``SmileBridge\\BatchValidator``
and ``SmileBridge\\Decimal::of`` (addon/app/addons/smile_bridge/lib/SmileBridge/), same checks, same messages.

tests/addon/test_simulator_addon.py sends the same items to this port and to the real PHP class and compares the
results, so the simulator cannot drift from the add-on.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

MAX_ITEMS = 500
MAX_SCALE = 6
MAX_AMOUNT = 8388607
PHP_INT_MAX = 2**63 - 1

KINDS = ("stock", "prices", "customer_price", "user_fields", "product_fields", "order_fields", "settings",
         "order_status")
_LETTER = re.compile(r"[A-Z]", re.ASCII)
USER_FIELDS = {
    "smile_customer_code": "code", "smile_price_rate": "rate_or_null", "smile_price_rounding": "rounding",
    "smile_price_unit": "positive", "smile_price_rate_base": "rate_base", "smile_credit_limit": "money_or_null",
    "smile_credit_exposure": "money",
}
PRODUCT_FIELDS = {"smile_direct_ship_allowed": "flag"}
ORDER_FIELDS = {"smile_direct_ship": "flag", "smile_ship_to_code": "code", "smile_direct_ship_recipient": "text"}
SETTINGS = {"direct_ship_rate": "rate", "direct_ship_rounding": "rounding", "direct_ship_unit": "positive",
            "delivery_methods": "delivery_methods", "delivery_source": "delivery_source",
            "mail_carriers": "json_object", "mail_statuses": "json_object"}
ROUNDINGS = ("down", "half_up", "up")

# re.ASCII: PCRE's \d is 0-9 only, Python's would also take full-width digits (２)
_DECIMAL = re.compile(r"^([+-]?)(\d+)(?:\.(\d*))?$", re.ASCII)
_INTEGER = re.compile(r"^-?\d{1,18}$", re.ASCII)
_CODE = re.compile(r"^[\u0020-\u007E\u3000-\uFFEF]*$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)


class BatchRejected(Exception):
    """The whole request is refused (400); nothing is applied."""


class InvalidBatchItem(Exception):
    """One item is malformed; the message names the field."""


def var_export(value: Any) -> str:
    """PHP's ``var_export($value, true)`` for the scalars the messages show."""
    if value is None:
        return "NULL"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if ("." in text or "e" in text or "inf" in text or "nan" in text) else text + ".0"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "array (\n)" if not value else "array (\n  ...\n)"


def php_decimal(value: Any) -> Decimal:
    """``Decimal::of``: an int, a float or a plain decimal string; no exponent, at most 6 decimals, 18 digits."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        kind = {bool: "boolean", type(None): "NULL", list: "array", dict: "array"}.get(type(value), "object")
        raise ValueError(f"not a number: {kind}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        value = var_export(value)
    text = value.strip(" \t\n\r\0\x0b")
    match = _DECIMAL.match(text)
    if not match:
        raise ValueError(f'not a decimal number: "{value}"')
    fraction = (match.group(3) or "").rstrip("0")
    if len(fraction) > MAX_SCALE:
        raise ValueError(f'more than {MAX_SCALE} decimal places: "{value}"')
    digits = (match.group(2) + fraction).lstrip("0")
    if len(digits) > 18:
        raise ValueError(f'number too large: "{value}"')
    units = int(digits or "0")
    return Decimal(-units if match.group(1) == "-" else units).scaleb(-len(fraction))


def php_string(number: Decimal) -> str:
    """``Decimal::toString``: plain text with the number's own scale (trailing zeros already dropped)."""
    return f"{number:f}"


def items(body: Any) -> list[Any]:
    if not isinstance(body, dict) or "items" not in body:
        raise BatchRejected('the body must be a JSON object {"items": [...]} sent with Content-Type: '
                            "application/json")
    raw = body["items"]
    if raw == {}:
        raw = []  # PHP decodes {} and [] alike
    if not isinstance(raw, list):
        raise BatchRejected('"items" must be a JSON array')
    if not raw:
        raise BatchRejected(f'"items" is empty; send 1 to {MAX_ITEMS} items')
    if len(raw) > MAX_ITEMS:
        raise BatchRejected(f'"items" has {len(raw)} entries; the maximum is {MAX_ITEMS}, split the batch')
    return raw


def client_id(item: Any) -> str | int | None:
    if isinstance(item, dict) and item.get("id") is not None:
        value = item["id"]
        if (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, str) and len(value.encode("utf-8")) <= 64):
            return value
    return None


def _array(value: Any) -> Any:
    """PHP arrays: a JSON list is an array with integer keys, so field lookups on it simply find nothing."""
    return dict(enumerate(value)) if isinstance(value, list) else value


def item(index: int, raw: Any) -> dict[str, Any]:
    at = f"items[{index}]"
    raw = _array(raw)
    if not isinstance(raw, dict):
        raise InvalidBatchItem(f"{at}: must be a JSON object")
    if raw.get("id") is not None and client_id(raw) is None:
        raise InvalidBatchItem(f"{at}.id: must be an integer or a string of at most 64 characters")
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidBatchItem(f"{at}.kind: {var_export(kind)} is not one of {', '.join(KINDS)}")
    normal: dict[str, Any] = {"kind": kind, "id": client_id(raw)}
    if kind == "stock":
        amount = _integer(f"{at}.amount", _field(at, raw, "amount"), -MAX_AMOUNT, MAX_AMOUNT)
        return {**normal, "product_id": _id(f"{at}.product_id", _field(at, raw, "product_id")), "amount": amount}
    if kind == "prices":
        return {**normal, **_prices(at, raw)}
    if kind == "customer_price":
        return {**normal, **_customer_price(at, raw)}
    if kind == "user_fields":
        return {**normal, **_fields(at, raw, "user_id", USER_FIELDS)}
    if kind == "product_fields":
        return {**normal, **_fields(at, raw, "product_id", PRODUCT_FIELDS)}
    if kind == "order_fields":
        return {**normal, **_fields(at, raw, "order_id", ORDER_FIELDS)}
    if kind == "order_status":
        return {**normal, **_order_status(at, raw)}
    values = _array(_field(at, raw, "values"))
    if not isinstance(values, dict) or not values:
        raise InvalidBatchItem(f"{at}.values: must be a non-empty object of {', '.join(SETTINGS)}")
    return {**normal, "values": typed_values(f"{at}.values", values, SETTINGS)}


def _order_status(at: str, raw: dict[str, Any]) -> dict[str, Any]:
    order_id = _id(f"{at}.order_id", _field(at, raw, "order_id"))
    status = _field(at, raw, "status")
    if not isinstance(status, str) or not _LETTER.fullmatch(status):
        raise InvalidBatchItem(f"{at}.status: must be one status letter A-Z, got {var_export(status)}")
    clean: dict[str, Any] = {"order_id": order_id, "status": status}
    for name in ("notify_user", "notify_department", "notify_vendor"):
        value = raw[name] if name in raw else False
        if not isinstance(value, bool):
            raise InvalidBatchItem(f"{at}.{name}: must be true or false, got {var_export(value)}")
        clean[name] = value
    return clean


def _prices(at: str, raw: dict[str, Any]) -> dict[str, Any]:
    product_id = _id(f"{at}.product_id", _field(at, raw, "product_id"))
    rows = _rows(at, raw, "prices", "a non-empty array, the base row (lower_limit 1, usergroup_id 0) first",
                 "{lower_limit, usergroup_id, price[, type]}", empty=False)
    tiers: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, (row_at, row) in enumerate(rows):
        lower = _integer(f"{row_at}.lower_limit", _field(row_at, row, "lower_limit"), 1, 16777215)
        group = _integer(f"{row_at}.usergroup_id", _field(row_at, row, "usergroup_id"), 0, 16777215)
        kind = row.get("type", "A") if row.get("type") is not None else "A"
        if kind not in ("A", "P"):
            raise InvalidBatchItem(f'{row_at}.type: must be "A" (absolute price) or "P" (percentage off the base '
                                   'price)')
        price = _price(f"{row_at}.price", _field(row_at, row, "price"))
        if kind == "P" and price > 100:
            raise InvalidBatchItem(f"{row_at}.price: a percentage tier must be between 0 and 100")
        if i == 0 and (lower != 1 or group != 0 or kind != "A"):
            raise InvalidBatchItem(f"{row_at}: the first row must be the base row (lower_limit 1, usergroup_id 0, "
                                   "type A); CS-Cart replaces element 0 with the base price, so a tier sent first "
                                   "would be lost")
        key = f"{group}/{lower}"
        if key in seen:
            raise InvalidBatchItem(f"{row_at}: duplicate tier usergroup_id {group}, lower_limit {lower}")
        seen.add(key)
        tiers.append({"lower_limit": lower, "usergroup_id": group, "price": php_string(price), "type": kind})
    base = tiers[0]["price"]
    if "price" in raw:
        price = _decimal(f"{at}.price", raw["price"])
        if price != Decimal(base):
            raise InvalidBatchItem(f"{at}.price: {php_string(price)} differs from the base row price {base}; send "
                                   "the same value")
    return {"product_id": product_id, "price": base, "prices": tiers}


def _rows(at: str, raw: dict[str, Any], name: str, must: str, shape: str, *,
          empty: bool = True) -> Iterator[tuple[str, dict[str, Any]]]:
    """(``at.name[i]``, row) of an array of objects (a PHP array may arrive as a JSON object: its values), each
    checked as the loop reaches it, as the add-on's validator does."""
    rows = _field(at, raw, name)
    if isinstance(rows, dict):
        rows = list(rows.values())
    if not isinstance(rows, list) or (not empty and not rows):
        raise InvalidBatchItem(f"{at}.{name}: must be {must}")
    for i, row in enumerate(rows):
        row_at = f"{at}.{name}[{i}]"
        row = _array(row)
        if not isinstance(row, dict):
            raise InvalidBatchItem(f"{row_at}: must be an object {shape}")
        yield row_at, row


def _customer_price(at: str, raw: dict[str, Any]) -> dict[str, Any]:
    user_id = _id(f"{at}.user_id", _field(at, raw, "user_id"))
    product_id = _id(f"{at}.product_id", _field(at, raw, "product_id"))
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row_at, row in _rows(at, raw, "rows", "an array (empty to delete the customer's prices for this product)",
                             "{min_quantity, price, valid_from, valid_to}"):
        minimum = (_integer(f"{row_at}.min_quantity", row["min_quantity"], 1, 16777215)
                   if row.get("min_quantity") is not None else 1)
        price = _price(f"{row_at}.price", _field(row_at, row, "price"))
        valid_from = _date(f"{row_at}.valid_from", row.get("valid_from"))
        valid_to = _date(f"{row_at}.valid_to", row.get("valid_to"))
        if valid_from and valid_to and valid_from > valid_to:
            raise InvalidBatchItem(f"{row_at}: valid_from {valid_from} is after valid_to {valid_to}")
        key = f"{minimum}/{valid_from}"
        if key in seen:
            raise InvalidBatchItem(f'{row_at}: duplicate row for min_quantity {minimum} and valid_from "{valid_from}"')
        seen.add(key)
        clean.append({"min_quantity": minimum, "price": php_string(price), "valid_from": valid_from,
                      "valid_to": valid_to})
    return {"user_id": user_id, "product_id": product_id, "rows": clean}


def _fields(at: str, raw: dict[str, Any], id_field: str, rules: dict[str, str]) -> dict[str, Any]:
    entity_id = _id(f"{at}.{id_field}", _field(at, raw, id_field))
    fields = _array(_field(at, raw, "fields"))
    if not isinstance(fields, dict) or not fields:
        raise InvalidBatchItem(f"{at}.fields: must be a non-empty object of {', '.join(rules)}")
    return {id_field: entity_id, "fields": typed_values(f"{at}.fields", fields, rules)}


def typed_values(at: str, values: dict[str, Any], rules: dict[str, str]) -> dict[str, str | None]:
    clean: dict[str, str | None] = {}
    for name, value in values.items():
        field_at = f"{at}.{name}"
        if name not in rules:
            raise InvalidBatchItem(f"{field_at}: unknown field; allowed: {', '.join(rules)}")
        clean[name] = _typed(field_at, rules[name], value)
    return clean


def _typed(at: str, rule: str, value: Any) -> str | None:
    if rule == "delivery_methods":
        try:
            decoded = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            decoded = None
        if not isinstance(decoded, dict):
            raise InvalidBatchItem(f"{at}: must be a JSON object {{shipping_id: {{carrier, lead_business_days, …}}}}")
        for key, method in decoded.items():
            if not str(key).isdigit() or not isinstance(method, dict):
                raise InvalidBatchItem(f"{at}.{key}: must be a shipping_id with an object of settings")
        return json.dumps(decoded, ensure_ascii=False, separators=(",", ":"))
    if rule == "json_object":
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        if decoded == []:
            decoded = {}  # PHP decodes [] and {} to the same empty array
        if not isinstance(decoded, dict) or len(text.encode("utf-8")) > 65535:
            raise InvalidBatchItem(f"{at}: must be a JSON object (at most 65535 bytes)")
        return json.dumps(decoded, ensure_ascii=False, separators=(",", ":"))
    if rule == "delivery_source":
        if value not in ("smile_bridge", "cscart_jp"):
            raise InvalidBatchItem(f'{at}: must be "smile_bridge" or "cscart_jp"')
        return str(value)
    if rule == "code":
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidBatchItem(f"{at}: must be a string")
        text = str(value).strip(" \t\n\r\0\x0b")
        if len(text.encode("utf-8")) > 32 or not _CODE.match(text):
            raise InvalidBatchItem(f'{at}: must be at most 32 printable characters (SMILE code), got "{text}"')
        return text
    if rule == "flag":
        if value is True or value == "Y":
            return "Y"
        if value is False or value == "N":
            return "N"
        raise InvalidBatchItem(f'{at}: must be "Y" or "N" (or true/false)')
    if rule == "text":
        if not isinstance(value, str):
            raise InvalidBatchItem(f"{at}: must be a string")
        text = value.strip(" \t\n\r\0\x0b")
        if len(text) > 255 or any(ord(ch) > 0xFFFF or ord(ch) < 0x20 for ch in text):
            raise InvalidBatchItem(f"{at}: at most 255 characters, no control characters, no characters outside "
                                   'the BMP (CS-Cart stores 𠮷 or emoji as "?"); replace them (e.g. 𠮷 → 吉)')
        return text
    if rule == "rounding":
        if value not in ROUNDINGS:
            raise InvalidBatchItem(f"{at}: must be one of {', '.join(ROUNDINGS)}")
        return str(value)
    if rule == "rate_base":
        if value not in ("price", "list_price"):
            raise InvalidBatchItem(f'{at}: must be "price" or "list_price"')
        return str(value)
    if rule in ("rate_or_null", "money_or_null"):
        if value is None:
            return None
        return _typed(at, "rate" if rule == "rate_or_null" else "money_nonnegative", value)
    number = _decimal(at, value)
    if rule == "rate" and (number < 0 or number >= 1000):
        raise InvalidBatchItem(f"{at}: a rate in percent from 0 to 999.999 (70 = 70 %)")
    if rule == "positive" and number <= 0:
        raise InvalidBatchItem(f"{at}: must be greater than 0 (e.g. 1, 10 or 0.01)")
    if rule == "money_nonnegative" and number < 0:
        raise InvalidBatchItem(f"{at}: must not be negative")
    return php_string(number)


def _field(at: str, raw: dict[str, Any], name: str) -> Any:
    if name not in raw:
        raise InvalidBatchItem(f"{at}.{name}: missing")
    return raw[name]


def _id(at: str, value: Any) -> int:
    return _integer(at, value, 1, PHP_INT_MAX)


def _integer(at: str, value: Any, minimum: int, maximum: int) -> int:
    if isinstance(value, str) and _INTEGER.match(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidBatchItem(f"{at}: must be an integer, got {var_export(value)}")
    if value < minimum or value > maximum:
        raise InvalidBatchItem(f"{at}: {value} is outside {minimum}..{maximum}")
    return value


def _price(at: str, value: Any) -> Decimal:
    price = _decimal(at, value)
    if price < 0:
        raise InvalidBatchItem(f"{at}: must not be negative")
    if -price.as_tuple().exponent > 2 or price > Decimal("9999999999.99"):  # type: ignore[operator]
        raise InvalidBatchItem(f"{at}: {php_string(price)} does not fit CS-Cart prices (decimal(12,2)); round it "
                               "first")
    return price


def _decimal(at: str, value: Any) -> Decimal:
    try:
        return php_decimal(value)
    except ValueError as exc:
        raise InvalidBatchItem(f"{at}: {exc}") from None


def _date(at: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    match = _DATE.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidBatchItem(f"{at}: must be a date YYYY-MM-DD or null, got {var_export(value)}")
    try:
        date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise InvalidBatchItem(f"{at}: must be a date YYYY-MM-DD or null, got {var_export(value)}") from None
    return str(value)
