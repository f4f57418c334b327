"""Small read-only entities: ``/payments``, ``/shippings``, ``/stores``, ``/languages`` and ``/version``."""

from __future__ import annotations

from bridge.cscart.sim.api import ApiCall, ApiError, Result, envelope, page_params, paginate


def payments(call: ApiCall) -> Result:
    rows = [{"payment_id": str(pid), "payment": name, "status": "A"} for pid, name in call.state.payments.items()]
    return _listing(call, "payments", "payment_id", rows)


def shippings(call: ApiCall) -> Result:
    rows = [{"shipping_id": str(sid), "shipping": name, "status": "A"} for sid, name in call.state.shippings.items()]
    return _listing(call, "shippings", "shipping_id", rows)


def categories(call: ApiCall) -> Result:
    """``GET /categories``: the state's categories, and every id a product is in (named after its id)."""
    state = call.state
    names = {cid: f"Category {cid}" for p in state.products.values() for cid in p.category_ids}
    names.update(state.categories)
    rows = [{"category_id": str(cid), "category": name, "status": "A", "parent_id": "0", "id_path": str(cid)}
            for cid, name in sorted(names.items())]
    return _listing(call, "categories", "category_id", rows)


def stores(call: ApiCall) -> Result:
    company_id = call.state.settings.company_id
    rows = [{"company_id": str(company_id), "company": "Simulated Store", "storefront": "shop.example.jp"}]
    return _listing(call, "stores", "company_id", rows)


def languages(call: ApiCall) -> Result:
    """A map keyed by lang_code inside the usual envelope, as 4.20.1 answers."""
    names = {"en": "English", "ja": "日本語"}
    rows = {code: {"lang_id": str(index), "lang_code": code, "name": names.get(code, code), "status": "A"}
            for index, code in enumerate(call.state.settings.languages, start=1)}
    if call.id is not None:
        if call.id not in rows:
            raise ApiError(404)
        return Result(200, rows[call.id])
    return Result(200, {"languages": rows, "params": {"items_per_page": "50", "page": 1, "total_items": len(rows)}})


def _listing(call: ApiCall, key: str, id_key: str, rows: list[dict[str, str]]) -> Result:
    if call.id is not None:
        for row in rows:
            if row[id_key] == call.id:
                return Result(200, row)
        raise ApiError(404, f"The {key[:-1]} {call.id} not found")
    page, size = page_params(call)
    echo = {**call.params, "page": page, "items_per_page": size}
    return Result(200, envelope(key, paginate(rows, page, size), echo, len(rows)))
