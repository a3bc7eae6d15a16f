"""Prometheus metrics of the Web3 API (in multiprocess mode, /metrics merges every process).

Label values are small fixed sets: endpoint names and result codes, never ids.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

WEB3_REQUESTS = Counter(
    "paysvc_web3_requests_total",
    "Web3 task-verification calls answered, by endpoint and result code.",
    ["endpoint", "code"],
)
WEB3_SECONDS = Histogram(
    "paysvc_web3_request_seconds",
    "Time to answer a Web3 task-verification call, by endpoint.",
    ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0),
)
CALLLOG_DROPPED = Counter(
    "paysvc_web3_calllog_dropped_total",
    "Web3 calls not written to the durable call log, by reason (cap, error).",
    ["reason"],
)
