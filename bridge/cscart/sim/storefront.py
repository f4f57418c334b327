"""Small read-only entities: ``/payments``, ``/shippings``, ``/stores`` and ``/version``."""

from __future__ import annotations

from bridge.cscart.sim.api import ApiCall, ApiError, Result, envelope, page_params, paginate


def payments(call: ApiCall) -> Result:
    rows = [{"payment_id": str(pid), "payment": name, "status": "A"} for pid, name in call.state.payments.items()]
    return _listing(call, "payments", "payment_id", rows)


def shippings(call: ApiCall) -> Result:
    rows = [{"shipping_id": str(sid), "shipping": name, "status": "A"} for sid, name in call.state.shippings.items()]
    return _listing(call, "shippings", "shipping_id", rows)


def stores(call: ApiCall) -> Result:
    company_id = call.state.settings.company_id
    rows = [{"company_id": str(company_id), "company": "Simulated Store", "storefront": "shop.example.jp"}]
    return _listing(call, "stores", "company_id", rows)


def _listing(call: ApiCall, key: str, id_key: str, rows: list[dict[str, str]]) -> Result:
    if call.id is not None:
        for row in rows:
            if row[id_key] == call.id:
                return Result(200, row)
        raise ApiError(404, f"The {key[:-1]} {call.id} not found")
    page, size = page_params(call)
    echo = {**call.params, "page": page, "items_per_page": size}
    return Result(200, envelope(key, paginate(rows, page, size), echo, len(rows)))
