"""Prometheus metrics, shared by every web and worker process.

Counters and histograms use prometheus_client's multiprocess mode: each process writes its values
to files under PROMETHEUS_MULTIPROC_DIR (set in settings before this module is imported), and
`/metrics` merges them. Gauges that describe stored state (events waiting, orders overdue) are
computed from the database when `/metrics` is scraped, so they are right whichever process asks.

Label values are small fixed sets (endpoint names, reasons, outcomes): never ids or amounts.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)

# -- Binance webhooks (intake) --------------------------------------------------------------------
WEBHOOKS_RECEIVED = Counter(
    "paysvc_webhooks_received_total", "Webhook deliveries received (before any check)."
)
WEBHOOKS_VERIFIED = Counter(
    "paysvc_webhooks_verified_total", "Webhook deliveries whose signature verified.", ["biz_type"]
)
WEBHOOKS_REJECTED = Counter(
    "paysvc_webhooks_rejected_total",
    "Webhook deliveries refused, by reason (bad_signature, stale, unknown_certificate, ...).",
    ["reason"],
)
WEBHOOKS_DUPLICATE = Counter(
    "paysvc_webhooks_duplicates_total",
    "Verified deliveries of an event already stored (answered SUCCESS, no second effect).",
)
WEBHOOK_INTAKE_SECONDS = Histogram(
    "paysvc_webhook_intake_seconds", "Time to answer a webhook delivery.", buckets=LATENCY_BUCKETS
)

# -- Binance webhooks (processing) ----------------------------------------------------------------
WEBHOOK_EVENTS_PROCESSED = Counter(
    "paysvc_webhook_events_processed_total",
    "Stored webhook events processed, by type and outcome (processed, ignored, orphan, "
    "flagged, failed).",
    ["biz_type", "outcome"],
)
WEBHOOK_PROCESSING_LAG = Histogram(
    "paysvc_webhook_processing_lag_seconds",
    "Time from receipt of a webhook to the end of its processing.",
    buckets=LAG_BUCKETS,
)

# -- Reconciliation -------------------------------------------------------------------------------
RECONCILIATIONS = Counter(
    "paysvc_reconciliations_total",
    "Orders and refunds checked against Binance by reconciliation, by outcome "
    "(unchanged, changed, error).",
    ["kind", "outcome"],
)

# -- Calls to Binance -----------------------------------------------------------------------------
BINANCE_CALL_SECONDS = Histogram(
    "paysvc_binance_call_seconds",
    "Duration of calls to Binance Pay, by endpoint and outcome (ok, api_error, transport_error, "
    "rate_limited).",
    ["endpoint", "outcome"],
    buckets=LATENCY_BUCKETS,
)

# -- Merchant callbacks ---------------------------------------------------------------------------
CALLBACK_DELIVERIES = Counter(
    "paysvc_callback_deliveries_total",
    "Merchant callback delivery attempts, by outcome (delivered, failed_attempt, gave_up, "
    "refused_url).",
    ["outcome"],
)

# -- Celery tasks (recorded in the worker, exported by paysvc.worker_metrics) ---------------------
CELERY_TASKS = Counter(
    "paysvc_celery_tasks_total",
    "Celery tasks that finished in a worker, by task name and final state (SUCCESS, FAILURE, "
    "RETRY, ...).",
    ["task", "state"],
)
