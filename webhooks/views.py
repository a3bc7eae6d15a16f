"""``POST /webhooks/binance-pay/``: Binance Pay's webhook receiver
(docs/architecture.md#webhook-intake, docs/binance-pay.md#webhooks).

A plain Django view, no DRF: it must stay cheap (hundreds of deliveries per second per core).
Bogus deliveries are refused before anything is written (webhooks.verification); a verified one
is stored and committed, and only then answered ``{"returnCode":"SUCCESS","returnMessage":null}``
(docs/binance-pay.md#webhook-ack-and-retries). Processing happens in a Celery task enqueued after
the commit. Refusals answer a 4xx ``{"returnCode":"FAIL","returnMessage":"<reason>"}``; a 503 when
the event could not be stored or a new certificate could not be fetched, so that Binance retries.
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from paysvc import metrics
from paysvc.lean import lean
from webhooks.services import webhook_event_store
from webhooks.services.handlers import biz_type_label
from webhooks.verification import Rejected, verify_delivery

logger = logging.getLogger(__name__)

SUCCESS_BODY = b'{"returnCode":"SUCCESS","returnMessage":null}'
JSON = "application/json"
CHUNKED_READ_BYTES = 16384


# Lean: gunicorn serves it without the session, user, CSRF, messages, static-files and login
# middleware, which a server-to-server POST signed by Binance never uses (paysvc/lean.py; they
# cost ~0.25 ms of CPU per delivery). The correlation id, security and common middleware
# (ALLOWED_HOSTS) stay.
@lean
@csrf_exempt
def binance_pay_webhook(request: HttpRequest) -> HttpResponse:
    """Receive one Binance Pay notification."""
    started = time.perf_counter()
    metrics.WEBHOOKS_RECEIVED.inc()
    try:
        response = _receive(request)
    except Rejected as rejection:
        metrics.WEBHOOKS_REJECTED.labels(rejection.reason).inc()
        logger.info("webhook rejected reason=%s status=%s", rejection.reason, rejection.status)
        response = _fail(rejection)
    metrics.WEBHOOK_INTAKE_SECONDS.observe(time.perf_counter() - started)
    return response


@sensitive_variables("body")
def _receive(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        raise Rejected("method_not_allowed", "use POST", status=405)
    body = _body(request)
    _check_content_type(request)
    delivery = verify_delivery(request.META, body)
    metrics.WEBHOOKS_VERIFIED.labels(biz_type_label(delivery.notification.biz_type)).inc()
    try:
        event = webhook_event_store(delivery=delivery)
    except DatabaseError:
        logger.exception(
            "webhook could not be stored bizIdStr=%s", delivery.notification.biz_id_str
        )
        raise Rejected(
            "storage_unavailable", "could not store the event; retry", status=503
        ) from None
    if event is None:
        metrics.WEBHOOKS_DUPLICATE.inc()
    return HttpResponse(SUCCESS_BODY, content_type=JSON)


def _body(request: HttpRequest) -> bytes:
    """The raw body, at most ``BINANCE_PAY_WEBHOOK_MAX_BYTES`` (413 above it).

    With ``Content-Length`` the size is judged before a byte is read. Without it, a chunked body
    (``Transfer-Encoding: chunked``, which Django reads as empty) is read from the server's
    input stream, up to the cap and no further (`_read_chunked`).
    """
    limit = int(settings.BINANCE_PAY_WEBHOOK_MAX_BYTES)
    if not request.META.get("CONTENT_LENGTH") and _is_chunked(request):
        body = _read_chunked(request, limit)
    else:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:  # refused before reading a byte
            raise Rejected("too_large", f"body over {limit} bytes", status=413)
        try:
            body = request.body
        except RequestDataTooBig:
            raise Rejected("too_large", f"body over {limit} bytes", status=413) from None
    if len(body) > limit:
        raise Rejected("too_large", f"body over {limit} bytes", status=413)
    if not body:
        raise Rejected("empty_body", "the body is empty")
    return body


def _is_chunked(request: HttpRequest) -> bool:
    codings = request.META.get("HTTP_TRANSFER_ENCODING", "")
    return "chunked" in [c.strip().lower() for c in codings.split(",")]


def _read_chunked(request: HttpRequest, limit: int) -> bytes:
    """Read a body of unknown length from the WSGI input, refusing it once past ``limit``.

    Only from a server that ends the input at the end of the body (``wsgi.input_terminated``,
    as gunicorn and Werkzeug set; the chunked framing itself is the server's): on any other
    input a read could wait for bytes that never come, so the answer is 411 Length Required.
    Behind nginx this path is not taken: nginx buffers the whole body and passes it on with a
    Content-Length (docs/binance-pay.md#webhook-transport).
    """
    if not request.environ.get("wsgi.input_terminated"):
        raise Rejected("length_required", "send a Content-Length", status=411)
    stream = request.environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(CHUNKED_READ_BYTES, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:  # the rest is never read: the server discards it (or closes)
        raise Rejected("too_large", f"body over {limit} bytes", status=413)
    return b"".join(chunks)


def _check_content_type(request: HttpRequest) -> None:
    charset = request.content_params.get("charset", "utf-8").lower()
    # The header is stored with the event (jsonb): a control character (NUL) could not be.
    printable = str(request.META.get("CONTENT_TYPE", "")).isprintable()
    if request.content_type != JSON or charset not in ("utf-8", "utf8") or not printable:
        raise Rejected(
            "unsupported_media_type", "Content-Type must be application/json (UTF-8)", status=415
        )
    encoding = request.META.get("HTTP_CONTENT_ENCODING", "")
    if encoding and encoding.lower() != "identity":
        raise Rejected("unsupported_media_type", "Content-Encoding is not supported", status=415)


def _fail(rejection: Rejected) -> HttpResponse:
    body = json.dumps({"returnCode": "FAIL", "returnMessage": rejection.message})
    response = HttpResponse(body, status=rejection.status, content_type=JSON)
    if rejection.status == 405:
        response["Allow"] = "POST"
    if rejection.status == 503:
        response["Retry-After"] = "30"
    return response
