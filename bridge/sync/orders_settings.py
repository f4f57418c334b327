"""Operational settings of the orders job (``orders:`` in the config file once the composition root adds the field;
until then the defaults apply). Business rules live in rules/order_flow.yaml and rules/pricing.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class OrdersSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_seconds: float = Field(120.0, ge=0, description="Polling window starts this long before the last sync start")
    page_size: int = Field(250, ge=1, le=1000, description="items_per_page sent on every order listing")
    initial_lookback_hours: float = Field(24.0, gt=0, description="First poll (no cursor yet) reaches back this far")
    confirm_within_hours: float = Field(24.0, gt=0, description="Exported orders SMILE has not confirmed after this "
                                                                "long raise an alert")
    max_orders_per_file: int = Field(20_000, ge=1, description="Orders per 受注 file; more go to the next cycle")
    cancellation_file: bool = Field(False, description="Write a 赤伝 (negative) 受注 file for orders cancelled "
                                                       "after export, besides flagging them for staff")
    notify_on_instructed: bool = Field(False, description="E-mail the customer when the order becomes 出荷指示 "
                                                          "(besides the order_flow.yaml notifications)")
