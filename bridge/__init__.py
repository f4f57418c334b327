"""cscart-smile-bridge: keeps a CS-Cart B2B shop and the SMILE ERP consistent."""

__version__ = "0.1.0"
