-- 受注 export batches: recorded in the same transaction as the orders' move to 出荷指示, before the file gets its
-- name, so a restart can finish a half-done batch from the recorded content and never writes an order twice.
CREATE TABLE order_export_batches (
    batch_id     TEXT PRIMARY KEY,
    kind         TEXT NOT NULL DEFAULT 'order' CHECK (kind IN ('order', 'cancel')),
    file_name    TEXT NOT NULL UNIQUE,
    state        TEXT NOT NULL CHECK (state IN ('writing', 'written', 'discarded')),
    order_ids    TEXT NOT NULL,          -- JSON list, in file order
    rows         INTEGER NOT NULL,
    checksum     TEXT NOT NULL,          -- sha256 of the file's bytes
    content      BLOB,                   -- the file's bytes until it is written (recovery source)
    created_at   TEXT NOT NULL,
    written_at   TEXT
);
CREATE INDEX order_export_batches_state ON order_export_batches (state);

-- Which batch carried each order to SMILE. One live row per order and kind: a resend supersedes the old row.
CREATE TABLE order_exports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id      INTEGER NOT NULL,
    kind          TEXT NOT NULL DEFAULT 'order',
    batch_id      TEXT NOT NULL REFERENCES order_export_batches (batch_id),
    exported_at   TEXT NOT NULL,
    superseded_at TEXT,
    superseded_reason TEXT
);
CREATE UNIQUE INDEX order_exports_live ON order_exports (order_id, kind) WHERE superseded_at IS NULL;

-- Items for staff: cancelled or edited after export, unknown customer (諸口), unconfirmed by SMILE …
CREATE TABLE order_flags (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id     INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    detail       TEXT NOT NULL,
    at           TEXT NOT NULL,
    resolved_at  TEXT
);
CREATE UNIQUE INDEX order_flags_open ON order_flags (order_id, kind) WHERE resolved_at IS NULL;

-- Credit (与信) per SMILE customer: the limit from the 得意先 master and the receivable balance known to the bridge.
CREATE TABLE customer_credit (
    customer_code TEXT PRIMARY KEY,
    credit_limit  TEXT,                  -- NULL = no limit recorded
    receivable    TEXT NOT NULL DEFAULT '0',
    updated_at    TEXT NOT NULL
) WITHOUT ROWID;

-- Who put an order on hold: the bridge's gates re-evaluate their own holds; a staff hold waits for staff.
ALTER TABLE orders ADD COLUMN hold_reason TEXT;
ALTER TABLE orders ADD COLUMN hold_by TEXT;
ALTER TABLE orders ADD COLUMN content_hash TEXT;
