"""The one place that builds the Binance Pay client from settings.

`binance_client()` reads settings at call time (so tests and `override_settings` work) and reuses
one client, with its connection pool, per distinct configuration. A missing setting raises
ImproperlyConfigured naming it.

`recording_calls()` collects the `CallRecord` of every call made inside the block on the current
thread, so services can write each request to Binance and its answer into the order timeline
without the client knowing about orders.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from binance_pay import ApiError, BinancePayClient, CallRecord, ClientConfig, RateLimitError
from paysvc import metrics

logger = logging.getLogger(__name__)

# Calls made on behalf of an API request must answer within the merchant's patience
# (docs/reliability.md#27-binance-api-faults: our create endpoint answers within 10 s even when
# Binance hangs).
REQUEST_READ_TIMEOUT_SECONDS = 4.0

_recorder: contextvars.ContextVar[list[CallRecord] | None] = contextvars.ContextVar(
    "binance_call_recorder", default=None
)
_clients: dict[tuple[object, ...], BinancePayClient] = {}
_clients_lock = threading.Lock()


def _call_outcome(record: CallRecord) -> str:
    if record.error is None:
        return "ok"
    if isinstance(record.error, RateLimitError):
        return "rate_limited"
    if isinstance(record.error, ApiError):
        return "api_error"
    return "transport_error"


def _on_call(record: CallRecord) -> None:
    calls = _recorder.get()
    if calls is not None:
        calls.append(record)
    endpoint = record.path.removeprefix("/binancepay/openapi")
    metrics.BINANCE_CALL_SECONDS.labels(endpoint, _call_outcome(record)).observe(
        record.duration_ms / 1000
    )
    logger.info(
        "binance call",
        extra={
            "path": record.path,
            "httpStatus": record.http_status,
            "ms": round(record.duration_ms, 1),
            "error": type(record.error).__name__ if record.error else None,
        },
    )


def _required(name: str) -> str:
    value = getattr(settings, name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} is not set; paysvc cannot call Binance Pay without it")
    return str(value)


def binance_client(*, for_request: bool = False) -> BinancePayClient:
    """The shared client for the current settings.

    `for_request=True` gives a client with a shorter read timeout, for calls made while an API
    caller waits; background tasks use the configured timeout.
    """
    read_timeout = float(settings.BINANCE_PAY_READ_TIMEOUT)
    if for_request:
        read_timeout = min(read_timeout, REQUEST_READ_TIMEOUT_SECONDS)
    config = ClientConfig(
        api_key=_required("BINANCE_PAY_API_KEY"),
        secret_key=_required("BINANCE_PAY_SECRET_KEY"),
        base_url=_required("BINANCE_PAY_BASE_URL"),
        connect_timeout=float(settings.BINANCE_PAY_CONNECT_TIMEOUT),
        read_timeout=read_timeout,
    )
    key = (config.api_key, config.secret_key, config.base_url, config.connect_timeout, read_timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = BinancePayClient(config, on_call=_on_call)
            _clients[key] = client
    return client


@contextmanager
def recording_calls() -> Iterator[list[CallRecord]]:
    """Collect the CallRecords of the calls made in this block (this thread/context only)."""
    calls: list[CallRecord] = []
    token = _recorder.set(calls)
    try:
        yield calls
    finally:
        _recorder.reset(token)
