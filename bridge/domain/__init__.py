"""Typed, immutable records shared by every layer; money is Decimal yen, times are aware."""

from bridge.domain.catalog import CustomerPrice, PriceTier, Product, StockLevel, TierSet
from bridge.domain.customers import Address, Customer
from bridge.domain.money import Rounding, parse_decimal
from bridge.domain.orders import Order, OrderLine, PaymentState, Shipment, WorkflowState
from bridge.domain.time import JST, UTC, Clock, business_date

__all__ = [
    "JST",
    "UTC",
    "Address",
    "Clock",
    "Customer",
    "CustomerPrice",
    "Order",
    "OrderLine",
    "PaymentState",
    "PriceTier",
    "Product",
    "Rounding",
    "Shipment",
    "StockLevel",
    "TierSet",
    "WorkflowState",
    "business_date",
    "parse_decimal",
]
