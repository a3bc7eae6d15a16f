"""Structured logs: facts as fields, one correlation id from the request to its tasks and calls.

* Code logs a short sentence and passes the facts as fields: ``logger.info("order status changed",
  extra={"merchantTradeNo": ..., "from": ..., "to": ...})``; field names are the API's
  (camelCase, Binance's names where Binance has one). Never a secret: keys, signatures and
  secrets are not fields (tests/leakcheck.py checks every log of the suite).
* Every record gets ``correlation_id``: taken from the request's ``X-Request-Id`` (or made), set
  by `CorrelationIdMiddleware` for each HTTP request (merchant API, Binance webhook, admin),
  sent along with every Celery task published while it is set (a task header) and set again
  while that task runs (paysvc/celery.py), so the lines of one payment — the webhook, its
  processing task, the Binance calls made there, the merchant callback — share one id.
* ``PAYSVC_LOG_FORMAT=json`` writes one JSON object per line (for a log pipeline); the default
  ``plain`` writes ``time level logger [correlation id] message key=value ...``.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_META = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")
# What a caller may send as its request id (anything else is replaced by ours).
_CALLER_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

correlation_id: ContextVar[str] = ContextVar("correlation_id", default="")

# Attributes every LogRecord has: what is left are the fields passed with `extra=`.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "correlation_id",
    "taskName",
}


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:16]


@contextmanager
def correlated(value: str | None = None) -> Iterator[str]:
    """Run the block with correlation id `value` (a new one when empty); restored afterwards."""
    value = value or new_correlation_id()
    token = correlation_id.set(value)
    try:
        yield value
    finally:
        correlation_id.reset(token)


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a record (its `extra=`)."""
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRIBUTES}


class CorrelationFilter(logging.Filter):
    """Adds ``correlation_id`` ("-" outside any request or task) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get() or "-"
        return True


class PlainFormatter(logging.Formatter):
    """``2025-01-31 12:00:00,123 INFO orders.status [3f0c8a6e2b7d4c1e] message key=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "correlation_id"):
            record.correlation_id = correlation_id.get() or "-"
        text = super().format(record)
        extra = fields(record)
        if extra:
            text += " " + " ".join(f"{key}={_plain(value)}" for key, value in extra.items())
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlationId, the fields, and
    the exception (as text) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlationId": getattr(record, "correlation_id", None)
            or correlation_id.get()
            or None,
            **fields(record),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def _plain(value: Any) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (" " in text or not text) else text


class CorrelationIdMiddleware:
    """Sets the correlation id of each request (the caller's ``X-Request-Id`` when it is a
    plain id, else a new one) and answers it in ``X-Request-Id``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # From META: ``request.headers`` would build a mapping of every header first.
        given = request.META.get(_REQUEST_ID_META, "")
        with correlated(given if _CALLER_ID.fullmatch(given) else None) as value:
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = value
        return response
