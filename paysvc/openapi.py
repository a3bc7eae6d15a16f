"""OpenAPI documentation shared by every operation of the merchant API (drf-spectacular).

Nothing here changes what the API does:

- `ErrorSerializer` / `UpstreamErrorSerializer` describe the one error body of
  `paysvc.exceptions` (``{"error": {"code", "message", "fields"?, ...}}``); `responses` builds an
  operation's documented answers: its success answers plus error answers by status (400 with
  dotted ``fields``, 401, 403, 404, 409, 429 with ``Retry-After``, 502/503/504 with ``outcome``
  and ``retrying``);
- the headers every operation may answer (``Retry-After``, ``WWW-Authenticate``) and the
  ``Idempotency-Key`` request header;
- `paginated` (page-number pages), `documented_json_field`, `path_parameter`, and
  `request_examples` (the tests send the request examples to the live sandbox).

Each app documents its own operations beside its views (orders.schema, notifications.schema,
campaigns.apis) with these pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
)
from rest_framework import serializers

# -- error bodies ---------------------------------------------------------------------------------

ERROR_CODES = (
    "validation_error",
    "parse_error",
    "bad_request",
    "not_authenticated",
    "authentication_failed",
    "permission_denied",
    "not_found",
    "method_not_allowed",
    "not_acceptable",
    "unsupported_media_type",
    "payload_too_large",
    "throttled",
    "conflict",
    "request_in_progress",
    "upstream_error",
    "upstream_unavailable",
    "upstream_timeout",
    "database_unavailable",
    "server_error",
)


class ErrorDetailSerializer(serializers.Serializer):
    """The ``error`` member of every error answer (see `paysvc.exceptions`)."""

    code = serializers.CharField(
        help_text="Stable, machine-readable: " + ", ".join(f"`{c}`" for c in ERROR_CODES) + "."
    )
    message = serializers.CharField(help_text="A sentence for humans; do not parse it.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="`validation_error` only: dotted input paths (`goods.goodsName`, "
        "`shipping.shippingAddress.region`, `orderTags.0`) mapped to their messages. Errors not "
        "tied to one field are under `non_field_errors`.",
    )
    retryAfter = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="Seconds to wait before trying again; the same value as the `Retry-After` "
        "header (429, 409 `request_in_progress`, 503 `database_unavailable`, and 503 "
        "`upstream_unavailable` when known).",
    )
    requiredScopes = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="403 for a missing scope: the scopes the API key lacks.",
    )
    outcome = serializers.ChoiceField(
        choices=["unknown", "failed"],
        required=False,
        help_text="502/503/504: `unknown` when the request may have taken effect at Binance, "
        "`failed` when it certainly did not.",
    )
    retrying = serializers.BooleanField(
        required=False,
        help_text="502/503/504: whether paysvc keeps trying (or reconciling) by itself; if so, "
        "poll the resource instead of sending the request again.",
    )
    binanceCode = serializers.CharField(
        required=False, help_text="502: Binance's error code, when Binance answered one."
    )


class ErrorSerializer(serializers.Serializer):
    """The one error body of the API: ``{"error": {"code", "message", ...}}``."""

    error = ErrorDetailSerializer()


class UpstreamErrorDetailSerializer(ErrorDetailSerializer):
    """The ``error`` member when Binance Pay failed or could not be reached (502/503/504)."""

    outcome = serializers.ChoiceField(
        choices=["unknown", "failed"],
        help_text="`unknown`: the request may have taken effect at Binance (a timeout, a "
        "dropped connection after sending); `failed`: it certainly did not.",
    )
    retrying = serializers.BooleanField(
        help_text="Whether paysvc keeps trying (or reconciling) by itself; if so, poll the "
        "resource instead of sending the request again.",
    )


class UpstreamErrorSerializer(serializers.Serializer):
    """Binance Pay failed or could not be reached: ``{"error": {..., "outcome", "retrying"}}``."""

    error = UpstreamErrorDetailSerializer()


def _error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def response_example(name: str, value: Any, summary: str = "") -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary or name, response_only=True)


VALIDATION_ERROR_EXAMPLE = _error(
    "validation_error",
    "Invalid input in goods.goodsName, shipping.shippingAddress.region.",
    fields={
        "goods.goodsName": ['must not contain \\, " or emoji (Binance rule for goodsName)'],
        "shipping.shippingAddress.region": [
            "must be an ISO 3166-1 alpha-2 country/region code in upper case, e.g. US, DE, HK"
        ],
    },
)

_ERROR_ANSWERS: dict[int, tuple[type[serializers.Serializer], str, list[OpenApiExample]]] = {
    400: (
        ErrorSerializer,
        "Bad input: `validation_error` with `fields` (dotted paths), or `parse_error` for a body "
        "that is not valid JSON. Nothing was sent to Binance.",
        [
            response_example("Validation error", VALIDATION_ERROR_EXAMPLE),
            response_example(
                "Malformed JSON",
                _error("parse_error", "JSON parse error - Expecting value: line 1 column 1."),
            ),
        ],
    ),
    401: (
        ErrorSerializer,
        "No API key (`not_authenticated`), or a malformed, unknown or revoked one "
        "(`authentication_failed`). Send `Authorization: Bearer psk_live_...`.",
        [
            response_example(
                "No API key",
                _error("not_authenticated", "Authentication credentials were not provided."),
            ),
            response_example(
                "Unknown or revoked key",
                _error("authentication_failed", "Invalid or revoked API key."),
            ),
        ],
    ),
    403: (
        ErrorSerializer,
        "The API key lacks the scope this operation needs (`permission_denied`, with "
        "`requiredScopes`).",
        [
            response_example(
                "Missing scope",
                _error(
                    "permission_denied",
                    "This API key lacks the scope 'orders:write' needed for this operation.",
                    requiredScopes=["orders:write"],
                ),
            )
        ],
    ),
    404: (
        ErrorSerializer,
        "Not found, or not created with this API key's client application (`not_found`).",
        [response_example("Not found", _error("not_found", "Not found."))],
    ),
    409: (
        ErrorSerializer,
        "Conflicts with existing state (`conflict`): a `merchantTradeNo`, `refundRequestId` or "
        "`requestId` already used, an `Idempotency-Key` reused with another body, or an action "
        "the order's status does not allow. `request_in_progress`: the first request with this "
        "`Idempotency-Key` is still running; send the same request again after `Retry-After` "
        "seconds (also `retryAfter`) to get its answer.",
        [
            response_example(
                "Duplicate merchantTradeNo",
                _error(
                    "conflict",
                    "merchantTradeNo 9825382937292 is already used by another order",
                ),
            ),
            response_example(
                "Idempotency-Key reused",
                _error(
                    "conflict",
                    "this Idempotency-Key was already used with a different request body",
                ),
            ),
            response_example(
                "Request in progress",
                _error(
                    "request_in_progress",
                    "a request with this Idempotency-Key is still being processed; send it "
                    "again after 2 s",
                    retryAfter=2,
                ),
            ),
        ],
    ),
    413: (
        ErrorSerializer,
        "The request body is larger than 1 MiB (`payload_too_large`).",
        [
            response_example(
                "Too large", _error("payload_too_large", "The request body is too large.")
            )
        ],
    ),
    415: (
        ErrorSerializer,
        "The body is not `application/json` (`unsupported_media_type`).",
        [
            response_example(
                "Not JSON",
                _error("unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
            )
        ],
    ),
    429: (
        ErrorSerializer,
        "Rate limited (`throttled`): wait the `Retry-After` seconds (also in `retryAfter`).",
        [
            response_example(
                "Rate limited",
                _error(
                    "throttled",
                    "Request was throttled. Expected available in 12 seconds.",
                    retryAfter=12,
                ),
            )
        ],
    ),
    502: (
        UpstreamErrorSerializer,
        "Binance Pay answered with an error (`upstream_error`; `binanceCode` when Binance gave "
        "one). `outcome` says whether the request may have taken effect, `retrying` whether "
        "paysvc resolves it by itself.",
        [
            response_example(
                "Binance refused",
                _error(
                    "upstream_error",
                    "Binance refused the order: 400201 MERCHANT_TRADE_NO_DUPLICATED: "
                    "merchantTradeNo is duplicated.",
                    outcome="failed",
                    retrying=False,
                    binanceCode="400201",
                ),
            )
        ],
    ),
    503: (
        UpstreamErrorSerializer,
        "Binance Pay is unavailable or rate limiting paysvc (`upstream_unavailable`); "
        "`Retry-After` when known.",
        [
            response_example(
                "Binance rate limiting",
                _error(
                    "upstream_unavailable",
                    "Binance is rate limiting paysvc; the order will be created shortly",
                    outcome="failed",
                    retrying=True,
                    retryAfter=5,
                ),
            )
        ],
    ),
    504: (
        UpstreamErrorSerializer,
        "Binance Pay did not answer in time (`upstream_timeout`). With `outcome: unknown` and "
        "`retrying: true` paysvc resolves the outcome by itself: poll the resource, do not send "
        "the request again (or resend with the same ids, which Binance never applies twice).",
        [
            response_example(
                "Outcome unknown",
                _error(
                    "upstream_timeout",
                    "Binance did not answer; the order's outcome is unknown. paysvc keeps "
                    "querying Binance by merchantTradeNo and will either confirm it or create "
                    "it; never twice.",
                    outcome="unknown",
                    retrying=True,
                ),
            )
        ],
    ),
}

#: Error answers every operation can give.
COMMON_ERRORS = (401, 403, 429)
#: Error answers of operations that take a JSON body.
BODY_ERRORS = (400, 413, 415)
#: Error answers of operations that call Binance Pay.
UPSTREAM_ERRORS = (502, 503, 504)


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Documented error answers (``{status: OpenApiResponse}``) for `codes`."""
    answers = {}
    for code in sorted(codes):
        serializer, description, examples = _ERROR_ANSWERS[code]
        answers[code] = OpenApiResponse(serializer, description=description, examples=examples)
    return answers


def responses(
    success: dict[int, Any], *error_codes: int
) -> dict[int, OpenApiResponse | type[serializers.Serializer] | Any]:
    """An operation's ``responses``: its success answers plus the error answers `error_codes`."""
    return {**success, **error_responses(*error_codes)}


# -- headers --------------------------------------------------------------------------------------

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    description="Makes retrying safe. The first answer to a key is stored (for this API key's "
    "client application) and replayed, with `Idempotent-Replayed: true`, for every later request "
    "with the same key and the same body; the same key with another body is a 409. While the "
    "first request is still running, a repeat is answered at once 409 `request_in_progress` with "
    "`Retry-After` (2 s by default): send it again then. If that request died (its process was "
    "killed), the first repeat after its lease (15 s by default) takes over and finishes it: the "
    "same order, never a second one. Answers are kept 24 h by default; then the key is new "
    "again. Use one key per checkout "
    "attempt, e.g. a UUID such as `3f1c2b9e-4a57-4e0b-9d8e-1b2c3d4e5f60`: at most 255 printable "
    "characters.",
    # No `example`: the docs page would pre-fill it, and a second try with another body would
    # then be a 409 that surprises whoever is trying the API.
)
IDEMPOTENT_REPLAYED_HEADER = OpenApiParameter(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    description="`true` when this answer is the stored answer to an earlier request with the "
    "same `Idempotency-Key`.",
    response=True,
)
RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    {"type": "integer", "minimum": 0},
    OpenApiParameter.HEADER,
    description="Seconds to wait before sending the request again.",
    response=[409, 429, 503],
)
WWW_AUTHENTICATE_HEADER = OpenApiParameter(
    "WWW-Authenticate",
    str,
    OpenApiParameter.HEADER,
    description='`Bearer realm="paysvc"`: the API wants an API key as a Bearer token.',
    response=[401],
)
ERROR_HEADERS = [RETRY_AFTER_HEADER, WWW_AUTHENTICATE_HEADER]


def path_parameter(name: str, description: str, example: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        str,
        OpenApiParameter.PATH,
        description=description,
        examples=[OpenApiExample(name, value=example)],
    )


# -- pagination -----------------------------------------------------------------------------------


def paginated(serializer_class: type[serializers.Serializer], name: str) -> type:
    """A page of `serializer_class` items as `rest_framework.pagination.PageNumberPagination`
    answers it."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "__doc__": f"A page of {serializer_class.__name__.removesuffix('Serializer')} items.",
            "count": serializers.IntegerField(min_value=0, help_text="Items on all pages."),
            "next": serializers.URLField(
                allow_null=True, help_text="The next page, or null on the last one."
            ),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous page, or null on the first one."
            ),
            "results": serializer_class(many=True),
        },
    )


def documented_json_field(
    serializer_class: type[serializers.Serializer], **kwargs: Any
) -> serializers.JSONField:
    """A plain `serializers.JSONField` whose schema is `serializer_class`'s.

    For the JSON columns that hold validated request objects (``goods``, ``env``, ...): they are
    answered as stored, so their shape is the request serializer's.
    """
    name = serializer_class.__name__.removesuffix("Serializer") + "JSONField"
    field_class = extend_schema_field(serializer_class)(
        type(name, (serializers.JSONField,), {"__module__": __name__})
    )
    return field_class(**kwargs)


def request_examples(examples: Sequence[OpenApiExample]) -> list[Any]:
    """The values of request examples (tests send them)."""
    return [example.value for example in examples if example.request_only]
