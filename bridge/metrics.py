"""Every Prometheus metric the bridge exports, defined in one place (names follow Prometheus conventions)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

# Jobs (scheduler)
JOB_RUNS = Counter("bridge_job_runs_total", "Job runs by outcome", ["job", "outcome"], registry=REGISTRY)
JOB_DURATION = Histogram(
    "bridge_job_duration_seconds",
    "Wall time of one job run",
    ["job"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800),
    registry=REGISTRY,
)
JOB_LAST_SUCCESS = Gauge(
    "bridge_job_last_success_timestamp_seconds", "Unix time of the last successful run", ["job"], registry=REGISTRY
)
JOB_INTERVAL = Gauge("bridge_job_interval_seconds", "Configured interval of each job", ["job"], registry=REGISTRY)
JOB_RUNNING = Gauge("bridge_job_running", "1 while the job runs", ["job"], registry=REGISTRY)
JOB_RECORDS = Counter(
    "bridge_job_records_total", "Records per job by stage: read, changed, written, failed", ["job", "stage"],
    registry=REGISTRY,
)

# Outbox and dispatch
OUTBOX_OPS = Gauge("bridge_outbox_ops", "Outbox rows by state", ["state"], registry=REGISTRY)
DEAD_LETTERS = Gauge("bridge_dead_letters", "Outbox rows in state dead", registry=REGISTRY)
DELIVERIES = Counter(
    "bridge_deliveries_total", "Delivery results by target and outcome (done, retry, dead)", ["target", "outcome"],
    registry=REGISTRY,
)
DELIVERY_RETRIES = Counter(
    "bridge_delivery_short_retries_total", "Immediate retries inside one dispatch", ["target"], registry=REGISTRY
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

# Daemon
UP_SINCE = Gauge("bridge_start_time_seconds", "Unix time the daemon started", registry=REGISTRY)
BUILD_INFO = Gauge("bridge_build_info", "Version of the running bridge", ["version"], registry=REGISTRY)


def exposition() -> bytes:
    return generate_latest(REGISTRY)
