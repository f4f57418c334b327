"""Analytics: a columnar store (DuckDB) fed by the jobs, reports over it, forecasts, and scheduled report packs."""
