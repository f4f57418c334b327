"""Every Prometheus metric the bridge exports, defined in one place (names follow Prometheus conventions).

Sync jobs are labelled ``sync_job``, never ``job``: Prometheus owns ``job`` (the scrape job) and would rename ours to
``exported_job``. ops/prometheus/alerts.yml and ops/grafana/dashboard.json query these names; tests/ops checks them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

# Jobs (scheduler)
JOB_RUNS = Counter("bridge_job_runs_total", "Job runs by outcome", ["sync_job", "outcome"], registry=REGISTRY)
JOB_DURATION = Histogram(
    "bridge_job_duration_seconds",
    "Wall time of one job run",
    ["sync_job"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800),
    registry=REGISTRY,
)
JOB_LAST_SUCCESS = Gauge(
    "bridge_job_last_success_timestamp_seconds", "Unix time of the last successful run", ["sync_job"], registry=REGISTRY
)
JOB_INTERVAL = Gauge("bridge_job_interval_seconds", "Configured interval of each job", ["sync_job"], registry=REGISTRY)
JOB_RUNNING = Gauge("bridge_job_running", "1 while the job runs", ["sync_job"], registry=REGISTRY)
JOB_RECORDS = Counter(
    "bridge_job_records_total", "Records per job by stage: read, changed, written, failed", ["sync_job", "stage"],
    registry=REGISTRY,
)

# Outbox and dispatch
OUTBOX_OPS = Gauge("bridge_outbox_ops", "Outbox rows by state", ["state"], registry=REGISTRY)
DEAD_LETTERS = Gauge("bridge_dead_letters", "Outbox rows in state dead", registry=REGISTRY)
DISPATCHER_HEALTHY = Gauge(
    "bridge_dispatcher_healthy", "1 while the dispatcher can record what it delivers (0: see /readyz)", registry=REGISTRY
)
DELIVERIES = Counter(
    "bridge_deliveries_total", "Delivery results by target and outcome (done, retry, dead)", ["target", "outcome"],
    registry=REGISTRY,
)
DELIVERY_RETRIES = Counter(
    "bridge_delivery_short_retries_total", "Immediate retries inside one dispatch", ["target"], registry=REGISTRY
)
RECOVERED_CHECKS = Counter(
    "bridge_recovered_ops_total",
    "Ops taken back from a dispatcher that died, by what the check before resending found (applied, resend)",
    ["target", "result"], registry=REGISTRY,
)
DELIVERY_DURATION = Histogram(
    "bridge_delivery_duration_seconds", "Time to deliver one op, retries included", ["target"], registry=REGISTRY
)

# Outside systems
API_REQUESTS = Counter(
    "bridge_api_requests_total", "HTTP calls to CS-Cart by endpoint and status code", ["endpoint", "method", "status"],
    registry=REGISTRY,
)
API_LATENCY = Histogram(
    "bridge_api_request_duration_seconds", "HTTP call latency by endpoint", ["endpoint", "method"], registry=REGISTRY
)
AUTH_FAILING = Gauge(
    "bridge_cscart_auth_failing", "1 while CS-Cart refuses the credentials (401/403)", registry=REGISTRY
)
RULE_RELOADS = Counter("bridge_rule_reloads_total", "Rule reloads by outcome", ["outcome"], registry=REGISTRY)
RULES_VALID = Gauge("bridge_rules_valid", "1 if the rules on disk are the rules in force", registry=REGISTRY)

# Business health (alerted on in ops/prometheus/alerts.yml)
SMILE_FILES_PROCESSED = Counter(
    "bridge_smile_files_processed_total", "SMILE inbox files read and applied, by layout", ["layout"],
    registry=REGISTRY,
)
SMILE_FILES_QUARANTINED = Counter(
    "bridge_smile_files_quarantined_total", "SMILE inbox files moved to quarantine (unreadable or refused)",
    ["layout"], registry=REGISTRY,
)
SMILE_FILES = Counter(
    "bridge_smile_files_total", "SMILE inbox files by layout and outcome (applied, rejected, duplicate, too_large)",
    ["layout", "outcome"], registry=REGISTRY,
)
SMILE_TEXT_SUBSTITUTIONS = Counter(
    "bridge_smile_text_substitutions_total", "Values changed by the text guard when writing SMILE files, by reason",
    ["layout", "reason"], registry=REGISTRY,
)
STOCK_GUARD_TRIPPED = Counter(
    "bridge_stock_guard_tripped_total", "Stock files held by the mass-change guard", registry=REGISTRY
)
STOCK_GUARD_HOLDING = Gauge(
    "bridge_stock_guard_holding", "1 while a stock file waits for `bridge sync stock --force`", registry=REGISTRY
)
STOCK_BELOW_REORDER = Gauge(
    "bridge_stock_below_reorder", "SKUs whose stock + 発注残 is at or below their reorder point (bridge/analytics)",
    registry=REGISTRY,
)
STOCK_REORDER_ALERTS = Counter(
    "bridge_stock_reorder_alerts_total", "Low-stock alerts raised (a SKU crossing its reorder point)",
    registry=REGISTRY,
)
REPORT_PACKS = Counter(
    "bridge_report_packs_total", "Report packs made, by pack and outcome (written, mailed, failed)",
    ["pack", "outcome"], registry=REGISTRY,
)
ORDERS_BY_STATE = Gauge(
    "bridge_orders_by_state", "Orders in the mirror by workflow state", ["state"], registry=REGISTRY
)
ORDERS_UNCONFIRMED = Gauge(
    "bridge_orders_unconfirmed", "Orders sent to SMILE and not confirmed by it within the confirmation window",
    registry=REGISTRY,
)
SHIPMENTS_DELAYED = Gauge(
    "bridge_shipments_delayed", "Orders instructed for shipping without a tracking number past their due time",
    registry=REGISTRY,
)

# MQTT
MQTT_CONNECTED = Gauge("bridge_mqtt_connected", "1 while connected to the MQTT broker", registry=REGISTRY)
MQTT_EVENTS = Counter(
    "bridge_mqtt_events_published_total", "Events acknowledged by the broker (QoS 1), by kind", ["kind"],
    registry=REGISTRY,
)
MQTT_EVENTS_DROPPED = Counter(
    "bridge_mqtt_events_dropped_total", "Events dropped because the queue was full while disconnected", ["kind"],
    registry=REGISTRY,
)
MQTT_COMMANDS = Counter(
    "bridge_mqtt_commands_total", "Commands received over MQTT by outcome (accepted, rejected)", ["outcome"],
    registry=REGISTRY,
)

# The smile_bridge add-on (bridge/cscart/batch_sink.py, bridge/sync/orders/event_feed.py)
ADDON_BATCH_ITEMS = Counter(
    "bridge_addon_batch_items_total", "Batch API items by kind and result code (ok, invalid, not_found, failed)",
    ["kind", "code"], registry=REGISTRY,
)
ADDON_EVENTS = Counter(
    "bridge_addon_events_total", "Add-on events read from the feed, by type", ["type"], registry=REGISTRY,
)
ORDER_ECHOES_SKIPPED = Counter(
    "bridge_order_echoes_skipped_total",
    "Orders not re-read because their only events were the echo of the bridge's own status write", registry=REGISTRY,
)

# Daemon
# Business figures (ops/grafana/business.json), from the orders mirror (bridge/store/business.py) and the campaigns job.
ORDERS_TODAY = Gauge("bridge_orders_placed_today", "Orders placed since 00:00 JST (not cancelled), by 直送",
                     ["direct_ship"], registry=REGISTRY)
SALES_TODAY = Gauge("bridge_sales_today_yen", "Order totals since 00:00 JST (not cancelled, tax included), by 直送",
                    ["direct_ship"], registry=REGISTRY)
ORDERS_LAST_HOUR = Gauge("bridge_orders_placed_last_hour", "Orders placed in the last 60 minutes", registry=REGISTRY)
SHIPPED_TODAY = Gauge("bridge_orders_shipped_today", "Orders that reached 出荷済 since 00:00 JST", registry=REGISTRY)
ORDERS_ON_HOLD = Gauge("bridge_orders_on_hold", "Orders in 保留 by kind of reason (payment, credit, unknown_code, "
                       "direct_ship, order_data, stock, staff, other)", ["reason"], registry=REGISTRY)
CAMPAIGNS_RUNNING = Gauge("bridge_campaigns_running", "Campaigns of rules/campaigns.yaml running now",
                          registry=REGISTRY)
CAMPAIGN_USAGES = Gauge("bridge_campaign_usages", "Orders that used each campaign's CS-Cart promotion so far",
                        ["campaign"], registry=REGISTRY)

UP_SINCE = Gauge("bridge_start_time_seconds", "Unix time the daemon started", registry=REGISTRY)
BUILD_INFO = Gauge("bridge_build_info", "Version of the running bridge", ["version"], registry=REGISTRY)


def exposition() -> bytes:
    return generate_latest(REGISTRY)

CAMPAIGN_EVENTS = Counter(
    "bridge_campaign_events_total", "Campaign starts, ends, usage caps and repaired hand edits (campaigns job)",
    ["event"], registry=REGISTRY,
)
