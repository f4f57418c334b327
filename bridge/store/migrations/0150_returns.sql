-- issue 15: returns (返品) through CS-Cart's rma add-on. One row per return request the bridge has handled:
-- slipped = its 返品 slip is in a return batch, held = waiting (e.g. the order never reached SMILE), empty = nothing
-- accepted. A return batch is written like a 受注 batch: content recorded first, the file after, then 'written'.
CREATE TABLE return_batches (
    batch_id   TEXT PRIMARY KEY,
    file_name  TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('writing', 'written')),
    content    BLOB NOT NULL,
    created_at TEXT NOT NULL,
    written_at TEXT
);

CREATE TABLE returns (
    return_id    INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL,
    cs_status    TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('slipped', 'held', 'empty')),
    lines        TEXT NOT NULL,
    amount       TEXT NOT NULL,
    batch_id     TEXT REFERENCES return_batches (batch_id),
    note         TEXT NOT NULL DEFAULT '',
    requested_at TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX returns_order ON returns (order_id);
