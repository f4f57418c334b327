"""The ``smile_bridge`` add-on's columns on core tables, with the defaults ``fn_smile_bridge_columns()`` creates
(None = SQL NULL, served as JSON null). Kept apart from sim/addon.py so the entity modules can use it."""

from __future__ import annotations

from decimal import Decimal

USER_COLUMNS: dict[str, str | None] = {
    "smile_customer_code": "", "smile_price_rate": None, "smile_price_rounding": "down", "smile_price_unit": "1.0000",
    "smile_price_rate_base": "price", "smile_credit_limit": None, "smile_credit_exposure": "0.00",
}
PRODUCT_COLUMNS: dict[str, str] = {"smile_direct_ship_allowed": "N"}
ORDER_COLUMNS: dict[str, str] = {"smile_direct_ship": "N", "smile_direct_ship_recipient": "",
                                 "smile_direct_ship_surcharge": "0.00", "smile_ship_to_code": "",
                                 "smile_delivery_date": "", "smile_delivery_slot": ""}
# Decimal columns come back from MySQL with their declared scale ("70" is stored and read as "70.000").
DECIMAL_SCALES: dict[str, int] = {"smile_price_rate": 3, "smile_price_unit": 4, "smile_credit_limit": 2,
                                  "smile_credit_exposure": 2, "smile_direct_ship_surcharge": 2}


def stored(column: str, value: str | None) -> str | None:
    """``value`` as the column holds it: decimals at their scale, NULL kept."""
    scale = DECIMAL_SCALES.get(column)
    if value is None or scale is None:
        return value
    try:
        return f"{Decimal(str(value)):.{scale}f}"
    except ArithmeticError:
        return "0." + "0" * scale  # MySQL stores a non-number as 0 (with a warning)
