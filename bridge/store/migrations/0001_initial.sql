-- What the bridge last wrote successfully, per target record: the diff base of every sync job.
CREATE TABLE ledger (
    target      TEXT NOT NULL,          -- cscart | smile | carrier:yamato | ...
    entity      TEXT NOT NULL,          -- product_stock | product_prices | user | ...
    key         TEXT NOT NULL,          -- e.g. SMILE 商品コード
    value_hash  TEXT NOT NULL,
    value_json  TEXT NOT NULL,
    pushed_at   TEXT NOT NULL,
    PRIMARY KEY (target, entity, key)
) WITHOUT ROWID;

-- Identity links between the two systems, written the moment a remote create succeeds.
CREATE TABLE bindings (
    system_a    TEXT NOT NULL,
    entity_a    TEXT NOT NULL,
    id_a        TEXT NOT NULL,
    system_b    TEXT NOT NULL,
    entity_b    TEXT NOT NULL,
    id_b        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (system_a, entity_a, id_a, system_b, entity_b)
) WITHOUT ROWID;
CREATE UNIQUE INDEX bindings_reverse ON bindings (system_b, entity_b, id_b, system_a, entity_a);

-- Per-job resume points (orders updated_at_from, add-on event id, ...).
CREATE TABLE cursors (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;

-- Every write to the outside goes through here; dead letters are rows in state 'dead'.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    target           TEXT NOT NULL,
    op               TEXT NOT NULL,
    entity           TEXT NOT NULL,
    key              TEXT NOT NULL,
    payload          TEXT NOT NULL,
    payload_hash     TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    track_ledger     INTEGER NOT NULL DEFAULT 1,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'in_flight', 'done', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL NOT NULL,      -- unix seconds
    lease_until      REAL,
    claimed_by       TEXT,
    last_error       TEXT,
    hint             TEXT,
    resolution       TEXT,               -- how a dead letter ended: replayed, discarded, superseded by #id
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX outbox_key ON outbox (target, entity, key, state);

-- The orders mirror: CS-Cart order, workflow state, payment state, SMILE binding.
CREATE TABLE orders (
    order_id         INTEGER PRIMARY KEY,
    cscart_status    TEXT NOT NULL,
    workflow_state   TEXT NOT NULL,
    payment_state    TEXT,
    customer_code    TEXT,
    direct_ship      INTEGER NOT NULL DEFAULT 0,
    total            TEXT NOT NULL,
    placed_at        TEXT NOT NULL,
    cscart_updated_at TEXT,
    smile_slip_no    TEXT,               -- 伝票番号
    smile_serial     TEXT,               -- 処理連番
    exported_at      TEXT,
    confirmed_at     TEXT,
    data_json        TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX orders_state ON orders (workflow_state);

CREATE TABLE order_transitions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    INTEGER NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX order_transitions_order ON order_transitions (order_id, id);

-- What happened, for people: job summaries, operator actions, alerts.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,               -- job name, 'cli', 'daemon'
    action  TEXT NOT NULL,
    subject TEXT,
    detail  TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

-- The scheduler's view of each job, for `bridge status` and readiness.
CREATE TABLE job_state (
    job              TEXT PRIMARY KEY,
    last_started_at  TEXT,
    last_success_at  TEXT,
    last_failure_at  TEXT,
    last_error       TEXT,
    next_run_at      TEXT,
    runs             INTEGER NOT NULL DEFAULT 0,
    failures         INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- At most one pending op per (target, entity, key, op): a newer desired value replaces the pending one.
CREATE UNIQUE INDEX outbox_coalesce ON outbox (target, entity, key, op) WHERE state = 'pending';
-- Claims walk pending rows in id order and stop at LIMIT; an index led by next_attempt_at would make sqlite sort
-- every pending row on each claim.
CREATE INDEX outbox_claim ON outbox (state, id);
