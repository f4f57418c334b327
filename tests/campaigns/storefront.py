"""A shopper in a browser, scripted: log in on a real CS-Cart storefront, put a product in the cart and place the
order through the checkout page's own form (live tests only).

CS-Cart starts no session for a User-Agent that looks like a script and binds the session to the User-Agent
(cscart.md §11.3), so every request sends one browser User-Agent. Forms carry their ``security_hash``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import aiohttp

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


class _Form(HTMLParser):
    """The fields of one named form as a browser would submit them (checked radios and boxes, selected options)."""

    def __init__(self, name: str) -> None:
        super().__init__(convert_charrefs=True)
        self.name = name
        self.inside = False
        self.fields: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("name") == self.name
            return
        if not self.inside:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("radio", "checkbox"):
                self.radios.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file", "image"):
                self.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self.fields.setdefault(self._select, value)
            if "selected" in a:
                self.fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(page: str, name: str) -> _Form:
    parser = _Form(name)
    parser.feed(page)
    return parser


class Shopper:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.session = aiohttp.ClientSession(headers={"User-Agent": BROWSER}, cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str) -> str:
        async with self.session.get(f"{self.url}/{path.lstrip('/')}") as response:
            assert response.status == 200, (path, response.status)
            return await response.text()

    async def post(self, fields: dict[str, str]) -> str:
        async with self.session.post(f"{self.url}/index.php", data=fields) as response:
            assert response.status == 200, (fields.get("dispatch"), response.status)
            return await response.text()

    @staticmethod
    def security_hash(page: str) -> str:
        found = re.search(r'name="security_hash"[^>]*value="([0-9a-f]+)"', page)
        assert found, "no security_hash on the page"
        return found.group(1)

    async def log_in(self, email: str, password: str) -> None:
        page = await self.get("index.php?dispatch=auth.login_form")
        after = await self.post({"dispatch[auth.login]": "", "user_login": email, "password": password,
                                 "security_hash": self.security_hash(page), "return_url": "index.php"})
        assert "Sign out" in after or "sign out" in after.lower(), "storefront login failed"

    async def add_to_cart(self, product_id: int, amount: int) -> None:
        page = await self.get(f"index.php?dispatch=products.view&product_id={product_id}")
        await self.post({f"dispatch[checkout.add..{product_id}]": "",
                         f"product_data[{product_id}][product_id]": str(product_id),
                         f"product_data[{product_id}][amount]": str(amount), "security_hash": self.security_hash(page)})

    async def empty_cart(self) -> None:
        page = await self.get("index.php?dispatch=checkout.cart")
        await self.post({"dispatch[checkout.clear]": "", "security_hash": self.security_hash(page)})

    async def place_order(self, payment_id: int) -> str:
        """Submit the checkout page's form with ``payment_id`` and the terms accepted; returns the page after."""
        page = await self.get("index.php?dispatch=checkout.checkout")
        form = form_fields(page, "litecheckout_payments_form")
        fields: dict[str, Any] = dict(form.fields)
        fields.pop("dispatch", None)
        for name in [n for n in fields if n.startswith("payment_info[")]:
            fields.pop(name)
        fields.update({"dispatch[checkout.place_order]": "", "payment_id": str(payment_id),
                       "selected_payment_method": str(payment_id), "accept_terms": "Y",
                       "gdpr_agreements[checkout_place_order]": "Y"})
        fields.setdefault("security_hash", self.security_hash(page))
        return await self.post({k: str(v) for k, v in fields.items()})
