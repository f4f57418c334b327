-- The analytics store (DuckDB): facts the jobs append as they run. Times are UTC; *_local columns are Japan time
-- (naive), *_day columns are JST business dates, so every period boundary is a JST one.

CREATE TABLE IF NOT EXISTS orders (
    order_id        BIGINT PRIMARY KEY,
    placed_at       TIMESTAMP NOT NULL,      -- UTC
    placed_local    TIMESTAMP NOT NULL,      -- Japan time
    placed_day      DATE NOT NULL,           -- JST business date
    customer_code   VARCHAR NOT NULL,        -- 得意先コード ('' when unknown)
    user_id         BIGINT,
    email           VARCHAR,
    prefecture      VARCHAR NOT NULL,        -- of the delivery address
    payment_method  VARCHAR NOT NULL,
    payment_kind    VARCHAR NOT NULL,        -- on_account | prepaid | card | cod | other
    direct_ship     BOOLEAN NOT NULL,        -- 直送
    campaigns       VARCHAR[] NOT NULL,
    state           VARCHAR NOT NULL,        -- workflow state now
    total           DECIMAL(14, 2) NOT NULL,
    subtotal        DECIMAL(14, 2) NOT NULL,
    shipping_cost   DECIMAL(14, 2) NOT NULL,
    requested_day   DATE,                    -- 配達希望日
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS order_lines (
    order_id        BIGINT NOT NULL,
    line_no         INTEGER NOT NULL,
    product_code    VARCHAR NOT NULL,
    quantity        DECIMAL(14, 3) NOT NULL,
    unit_price      DECIMAL(14, 2) NOT NULL,
    amount          DECIMAL(16, 2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

-- the CS-Cart promotions that applied to an order and what each gave (the add-on reports them; the orders mirror
-- keeps them): what the campaigns report counts as a campaign's use and benefit, as `bridge campaigns report` does
CREATE TABLE IF NOT EXISTS order_promotions (
    order_id        BIGINT NOT NULL,
    promotion_id    BIGINT NOT NULL,
    campaign_id     VARCHAR NOT NULL,        -- rules/campaigns.yaml id ('' when the bridge does not manage it)
    discount        DECIMAL(14, 2) NOT NULL, -- yen off the order
    free_shipping   BOOLEAN NOT NULL,
    bonus_items     VARCHAR NOT NULL,        -- JSON [[商品コード, quantity], …] given free
    PRIMARY KEY (order_id, promotion_id)
);

-- every workflow state an order entered, with when
CREATE TABLE IF NOT EXISTS order_states (
    transition_id   BIGINT PRIMARY KEY,      -- order_transitions.id of the state store
    order_id        BIGINT NOT NULL,
    state           VARCHAR NOT NULL,
    entered_at      TIMESTAMP NOT NULL       -- UTC
);

CREATE TABLE IF NOT EXISTS shipments (
    shipment_id     BIGINT PRIMARY KEY,      -- carrier_shipments.id of the state store
    order_id        BIGINT NOT NULL,
    carrier         VARCHAR NOT NULL,
    tracking_number VARCHAR NOT NULL,
    shipped_at      TIMESTAMP NOT NULL,      -- UTC
    shipped_day     DATE NOT NULL            -- JST
);

-- returned goods (返品), one row per product of a return, fed by ``feed.record_return(s)``; sales and customer
-- reports are net of them, on the day of the return
CREATE TABLE IF NOT EXISTS returns (
    return_id       VARCHAR NOT NULL,        -- the return's id in the shop (CS-Cart rma return_id)
    order_id        BIGINT NOT NULL,
    customer_code   VARCHAR NOT NULL,        -- 得意先コード ('' when unknown)
    product_code    VARCHAR NOT NULL,
    quantity        DECIMAL(14, 3) NOT NULL, -- units returned (positive)
    amount          DECIMAL(16, 2) NOT NULL, -- money credited for them (positive)
    returned_at     TIMESTAMP NOT NULL,      -- UTC
    returned_day    DATE NOT NULL,           -- JST
    reason          VARCHAR NOT NULL,
    PRIMARY KEY (return_id, product_code)
);

-- stock per SKU and warehouse: a row only when a value changed (the state holds until the next row)
CREATE TABLE IF NOT EXISTS stock_changes (
    product_code    VARCHAR NOT NULL,
    warehouse_code  VARCHAR NOT NULL,
    day             DATE NOT NULL,
    on_hand         DECIMAL(14, 3) NOT NULL,
    allocated       DECIMAL(14, 3) NOT NULL,
    on_order        DECIMAL(14, 3) NOT NULL,  -- 発注残
    expected_on     DATE                      -- 入荷予定日
    -- one row per (product_code, warehouse_code, day); no key: rows arrive in day order and the feed replaces a
    -- day's row itself, which keeps a year of 100k SKUs cheap to append to
);

-- the last known figures per SKU and warehouse (what a new snapshot is compared with)
CREATE TABLE IF NOT EXISTS stock_current (
    product_code    VARCHAR NOT NULL,
    warehouse_code  VARCHAR NOT NULL,
    day             DATE NOT NULL,
    on_hand         DECIMAL(14, 3) NOT NULL,
    allocated       DECIMAL(14, 3) NOT NULL,
    on_order        DECIMAL(14, 3) NOT NULL,
    expected_on     DATE,
    PRIMARY KEY (product_code, warehouse_code)
);

-- product attributes now, and the history of cost and selling price (a row when one changed)
CREATE TABLE IF NOT EXISTS products (
    product_code    VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    category_code   VARCHAR NOT NULL,
    maker_name      VARCHAR NOT NULL,
    cost_price      DECIMAL(14, 2),
    standard_price  DECIMAL(14, 2),
    updated_day     DATE NOT NULL
);

CREATE TABLE IF NOT EXISTS price_history (
    product_code    VARCHAR NOT NULL,
    day             DATE NOT NULL,
    cost_price      DECIMAL(14, 2),
    standard_price  DECIMAL(14, 2),
    PRIMARY KEY (product_code, day)
);

CREATE TABLE IF NOT EXISTS customers (
    customer_code   VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    prefecture      VARCHAR NOT NULL,
    customer_group  VARCHAR NOT NULL,        -- ランクn / 掛率 / 標準
    credit_limit    DECIMAL(14, 0),
    suspended       BOOLEAN NOT NULL,
    updated_day     DATE NOT NULL
);

-- how far the feed from the state store got
CREATE TABLE IF NOT EXISTS feed_cursors (
    name            VARCHAR PRIMARY KEY,
    value           VARCHAR NOT NULL
);

-- low-stock alerts: SKUs below their reorder point now (an alert is raised when one enters)
CREATE TABLE IF NOT EXISTS below_reorder (
    product_code    VARCHAR PRIMARY KEY,
    since_day       DATE NOT NULL,
    available       DECIMAL(14, 3) NOT NULL,
    reorder_point   DECIMAL(14, 3) NOT NULL
);

-- the low-stock check follows what changed: the SKUs whose stock figures changed since the last check (written by
-- every stock feed in its own transaction, emptied by the check), the demand sums each SKU's reorder point was last
-- checked with, and the day and options of that check (none, another day or other options: a full check)
CREATE TABLE IF NOT EXISTS stock_unchecked (
    product_code    VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS reorder_checked (
    product_code    VARCHAR NOT NULL,
    total           DECIMAL(38, 3) NOT NULL,   -- Σ daily demand over the lookback window
    squares         DECIMAL(38, 6) NOT NULL    -- Σ (daily demand)²
);

CREATE TABLE IF NOT EXISTS low_stock_state (
    name            VARCHAR PRIMARY KEY,
    value           VARCHAR NOT NULL
);
