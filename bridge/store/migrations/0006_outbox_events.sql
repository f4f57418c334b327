-- Ops that are events rather than values (an order status change, which mails the customer) must each be delivered:
-- a newer one for the same record must not replace a pending one. Only ops with coalescing = 1 share the pending slot.
ALTER TABLE outbox ADD COLUMN coalescing INTEGER NOT NULL DEFAULT 1;
DROP INDEX outbox_coalesce;
CREATE UNIQUE INDEX outbox_coalesce ON outbox (target, entity, key, op) WHERE state = 'pending' AND coalescing = 1;
