"""Operational settings of the orders job: ``orders:`` in the config file (``BRIDGE_ORDERS__OVERLAP_SECONDS=…``).

The model lives in bridge/config.py beside the other sections (bridge.sync imports the settings, so the settings
cannot import bridge.sync); this module is where the orders code takes it from. Business rules live in
rules/order_flow.yaml and rules/pricing.yaml.
"""

from __future__ import annotations

from bridge.config import OrdersSettings

__all__ = ["OrdersSettings"]
