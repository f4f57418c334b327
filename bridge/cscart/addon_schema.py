"""What an installed ``smile_bridge`` add-on must have put into a store, as the PHP install writes it
(``includes/install.php`` and ``addon.xml``): its tables, its columns on core tables and its four order statuses with
their names per language. ``bridge addon install`` checks a store against this; the PHPUnit glue tests and the live
tests keep it true to the PHP side.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StatusName:
    key: str  # the add-on's key (params table ``status.<key>``, the feed's ``params.statuses``)
    preferred: str  # the letter taken when free
    ja: str  # the name in the store's Japanese rows
    en: str  # the name in every other language's rows


STATUSES: tuple[StatusName, ...] = (
    StatusName("hold", "H", "保留", "On hold (保留)"),
    StatusName("shipping_instructed", "J", "出荷指示", "Shipping instructed (出荷指示)"),
    StatusName("shipped", "S", "出荷済", "Shipped (出荷済)"),
    StatusName("notified", "W", "出荷通知済", "Shipping notified (出荷通知済)"),
)

TABLES: tuple[str, ...] = ("smile_bridge_events", "smile_bridge_customer_prices", "smile_bridge_params")
# Tables the uninstall drops. All three go: the params table last, by fn_smile_bridge_uninstall.
UNINSTALL_DROPS: tuple[str, ...] = TABLES

COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("smile_customer_code", "smile_price_rate", "smile_price_rounding", "smile_price_unit",
              "smile_price_rate_base", "smile_credit_limit", "smile_credit_exposure"),
    "products": ("smile_direct_ship_allowed",),
    "orders": ("smile_direct_ship", "smile_direct_ship_recipient", "smile_direct_ship_surcharge",
               "smile_ship_to_code"),
}
