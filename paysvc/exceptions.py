"""The one JSON error shape of the API, its DRF exception handler, and exceptions of our own.

Every error answered by the merchant API has this body (docs/architecture.md#api-errors)::

    {"error": {"code": "validation_error",
               "message": "Invalid input in goods.goodsName.",
               "fields": {"goods.goodsName": ["This field is required."]}}}

- ``code`` is stable and machine-readable: ``validation_error``, ``parse_error``,
  ``not_authenticated``, ``authentication_failed``, ``permission_denied``, ``not_found``,
  ``method_not_allowed``, ``not_acceptable``, ``unsupported_media_type``, ``payload_too_large``,
  ``throttled``, ``conflict``, ``request_in_progress``, ``upstream_error`` /
  ``upstream_unavailable`` / ``upstream_timeout``, ``database_unavailable``, ``server_error``;
- ``message`` is a sentence for humans;
- ``fields`` (validation errors only) maps dotted paths (``goods.goodsName``,
  ``shipping.shippingAddress.region``, list items as ``orderTags.0``) to messages;
- ``retryAfter`` (seconds) accompanies the ``Retry-After`` header (429, and 503 when known);
- further members come from the exception's ``error_extra`` (e.g. ``outcome``, ``retrying`` and
  ``binanceCode`` of `UpstreamError`, ``requiredScopes`` of a missing scope).

An exception may set ``error_code`` (str) and ``error_extra`` (dict) to control its body. A
domain error (`ServiceError`, e.g. orders.errors) names its own answer through
``as_api_exception()``, so views let it propagate. Errors outside DRF views (unknown URLs,
unhandled exceptions) get the same shape from `paysvc.api_errors`.
"""

import logging
from collections.abc import Mapping
from typing import Any, Literal

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)

# DRF's code for a ValidationError is "invalid"; the API's is "validation_error".
_CODE_RENAMES = {"invalid": "validation_error"}
_MAX_PATHS_IN_MESSAGE = 5


class ServiceError(Exception):
    """A domain error raised by a service, with a message safe to show to the API caller.

    Subclasses say how the API answers them; the exception handler calls this, so no view
    translates domain errors by hand.
    """

    def as_api_exception(self) -> exceptions.APIException:
        raise NotImplementedError


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """Build the error body: ``{"error": {"code": ..., "message": ..., **extra}}``."""
    return {"error": {"code": code, "message": message, **extra}}


def error_response_for(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """The response the API answers `exc` with, or None when `exc` is not an API error.

    Never raises; code that must store the answer it gives (idempotent replays) calls it directly.

    Status code, ``WWW-Authenticate`` and ``Retry-After`` headers and the rollback of atomic
    requests are DRF's. A `ServiceError` answers what its ``as_api_exception()`` says; Django's
    ValidationError (raised by services) becomes a 400, Http404 a 404 with a generic message
    (``get_object_or_404`` would name the model), RequestDataTooBig a 413 ``payload_too_large``.
    For anything else the API answers 500 through Django's handler
    (`paysvc.api_errors.server_error`), so this returns None.
    """
    if isinstance(exc, ServiceError):
        exc = exc.as_api_exception()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, RequestDataTooBig):  # DATA_UPLOAD_MAX_MEMORY_SIZE, checked by Django
        exc = PayloadTooLarge()
    if not isinstance(exc, exceptions.APIException):
        return None
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES etc. when imported, and
    # those name modules (clients.parsers) that import this one.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = error_payload(exc)
    return response


def api_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: every API error answered with the one error body.

    See `error_response_for`; besides, a database that cannot be reached or failed the
    statement's connection (``OperationalError``, ``InterfaceError``) answers **503
    ``database_unavailable``** with ``Retry-After``: the request may succeed when retried, which
    a 500 does not tell the caller. It is not part of `error_response_for`, so an idempotent
    create never stores it as its answer (the retry computes the real one). A None return makes
    DRF re-raise, and Django's 500 handler answers.
    """
    if isinstance(exc, OperationalError | InterfaceError):
        # The driver's message names host and port, never the password; the caller gets none.
        logger.error("database unavailable: %s", _first_line(exc))
        exc = DatabaseUnavailable()
    return error_response_for(exc, context)


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def error_payload(exc: exceptions.APIException) -> dict[str, Any]:
    """The error body for one DRF exception."""
    code = getattr(exc, "error_code", None) or _CODE_RENAMES.get(exc.default_code, exc.default_code)
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_errors(exc.detail)
        message = _validation_message(fields)
        extra["fields"] = fields
    else:
        message = _first_message(exc.detail) or str(exc.default_detail)
    wait = getattr(exc, "wait", None)
    if wait is not None:
        extra["retryAfter"] = int(wait)
    extra.update(getattr(exc, "error_extra", None) or {})
    return error_body(code, message, **extra)


def flatten_errors(detail: Any) -> dict[str, list[str]]:
    """Flatten DRF's nested error detail into ``{"dotted.path": [messages]}``.

    Dicts contribute their keys, lists of nested errors their indexes (``goods.0.goodsName``);
    errors not tied to a field go under DRF's ``non_field_errors`` key (prefixed when nested).
    """
    flat: dict[str, list[str]] = {}

    def add(path: str, message: Any) -> None:
        flat.setdefault(path or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(message))

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list | tuple):
            if all(not isinstance(item, Mapping | list | tuple) for item in node):
                for message in node:  # a field's own messages
                    add(path, message)
            else:  # a list of nested objects: ListSerializer gives {} for the valid ones
                for index, item in enumerate(node):
                    walk(item, f"{path}.{index}" if path else str(index))
        else:
            add(path, node)

    walk(detail, "")
    return flat


def _validation_message(fields: dict[str, list[str]]) -> str:
    if not fields:
        return "Invalid input."
    if list(fields) == [api_settings.NON_FIELD_ERRORS_KEY]:
        return fields[api_settings.NON_FIELD_ERRORS_KEY][0]
    paths = list(fields)
    shown = ", ".join(paths[:_MAX_PATHS_IN_MESSAGE])
    more = (
        f" and {len(paths) - _MAX_PATHS_IN_MESSAGE} more"
        if len(paths) > _MAX_PATHS_IN_MESSAGE
        else ""
    )
    return f"Invalid input in {shown}{more}."


def _first_message(detail: Any) -> str:
    if isinstance(detail, Mapping):
        detail = next(iter(detail.values()), "")
    if isinstance(detail, list | tuple):
        detail = detail[0] if detail else ""
        return _first_message(detail)
    return str(detail)


class ApiConflict(exceptions.APIException):
    """409: the request conflicts with existing state (a duplicate ``merchantTradeNo``, an
    ``Idempotency-Key`` reused with another body)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class DatabaseUnavailable(exceptions.APIException):
    """503: the database could not be reached or dropped the connection; retry after ``wait``
    seconds. Nothing is answered as done that was not committed."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service's database is unavailable; retry the request shortly."
    default_code = "database_unavailable"
    wait = 5


class PayloadTooLarge(exceptions.APIException):
    """413: the request body is larger than the service accepts."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


Outcome = Literal["unknown", "failed"]


class UpstreamError(exceptions.APIException):
    """502/503/504: Binance Pay failed or could not be reached.

    The body says what the caller may assume and what the service does next:

    - ``outcome``: ``"unknown"`` when the request may have taken effect at Binance (a timeout, a
      dropped connection after sending); ``"failed"`` when it certainly did not;
    - ``retrying``: whether the service keeps trying (or reconciling) by itself, so that the caller
      should poll rather than resend.

    Status codes: 502 ``upstream_error`` (Binance answered with an error or garbage), 503
    ``upstream_unavailable`` (unreachable, or a circuit is open), 504 ``upstream_timeout`` (no
    answer in time). ``retry_after`` (seconds) sets ``Retry-After`` and ``retryAfter``;
    ``binance_code`` (Binance's error code, when it answered one) is passed on as ``binanceCode``.
    """

    _CODES = {
        status.HTTP_502_BAD_GATEWAY: "upstream_error",
        status.HTTP_503_SERVICE_UNAVAILABLE: "upstream_unavailable",
        status.HTTP_504_GATEWAY_TIMEOUT: "upstream_timeout",
    }
    _MESSAGES = {
        status.HTTP_502_BAD_GATEWAY: "Binance Pay answered with an error.",
        status.HTTP_503_SERVICE_UNAVAILABLE: "Binance Pay is unavailable.",
        status.HTTP_504_GATEWAY_TIMEOUT: "Binance Pay did not answer in time.",
    }
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = _MESSAGES[status.HTTP_502_BAD_GATEWAY]
    default_code = "upstream_error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        status_code: int = status.HTTP_502_BAD_GATEWAY,
        outcome: Outcome,
        retrying: bool,
        retry_after: int | None = None,
        binance_code: str | int | None = None,
    ) -> None:
        if status_code not in self._CODES:
            raise ValueError(f"UpstreamError status must be 502, 503 or 504, not {status_code}")
        if outcome not in ("unknown", "failed"):
            raise ValueError(
                f"UpstreamError outcome must be 'unknown' or 'failed', not {outcome!r}"
            )
        super().__init__(detail or self._MESSAGES[status_code], self._CODES[status_code])
        self.status_code = status_code
        self.error_code = self._CODES[status_code]
        self.outcome = outcome
        self.retrying = retrying
        self.wait = retry_after
        self.binance_code = binance_code
        self.error_extra: dict[str, Any] = {"outcome": outcome, "retrying": retrying}
        if binance_code is not None:
            self.error_extra["binanceCode"] = str(binance_code)
