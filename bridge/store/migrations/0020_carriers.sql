-- Carrier label files: recorded with their bytes in the transaction that marks their orders labelled, before the file
-- exists, so a restart finishes a half-written file and no order is ever put on two label files.
CREATE TABLE carrier_label_files (
    file_name    TEXT PRIMARY KEY,
    carrier      TEXT NOT NULL,
    directory    TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('writing', 'written')),
    order_ids    TEXT NOT NULL,          -- JSON list, in file order
    checksum     TEXT NOT NULL,          -- sha256 of the file's bytes
    content      BLOB,                   -- the bytes until the file is written (recovery source)
    created_at   TEXT NOT NULL,
    written_at   TEXT
);
CREATE INDEX carrier_label_files_state ON carrier_label_files (state);

-- Which label file carried each order to its carrier (one per order).
CREATE TABLE carrier_labels (
    order_id     INTEGER PRIMARY KEY,
    carrier      TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    exported_at  TEXT NOT NULL
);

-- Parcels imported from result files: one row per (order, tracking number), so a re-import is a no-op.
CREATE TABLE carrier_shipments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id        INTEGER NOT NULL,
    carrier         TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    shipped_at      TEXT NOT NULL,
    items           TEXT NOT NULL,       -- JSON {item_id: quantity}; {} = every item still unshipped
    source          TEXT NOT NULL,       -- file:line it came from
    imported_at     TEXT NOT NULL,
    UNIQUE (order_id, tracking_number)
);
