-- issue 15: SMILE's 売掛残 is a figure "as of" the date of the file it came from; orders exported after that date are
-- not in it yet and count on top of it (bridge/sync/orders/credit.py).
ALTER TABLE customer_credit ADD COLUMN receivable_as_of TEXT;
CREATE INDEX IF NOT EXISTS orders_customer_code ON orders (customer_code);
