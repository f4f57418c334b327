-- The business dashboard's figures (bridge/store/business.py): today's orders by placed_at, today's shipments.
CREATE INDEX IF NOT EXISTS orders_placed_at ON orders (placed_at);
CREATE INDEX IF NOT EXISTS order_transitions_to_state_at ON order_transitions (to_state, at);
