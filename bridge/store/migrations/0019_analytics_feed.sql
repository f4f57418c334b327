-- The analytics feed reads the orders mirror incrementally by updated_at (bridge/analytics/feed.py).
CREATE INDEX IF NOT EXISTS orders_updated_at ON orders (updated_at);
