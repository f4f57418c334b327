-- An op taken back from a dispatcher that died holding it: it may already have reached the target, so the
-- dispatcher asks the sink (when it can tell) before sending it again.
ALTER TABLE outbox ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0;
