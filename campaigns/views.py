"""The Web3 task-verification endpoints Binance calls (docs/web3.md), under PAYSVC_WEB3_PREFIX.

Plain Django views, not DRF: no authentication (Binance calls without credentials; V0.0.8 dropped
request signing), the answer is the spec's envelope rather than the merchant API's error shape,
and the hot path stays lean: the views are `paysvc.lean.lean`, so gunicorn runs them through a
middleware stack without sessions, authentication, messages, CSRF and login lockouts, none of
which they use (paysvc/lean.py). Every answer, success or not, is ``{"code", "message", "data"}``;
see `campaigns.errors` for the HTTP status that goes with each code.

The views are CSRF-exempt: Binance calls them server to server, without cookies or a session,
so CSRF (a browser-session attack) does not apply, and Django's CsrfViewMiddleware would
otherwise answer a POST with its own HTML 403 before `_answer` could give the promised 405
envelope (docs/web3.md#codes; no authentication at all: docs/web3.md#direction). Nothing here
reads a session or writes anything.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from campaigns.calllog import call_record
from campaigns.completion import task_completion
from campaigns.errors import (
    MESSAGES,
    OTHER_ERROR,
    SUCCESS,
    MethodNotAllowed,
    NotFound,
    Web3Error,
)
from campaigns.guard import client_ip, in_flight, rate_limit_check
from campaigns.metrics import WEB3_REQUESTS, WEB3_SECONDS
from campaigns.params import parse_completion_query
from paysvc.lean import lean

logger = logging.getLogger(__name__)

# The spec's hard server-side timeout (docs/web3.md#timeouts-and-overload).
DEFAULT_TIMEOUT_SECONDS = 3.0

# (request, deadline) -> (data, number of customers resolved or None)
Handler = Callable[[HttpRequest, float], tuple[Any, int | None]]


def _answer(request: HttpRequest, endpoint: str, handler: Handler) -> HttpResponse:
    """Guard, run `handler`, shape the envelope, record the call."""
    started = time.monotonic()
    timeout = float(getattr(settings, "PAYSVC_WEB3_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    ip = client_ip(request)
    data: Any = None
    customers: int | None = None
    reason = ""
    retry_after: int | None = None
    status = 200
    try:
        rate_limit_check(ip=ip)
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(f"method {request.method}")
        with in_flight.slot():
            data, customers = handler(request, started + timeout)
        code = SUCCESS
    except Web3Error as exc:
        code, status, reason, retry_after = exc.code, exc.http_status, exc.reason, exc.retry_after
        data = None
    except Exception as exc:
        # Not expected: an internal error, which the spec answers with HTTP 5xx ("execution
        # status UNKNOWN" for Binance), never a guessed answer.
        logger.exception("web3 %s failed", endpoint)
        code, status, reason, data = OTHER_ERROR, 500, f"{type(exc).__name__}: {exc}", None
    body = json.dumps({"code": code, "message": MESSAGES[code], "data": data})
    response = HttpResponse(body, status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    # Recorded below; spare django.request a second (warning) line for each 4xx/5xx.
    response._has_been_logged = True  # type: ignore[attr-defined]
    if retry_after:
        response["Retry-After"] = str(retry_after)
    elapsed = time.monotonic() - started
    WEB3_REQUESTS.labels(endpoint, code).inc()
    WEB3_SECONDS.labels(endpoint).observe(elapsed)
    call_record(
        method=request.method or "",
        path=request.path,
        query=request.META.get("QUERY_STRING", ""),
        ip=ip,
        status=status,
        code=code,
        data=data,
        latency_ms=elapsed * 1000,
        reason=reason,
        customers=customers,
    )
    return response


def _server_time(request: HttpRequest, deadline: float) -> tuple[int, None]:
    return int(time.time() * 1000), None


def _task_completion(request: HttpRequest, deadline: float) -> tuple[dict[str, bool], int]:
    query = parse_completion_query(request.GET, now_ms=int(time.time() * 1000))
    return task_completion(unified_id=query.unified_id, task_ids=query.task_ids, deadline=deadline)


def _not_found(request: HttpRequest, deadline: float) -> tuple[None, None]:
    raise NotFound(f"no endpoint {request.path}")


@lean
@csrf_exempt
def server_time(request: HttpRequest) -> HttpResponse:
    """GET {prefix}/v1/time: ``data`` is the server time in epoch milliseconds."""
    return _answer(request, "time", _server_time)


@lean
@csrf_exempt
def task_completion_view(request: HttpRequest) -> HttpResponse:
    """GET {prefix}/v1/task/completion?walletAddress=...&task=[...]: ``data`` maps each task
    asked (every active task when none) to whether the user completed it."""
    return _answer(request, "task_completion", _task_completion)


@lean
@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under the prefix: 404 with the envelope (000007)."""
    return _answer(request, "not_found", _not_found)
