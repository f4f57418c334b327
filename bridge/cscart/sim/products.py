"""``/products``: lean and heavy listings, 2.0 vs 2.1 single GET, PUT with the ``prices[0]`` quirk."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from bridge.cscart.sim import addon_columns
from bridge.cscart.sim.api import ApiCall, ApiError, Result, as_list, envelope, page_params, paginate
from bridge.cscart.sim.state import SimProduct, SimState, money, mysql_utf8

TEXT_FIELDS = ("product", "product_code", "short_description", "full_description")
WRITABLE = {"product", "product_code", "price", "list_price", "amount", "status", "tracking", "company_id"}
# Columns the add-on may add to cscart_products; CS-Cart keeps any real column and drops unknown keys.
ADDON_COLUMNS = {"smile_code", "smile_updated_at"}
HEAVY_EXTRAS = ("get_features", "get_detailed", "get_icon", "get_additional", "get_options")


def list_row(p: SimProduct, heavy: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "product_id": str(p.product_id), "product": p.product, "product_code": p.product_code, "product_type": "P",
        "parent_product_id": "0", "status": p.status, "company_id": str(p.company_id), "list_price": p.list_price,
        "price": p.price, "base_price": p.price, "amount": str(p.amount), "tracking": p.tracking, "min_qty": "0",
        "max_qty": "0", "qty_step": "0", "weight": "0.000", "timestamp": str(p.timestamp),
        "updated_timestamp": str(p.updated_timestamp), "usergroup_ids": "0", "is_edp": "N",
        "out_of_stock_actions": "N", "zero_price_action": "R", "tax_ids": "", "category_ids": [1],
        "main_category": 1,
    }
    if p.extra:
        row.update(p.extra)
    if heavy:  # what CS-Cart adds unless the get_*=0 parameters are sent (≈ 4.4 KB per product)
        row["main_pair"] = {"pair_id": str(p.product_id), "image_id": "0", "detailed_id": str(p.product_id),
                            "position": "0", "detailed": {"image_path": f"https://shop.example.jp/images/"
                                                          f"detailed/{p.product_id % 97}/{p.product_code}.jpg",
                                                          "alt": p.product, "image_x": "800", "image_y": "800",
                                                          "http_image_path": "", "https_image_path": "",
                                                          "absolute_path": "", "relative_path": ""}}
        row["product_features"] = {str(i): {"feature_id": str(i), "value": p.product, "description": "特徴"}
                                   for i in range(1, 6)}
        row["product_options"] = []
        row["short_description"] = f"<p>{p.product}</p>" * 4
    return row


def price_rows(p: SimProduct) -> list[dict[str, str]]:
    rows = [{"product_id": str(p.product_id), "lower_limit": "1", "usergroup_id": "0",
             "percentage_discount": "0", "price": p.price}]
    for lower, group, price, percent in p.tiers or []:
        rows.append({"product_id": str(p.product_id), "lower_limit": str(lower), "usergroup_id": str(group),
                     "percentage_discount": percent, "price": price})
    return rows


def _matches(p: SimProduct, call: ApiCall, now: int) -> bool:
    params = call.params
    if (code := params.get("pcode")) and str(code) not in p.product_code:  # LIKE %code%, not exact
        return False
    if (status := params.get("status")) and p.status not in as_list(status):
        return False
    if (q := params.get("q")) and str(q) not in p.product and str(q) not in p.product_code:
        return False
    if (hours := params.get("updated_in_hours")) and p.updated_timestamp < now - int(hours) * 3600:
        return False
    if (amount_from := params.get("amount_from")) not in (None, "") and p.amount < int(amount_from):
        return False
    if (amount_to := params.get("amount_to")) not in (None, "") and p.amount > int(amount_to):
        return False
    return not ((company := params.get("company_id")) and p.company_id != int(company))


def index(call: ApiCall) -> Result:
    state = call.state
    if call.id is not None:
        product = call.row(state.products)  # the single GET's 404 names no detail
        row = list_row(product, heavy=True)
        row["product"] = product.name_in(_lang(state, call.params), state.settings.languages[0])
        row["full_description"] = ""
        if call.version != "2.0":  # the 2.0 single GET omits prices
            row["prices"] = price_rows(product)
        else:  # and carries the price with the column's 8 decimals
            row["price"] = f"{Decimal(product.price):.8f}"
        return Result(200, row)
    page, size = page_params(call)
    sort_by = str(call.params.get("sort_by") or "product")
    sort_order = str(call.params.get("sort_order") or "asc").lower()
    ordered = state.product_order(sort_by, sort_order == "desc")
    ids = {int(i) for i in as_list(call.params.get("pid")) + as_list(call.params.get("item_ids"))}
    filtering = ids or any(call.params.get(k) not in (None, "") for k in
                           ("pcode", "status", "q", "updated_in_hours", "amount_from", "amount_to", "company_id"))
    if filtering:
        now = state.now()
        selected = [pid for pid in ordered if (not ids or pid in ids) and _matches(state.products[pid], call, now)]
    else:
        selected = ordered
    heavy = not all(str(call.params.get(k, "1")) == "0" for k in HEAVY_EXTRAS)
    lang = _lang(state, call.params)
    rows = [list_row(state.products[pid], heavy) for pid in paginate(selected, page, size)]
    for row in rows:
        row["product"] = state.products[int(row["product_id"])].name_in(lang, state.settings.languages[0])
    echo = {**call.params, "page": page, "items_per_page": size, "sort_by": sort_by, "sort_order": sort_order,
            "include_child_variations": True}
    return Result(200, envelope("products", rows, echo, len(selected)))


def create(call: ApiCall) -> Result:
    state = call.state
    body = call.body
    if "price" not in body:
        raise ApiError(400, "The price field is required")  # presence only: "" and 0 are accepted
    if not body.get("product"):
        raise ApiError(400, "The product field is required")
    now = state.now()
    product_id = state.new_id("product", state.products)
    product = SimProduct(product_id=product_id, product_code="", product="", price=money(0), list_price=money(0),
                         amount=0, timestamp=now, updated_timestamp=now, company_id=state.settings.company_id)
    if state.addon is not None:
        product.extra = dict(addon_columns.PRODUCT_COLUMNS)
    state.products[product_id] = product
    state.catalog_changed()
    _apply(state, product, body)
    return Result(201, {"product_id": product_id})


def _lang(state: SimState, params: dict[str, Any]) -> str:
    """``AEntity::getLanguageCode``: a known lang_code, else the default language."""
    lang = str(params.get("lang_code") or "")
    return lang if lang in state.settings.languages else state.settings.languages[0]


def update(call: ApiCall) -> Result:
    state = call.state
    product = _get(state, call)
    if _apply(state, product, call.body, _lang(state, call.body)):
        product.updated_timestamp = state.now()  # fn_update_product always sets it
    return Result(200, {"product_id": product.product_id})


def delete(call: ApiCall) -> Result:
    state = call.state
    if state.products.pop(call.int_id(), None) is None:
        raise ApiError(403, "Access denied")  # 4.20.1 checks the (missing) product's owner first
    state.catalog_changed()
    return Result(204)


def _get(state: SimState, call: ApiCall) -> SimProduct:
    return call.row(state.products, "The Product not found", key="errors")


def _apply(state: SimState, product: SimProduct, body: dict[str, Any], lang: str | None = None) -> bool:
    """Apply known columns; unknown keys are dropped (CS-Cart filters writes to real table columns). The name goes
    to ``lang``'s description row only (None: a create, every language's row)."""
    columns = ADDON_COLUMNS | set(product.extra or ())  # the installed add-on's columns exist on the table
    known = {k: v for k, v in body.items() if k in WRITABLE or k in columns or k == "prices"}
    if not known:
        return False
    try:
        for key, value in known.items():
            if key in ("price", "list_price"):
                setattr(product, key, money(value))
            elif key == "amount":
                product.amount = mysql_mediumint(value)
            elif key == "company_id":
                product.company_id = int(Decimal(str(value)))
            elif key == "product" and lang is not None:
                _rename(state, product, lang, mysql_utf8(str(value)))
                state.rename_happened()
            elif key in TEXT_FIELDS or key in ("status", "tracking"):
                setattr(product, key, mysql_utf8(str(value)))
                if key in ("product", "product_code"):
                    state.rename_happened()
            elif key in columns:
                product.extra = {**(product.extra or {}), key: mysql_utf8(str(value))}
        if "prices" in known:
            product.tiers = _replace_tiers(known["prices"])
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ApiError(400, f"Invalid value: {exc}") from None
    return True


def _rename(state: SimState, product: SimProduct, lang: str, name: str) -> None:
    default = state.settings.languages[0]
    names = dict(product.names or {})
    if lang == default:
        for other in state.settings.languages[1:]:
            names.setdefault(other, product.product)  # the other rows keep the old name
        product.product = name
    else:
        names[lang] = name
    product.names = {k: v for k, v in names.items() if v != product.product} or None


AMOUNT_MIN, AMOUNT_MAX = -8388608, 8388607  # cscart_products.amount is a MEDIUMINT
_NUMBER_PREFIX = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def mysql_mediumint(value: Any) -> int:
    """What MySQL stores in a MEDIUMINT in CS-Cart's non-strict mode: the leading number of a string ("12abc" →
    12, "abc" → 0), rounded half away from zero (1.7 → 2, 2.5 → 3), clamped to the column's range."""
    match = _NUMBER_PREFIX.match(str(value))
    if match is None:
        return 0
    number = int(Decimal(match.group(0).strip()).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(AMOUNT_MIN, min(AMOUNT_MAX, number))


def _replace_tiers(prices: Any) -> list[tuple[int, int, str, str]]:
    """``fn_update_product_prices``: element 0 is discarded (the base row is rebuilt from ``price``) and every other
    tier of the product is deleted and rewritten from the rest."""
    rows = list(prices.values()) if isinstance(prices, dict) else list(prices or [])
    tiers: dict[tuple[int, int], tuple[int, int, str, str]] = {}
    for row in rows[1:]:
        if not isinstance(row, dict):
            continue
        lower = int(Decimal(str(row.get("lower_limit", 1))))
        group = int(Decimal(str(row.get("usergroup_id", 0))))
        if (lower, group) == (1, 0):
            continue  # the base row comes from ``price``
        if str(row.get("type", "A")).upper() == "P":
            if lower == 1 and group == 0:
                continue  # a percentage row at qty 1 for everyone is rejected
            tiers[(lower, group)] = (lower, group, money(0), money(row.get("price", 0)))
        else:
            tiers[(lower, group)] = (lower, group, money(row.get("price", 0)), "0")
    return [tiers[key] for key in sorted(tiers, key=lambda k: (k[1], k[0]))]
