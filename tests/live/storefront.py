"""The real storefront in headless Chromium, driven by selenium through Debian's chromedriver (Debian packages
``chromium`` and ``chromium-driver``): both paths are given, so selenium never downloads a browser or a driver.

Every step can save a screenshot into the test's folder for a person to look at; assertion messages name the file.
CS-Cart 4.20's lite checkout re-renders parts of the page over AJAX, so each action waits for jQuery to go idle."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any, Self

import pytest

USER_AGENT_NOTE = "CS-Cart starts no session for crawler user agents; headless Chromium's own one is a browser's"


def browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("the browser tests need Debian's chromium and chromium-driver (apt-get install chromium "
                    "chromium-driver); .ci/run installs them")
    return chromium, driver


class Storefront:
    """One customer's browser on the storefront (``lang``: the storefront language, ``sl=``)."""

    def __init__(self, url: str, shots: Path, *, lang: str = "ja") -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        chromium, driver = browser_paths()
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,2400", f"--lang={lang}"):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service(driver), options=options)
        self.driver.set_page_load_timeout(120)
        self.url = url.rstrip("/")
        self.lang = lang
        self.shots = shots
        self.refusal = ""
        shots.mkdir(parents=True, exist_ok=True)
        self._count = 0

    def close(self) -> None:
        self.driver.quit()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- looking ----------------------------------------------------------------------------------------

    def shot(self, name: str) -> Path:
        self._count += 1
        path = self.shots / f"{self._count:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def page(self, dispatch: str, **params: Any) -> None:
        query = "".join(f"&{key}={value}" for key, value in params.items())
        self.driver.get(f"{self.url}/index.php?dispatch={dispatch}&sl={self.lang}{query}")
        self.idle()

    def idle(self, timeout: float = 60) -> None:
        """Wait until the page has loaded and no AJAX request is running (twice in a row: one re-render can
        start the next request)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            busy = self.driver.execute_script(
                "return document.readyState !== 'complete' || !!(window.jQuery && window.jQuery.active);")
            quiet = 0 if busy else quiet + 1
            if quiet >= 3:
                return
            time.sleep(0.2)
        raise AssertionError(f"the storefront stayed busy for {timeout} s (see {self.shot('busy')})")

    def text(self, css: str) -> str:
        from selenium.webdriver.common.by import By

        return "\n".join(element.text for element in self.driver.find_elements(By.CSS_SELECTOR, css))

    def notifications(self) -> str:
        return self.text(".cm-notification-content, .notification-content, .ty-error-text")

    def problems(self) -> str:
        """Every notification but the notices (``alert-success``: e.g. the promotions applied). Not only
        ``alert-error``/``alert-warning``: the credit refusal at checkout came without either class (seen live)."""
        return self.text(".cm-notification-content:not(.alert-success), .ty-error-text")

    def exists(self, element_id: str) -> bool:
        from selenium.webdriver.common.by import By

        return bool(self.driver.find_elements(By.ID, element_id))

    # ---- doing ------------------------------------------------------------------------------------------

    def click(self, css: str) -> None:
        """A click through JavaScript: the cookie-consent box of the demo theme may lie over the element."""
        from selenium.webdriver.common.by import By

        element = self.driver.find_element(By.CSS_SELECTOR, css)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)
        self.idle()

    def type(self, element_id: str, text: str) -> None:
        """Replace the field's text and leave it, so its change event fires."""
        from selenium.webdriver.common.by import By

        element = self.driver.find_element(By.ID, element_id)
        element.clear()
        element.send_keys(text)
        self.driver.execute_script("arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", element)
        self.idle()

    def choose(self, element_id: str, value: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        Select(self.driver.find_element(By.ID, element_id)).select_by_value(value)
        self.idle()

    def options(self, element_id: str) -> list[str]:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        return [option.get_attribute("value") or "" for option in
                Select(self.driver.find_element(By.ID, element_id)).options]

    def login(self, email: str, password: str) -> None:
        from selenium.webdriver.common.by import By

        self.page("auth.login_form")
        form = self.driver.find_element(By.CSS_SELECTOR, "form[name=main_login_form]")
        form.find_element(By.NAME, "user_login").send_keys(email)
        form.find_element(By.NAME, "password").send_keys(password)
        form.find_element(By.NAME, "dispatch[auth.login]").click()
        self.idle()
        self.page("profiles.update")
        assert email in self.driver.page_source, f"{email} could not sign in (see {self.shot('login-failed')})"

    def add_to_cart(self, product_id: int, amount: int = 1) -> None:
        """The product page's カートに入れる, ``amount`` typed into its quantity field first."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        self.page("products.view", product_id=product_id)
        if amount != 1:
            field = self.driver.find_element(By.NAME, f"product_data[{product_id}][amount]")
            if field.tag_name == "select":  # a product with a quantity step offers a list
                Select(field).select_by_value(str(amount))
            else:  # set, not typed: the quantity changer's own scripts act on every key
                self.driver.execute_script(
                    "arguments[0].value = arguments[1];"
                    "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", field, str(amount))
        self.click("button[name^='dispatch[checkout.add']")

    def empty_cart(self) -> None:
        self.page("checkout.clear")

    def checkout(self) -> None:
        self.page("checkout.checkout")

    def choose_payment(self, payment_id: int, *, phone: str = "2025550143") -> None:
        """Pick the payment method; a phone-ordering method's phone field gets ``phone``, digits the store's phone
        mask accepts (the demo store's mask is the US one: it refuses 03-1234-5678 and prefixes +1 to +81…)."""
        self.click(f"label#payments_{payment_id}")
        if self.exists("customer_phone"):
            self.type("customer_phone", phone)

    def checkout_as(self, email: str, password: str, product_id: int, payment_id: int, amount: int = 1) -> None:
        """Signed in as ``email`` with only ``amount`` of the product in the cart, at the checkout with the payment
        method chosen: where every checkout scenario starts."""
        self.login(email, password)
        self.empty_cart()
        self.add_to_cart(product_id, amount)
        self.checkout()
        self.choose_payment(payment_id)

    def place_order(self) -> int | None:
        """Accept the terms, press 注文を確定する; the new order's id, or None when the store refused it (its
        messages are kept in ``refusal``: CS-Cart's notifications close by themselves a few seconds later). A notice
        (「次のキャンペーンが適用されました」) is no refusal."""
        from selenium.webdriver.common.by import By

        for box in self.driver.find_elements(By.CSS_SELECTOR, "#litecheckout_payments_form input.cm-agreement"):
            if not box.is_selected():
                self.driver.execute_script("arguments[0].click();", box)
        self.click("#litecheckout_place_order")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"order_id=(\d+)", self.driver.current_url)
            if found:
                return int(found.group(1))
            shown = self.problems()
            if "checkout.complete" not in self.driver.current_url and shown:
                self.refusal = shown
                return None
            time.sleep(0.3)
        return None
