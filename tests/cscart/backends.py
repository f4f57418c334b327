"""Contract targets: the simulator, or a real CS-Cart where the tests touch only records they create."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aiohttp
from pydantic import SecretStr

from bridge.cscart.client import CSCartClient, basic_auth
from bridge.cscart.settings import CSCartSettings
from bridge.cscart.simulator import Simulator

NO_BODY = object()


class Backend:
    """What a contract test needs: raw HTTP, the bridge's client, and records of its own."""

    company_id = 1
    is_sim = False

    def __init__(self, url: str, email: str, api_key: str) -> None:
        self.url = url.rstrip("/")
        self.email = email
        self.api_key = api_key
        self.client = CSCartClient(CSCartSettings(url=self.url, email=email, api_key=SecretStr(api_key),
                                                  company_id=self.company_id, timeout=30))
        self._http: aiohttp.ClientSession | None = None
        self._created: list[tuple[str, int]] = []
        self.tag = uuid.uuid4().hex[:8]

    async def __aenter__(self) -> Backend:
        self._http = aiohttp.ClientSession()
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for kind, record_id in reversed(self._created):
            await self.raw("DELETE", f"{kind}/{record_id}")
        await self.client.close()
        assert self._http is not None
        await self._http.close()

    async def raw(self, method: str, path: str, *, json_body: Any = NO_BODY, data: bytes | None = None,
                  content_type: str | None = None, params: dict[str, Any] | None = None,
                  auth: bool = True, version: str = "2.1") -> tuple[int, Any]:
        """A request exactly as given: no Content-Type unless ``content_type`` or ``json_body`` says so."""
        assert self._http is not None
        headers = {"Authorization": basic_auth(self.email, self.api_key)} if auth else {}
        if json_body is not NO_BODY:
            data = json.dumps(json_body).encode()
            content_type = content_type or "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        async with self._http.request(method, f"{self.url}/api/{version}/{path}", data=data, params=params,
                                      headers=headers, skip_auto_headers=["Content-Type"]) as response:
            text = await response.text()
            self.last_headers = response.headers
            return response.status, (json.loads(text) if text else None)

    async def create_product(self, *, amount: int = 10, price: int = 1000) -> int:
        status, body = await self.raw("POST", "products", json_body={
            "product": f"契約テスト {self.tag}", "product_code": f"CT-{self.tag}-{len(self._created)}",
            "price": price, "amount": amount, "status": "D", "company_id": self.company_id,
            **await self._product_extras()})
        assert status == 201, body
        product_id = int(body["product_id"])
        self._created.append(("products", product_id))
        return product_id

    async def _product_extras(self) -> dict[str, Any]:
        return {}

    async def create_user(self, *, lastname: str = "契約") -> int:
        status, body = await self.raw("POST", "users", json_body={
            "email": f"contract-{self.tag}-{len(self._created)}@example.jp", "user_type": "C",
            "company_id": self.company_id, "firstname": "テスト", "lastname": lastname, "status": "A"})
        assert status == 201, body
        user_id = int(body["user_id"])
        self._created.append(("users", user_id))
        return user_id

    async def place_order(self, product_id: int, amount: int) -> int:
        payment_id, shipping_id = await self._first_ids()
        status, body = await self.raw("POST", f"stores/{self.company_id}/orders", json_body={
            "user_id": 0, "payment_id": payment_id, "shipping_id": shipping_id,
            "products": {str(product_id): {"product_id": product_id, "amount": amount}},
            "user_data": {"email": f"order-{self.tag}@example.jp", "firstname": "注文", "lastname": "テスト",
                          "b_country": "JP", "s_country": "JP"}})
        assert status == 201, body
        order_id = int(body["order_id"])
        self._created.insert(0, ("orders", order_id))  # deleted before its products
        return order_id

    async def _first_ids(self) -> tuple[int, int]:
        _, payments = await self.raw("GET", "payments", params={"items_per_page": 1})
        _, shippings = await self.raw("GET", "shippings", params={"items_per_page": 1})
        return int(payments["payments"][0]["payment_id"]), int(shippings["shippings"][0]["shipping_id"])

    async def amount(self, product_id: int) -> int:
        status, body = await self.raw("GET", f"products/{product_id}")
        assert status == 200, body
        return int(body["amount"])

    async def order(self, order_id: int) -> dict[str, Any]:
        status, body = await self.raw("GET", f"orders/{order_id}")
        assert status == 200, body
        return body

    async def unknown_letter(self) -> str:
        known = set(await self.client.statuses(refresh=True))
        return next(letter for letter in "ZXWVUSRQ" if letter not in known)

    async def age_order(self, order_id: int) -> None:
        """Make the order's updated_at lie in the past, so a later change is visible in it."""
        await asyncio.sleep(1.1)  # updated_at has one-second resolution on a real store


class SimBackend(Backend):
    is_sim = True

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.company_id = sim.state.settings.company_id
        super().__init__(sim.url, sim.email, sim.api_key)

    async def age_order(self, order_id: int) -> None:
        order = self.sim.state.orders[order_id]
        order.updated_at -= 3600
        order.timestamp -= 3600


class LiveBackend(Backend):
    def __init__(self, url: str, email: str, api_key: str, *, company_id: int) -> None:
        self.company_id = company_id
        super().__init__(url, email, api_key)

    async def _product_extras(self) -> dict[str, Any]:
        _, categories = await self.raw("GET", "categories", params={"items_per_page": 1})
        return {"category_ids": [int(categories["categories"][0]["category_id"])]}
