-- Lines of mirrored orders, so the stock job can sum what SMILE has not yet confirmed without parsing JSON.
CREATE TABLE order_lines (
    order_id      INTEGER NOT NULL,
    line_no       INTEGER NOT NULL,
    product_code  TEXT NOT NULL,
    quantity      TEXT NOT NULL,
    PRIMARY KEY (order_id, line_no)
) WITHOUT ROWID;
CREATE INDEX order_lines_product ON order_lines (product_code);
