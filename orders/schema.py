"""OpenAPI documentation of the merchant API (drf-spectacular): error bodies, examples, hints.

Nothing here changes what the API does. `orders.apis` decorates its views with the pieces below:

- `ErrorSerializer` / `UpstreamErrorSerializer` describe the one error body of
  `paysvc.exceptions` (``{"error": {"code", "message", "fields"?, ...}}``); `error_responses`
  builds the documented error answers of an operation (400 with dotted ``fields``, 401, 403,
  404, 409, 429 with ``Retry-After``, 502/503/504 with ``outcome`` and ``retrying``);
- `PaginatedOrderListSerializer` is the page `GET /api/v1/orders` answers;
- the ``*_EXAMPLES`` lists are request and response examples (Swagger UI shows them, and the
  schemathesis test sends the request examples to the live sandbox);
- `TextFieldExtension` puts the ``pattern`` a `orders.validation.text.TextField` checks into
  the request schema (and ``format: uri`` for URL fields), so that the request schemas say which
  characters an id, a phone number or a currency list may contain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.extensions import (
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
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
    "upstream_error",
    "upstream_unavailable",
    "upstream_timeout",
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
        "header (429, and 503 when known).",
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


def _example(name: str, value: Any, summary: str = "") -> OpenApiExample:
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
            _example("Validation error", VALIDATION_ERROR_EXAMPLE),
            _example(
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
            _example(
                "No API key",
                _error("not_authenticated", "Authentication credentials were not provided."),
            ),
            _example(
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
            _example(
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
        [_example("Not found", _error("not_found", "Not found."))],
    ),
    409: (
        ErrorSerializer,
        "Conflicts with existing state (`conflict`): a `merchantTradeNo`, `refundRequestId` or "
        "`requestId` already used, an `Idempotency-Key` reused with another body, or an action "
        "the order's status does not allow.",
        [
            _example(
                "Duplicate merchantTradeNo",
                _error(
                    "conflict",
                    "merchantTradeNo 9825382937292 is already used by another order",
                ),
            ),
            _example(
                "Idempotency-Key reused",
                _error(
                    "conflict",
                    "this Idempotency-Key was already used with a different request body",
                ),
            ),
        ],
    ),
    413: (
        ErrorSerializer,
        "The request body is larger than 1 MiB (`payload_too_large`).",
        [_example("Too large", _error("payload_too_large", "The request body is too large."))],
    ),
    415: (
        ErrorSerializer,
        "The body is not `application/json` (`unsupported_media_type`).",
        [
            _example(
                "Not JSON",
                _error("unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
            )
        ],
    ),
    429: (
        ErrorSerializer,
        "Rate limited (`throttled`): wait the `Retry-After` seconds (also in `retryAfter`).",
        [
            _example(
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
            _example(
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
            _example(
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
            _example(
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
    "with the same key and the same body; the same key with another body is a 409. Use one key "
    "per checkout attempt, e.g. a UUID such as `3f1c2b9e-4a57-4e0b-9d8e-1b2c3d4e5f60`: at most "
    "255 printable characters.",
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
    response=[429, 503],
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


MERCHANT_TRADE_NO_PARAMETER = path_parameter(
    "merchant_trade_no",
    "The order's `merchantTradeNo` (yours, or the one paysvc generated).",
    "9825382937292",
)
REFUND_REQUEST_ID_PARAMETER = path_parameter(
    "refund_request_id", "The refund's `refundRequestId`.", "refund20250131A"
)
SHARE_REQUEST_ID_PARAMETER = path_parameter(
    "request_id", "The account share's `requestId`.", "share20250131A"
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


# -- request schemas of the validation serializers ------------------------------------------------


class TextFieldExtension(OpenApiSerializerFieldExtension):
    """Documents a `TextField`'s ``pattern`` (a full match) and a URL field's ``format: uri``.

    Lengths come from the field's MaxLengthValidator as usual. Patterns are written so that
    JavaScript, JSON Schema and Python read them alike (ASCII classes only).
    """

    target_class = "orders.validation.text.TextField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        from orders.validation.urls import HttpUrlField

        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        pattern = getattr(self.target, "pattern", None)
        if pattern is not None:
            schema["pattern"] = f"^(?:{pattern.pattern})$"
        if isinstance(self.target, HttpUrlField):
            schema["format"] = "uri"
        return schema


class _RenamedRequestSerializer(OpenApiSerializerExtension):
    """Names a request serializer's component (``RefundRequest`` + the split suffix would read
    ``RefundRequestRequest``)."""

    component_name = ""

    def get_name(self, auto_schema: Any = None, direction: Any = None) -> str:
        return self.component_name

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        return auto_schema._map_serializer(self.target, direction, bypass_extensions=True)


class RefundRequestSchema(_RenamedRequestSerializer):
    target_class = "orders.validation.serializers.RefundRequestSerializer"
    component_name = "CreateRefund"


class AccountShareRequestSchema(_RenamedRequestSerializer):
    target_class = "orders.validation.serializers.AccountShareRequestSerializer"
    component_name = "CreateAccountShare"


# -- examples -------------------------------------------------------------------------------------

CRYPTO_ORDER_REQUEST = {
    "env": {"terminalType": "WEB", "orderClientIp": "203.0.113.7", "cookieId": "9c1e2f3a4b5d"},
    "orderAmount": "25.17",
    "currency": "USDT",
    "goods": {
        "goodsType": "01",
        "goodsCategory": "D000",
        "referenceGoodsId": "7876763A3B",
        "goodsName": "Ice Cream",
        "goodsDetail": "Greentea ice cream cone",
        "goodsUnitAmount": {"currency": "USDT", "amount": "25.17"},
        "goodsQuantity": "1",
    },
    "shipping": {
        "shippingName": {"firstName": "Joe", "lastName": "Don"},
        "shippingAddress": {
            "region": "NZ",
            "state": "Auckland",
            "city": "Auckland",
            "address": "12 Queen Street",
            "zipCode": "1010",
            "shippingAddressType": "02",
        },
        "shippingPhoneNo": "+64 9 555 0100",
    },
    "buyer": {
        "referenceBuyerId": "buyer-1234",
        "buyerName": {"firstName": "Jane", "lastName": "Doe"},
        "buyerPhoneCountryCode": "+64",
        "buyerPhoneNo": "21 555 0100",
        "buyerEmail": "jane.doe@example.com",
        "buyerRegistrationTime": 1700000000000,
        "buyerBrowserLanguage": "en-NZ",
    },
    "returnUrl": "https://shop.example.com/checkout/done?order=1001",
    "cancelUrl": "https://shop.example.com/checkout/cancel?order=1001",
    "notifyUrl": "https://shop.example.com/hooks/paysvc",
    "customerRef": "customer-42",
    "supportPayCurrency": "USDT,BNB",
    "passThroughInfo": "order 1001",
}
FIAT_ORDER_REQUEST = {
    "env": {"terminalType": "APP", "osType": "IOS"},
    "fiatAmount": "1.00",
    "fiatCurrency": "USD",
    "goods": {
        "goodsType": "02",
        "goodsCategory": "6000",
        "referenceGoodsId": "gems100",
        "goodsName": "100 Gems",
    },
    "customerRef": "player-7",
}
MINIMAL_ORDER_REQUEST = {
    "env": {"terminalType": "WEB"},
    "orderAmount": "0.01",
    "currency": "USDT",
    "goods": {
        "goodsType": "02",
        "goodsCategory": "Z000",
        "referenceGoodsId": "sku001",
        "goodsName": "Ice Cream",
    },
}

ORDER_CREATE_EXAMPLES = [
    OpenApiExample(
        "Crypto order",
        summary="Crypto order with goods, env, shipping and buyer",
        value=CRYPTO_ORDER_REQUEST,
        description="25.17 USDT for one ice cream, with everything Binance uses for risk "
        "control. paysvc generates the `merchantTradeNo` (see the answer); to use your own, add "
        '`"merchantTradeNo": "..."` (letters and digits, at most 32, never reused).',
        request_only=True,
    ),
    OpenApiExample(
        "Fiat order",
        summary="Fiat order of 1.00 USD",
        value=FIAT_ORDER_REQUEST,
        description="Priced in fiat: Binance converts to a crypto amount, returned as "
        "`currency` and `totalFee`. Give either `orderAmount`+`currency` or "
        "`fiatAmount`+`fiatCurrency`, never both.",
        request_only=True,
    ),
    OpenApiExample(
        "Minimal order",
        summary="Minimal order (required fields only)",
        value=MINIMAL_ORDER_REQUEST,
        description="Only the required fields; paysvc generates the `merchantTradeNo`.",
        request_only=True,
    ),
]

_REFUND = {
    "refundRequestId": "refund20250131A",
    "status": "REFUND_PENDING",
    "refundAmount": "10.5",
    "refundReason": "customer asked",
    "refundId": "29287478297432832",
    "refundedAmount": None,
    "remainingAttempts": 9,
    "failureCode": "",
    "failureMessage": "",
    "createdAt": "2025-01-31T12:10:00.000000Z",
    "completedAt": None,
}
_ORDER = {
    "merchantTradeNo": "9825382937292",
    "prepayId": "29383937493038367",
    "status": "INITIAL",
    "customerRef": "customer-42",
    "currency": "USDT",
    "orderAmount": "25.17",
    "totalFee": "25.17",
    "fiatAmount": None,
    "fiatCurrency": "",
    "checkoutUrl": "https://pay.binance.com/en/checkout/e30bb9d2a8f4f1ccf3c5f6ad6b4c3a2b",
    "qrcodeLink": "https://public.bnbstatic.com/static/payment/20250131/0f2c7a1e.jpg",
    "qrContent": "https://app.binance.com/qr/dplkb005181944f84b84aba2430e1177012b",
    "deeplink": "bnc://app.binance.com/payment/secpay?tempToken=5eB5lQMg3Mb1fa8a1SoPCV",
    "universalUrl": "https://app.binance.com/payment/secpay?linkToken=5eB5lQMg3Mb1fa8a1SoPCV"
    "&_dp=Ym5jOi8vYXBwLmJpbmFuY2UuY29tL3BheW1lbnQvc2VjcGF5",
    "expireTime": "2025-01-31T13:00:00Z",
    "transactionId": "",
    "openUserId": "",
    "env": CRYPTO_ORDER_REQUEST["env"],
    "goods": CRYPTO_ORDER_REQUEST["goods"],
    "shipping": CRYPTO_ORDER_REQUEST["shipping"],
    "buyer": CRYPTO_ORDER_REQUEST["buyer"],
    "returnUrl": CRYPTO_ORDER_REQUEST["returnUrl"],
    "cancelUrl": CRYPTO_ORDER_REQUEST["cancelUrl"],
    "notifyUrl": CRYPTO_ORDER_REQUEST["notifyUrl"],
    "flagged": False,
    "failureCode": "",
    "failureMessage": "",
    "createdAt": "2025-01-31T12:00:00.123456Z",
    "paidAt": None,
    "refunds": [],
}
_TIMELINE = [
    {
        "createdAt": "2025-01-31T12:00:00.125000Z",
        "kind": "note",
        "source": "api",
        "summary": "order stored; creating it at Binance",
        "fromStatus": "",
        "toStatus": "",
    },
    {
        "createdAt": "2025-01-31T12:00:00.410000Z",
        "kind": "binance_call",
        "source": "api",
        "summary": "POST /binancepay/openapi/v2/order: SUCCESS",
        "fromStatus": "",
        "toStatus": "",
    },
]
ORDER_DETAIL_EXAMPLE = {**_ORDER, "timeline": _TIMELINE}
PAID_ORDER_DETAIL_EXAMPLE = {
    **_ORDER,
    "status": "PAID",
    "transactionId": "M_P_71505104267788288",
    "openUserId": "1dbbfa0a5b7b6e54c8d4b6d0bf7cf0bd",
    "paidAt": "2025-01-31T12:03:21Z",
    "timeline": [
        *_TIMELINE,
        {
            "createdAt": "2025-01-31T12:03:22.004000Z",
            "kind": "status_change",
            "source": "webhook",
            "summary": "PAY_SUCCESS",
            "fromStatus": "INITIAL",
            "toStatus": "PAID",
        },
    ],
}

ORDER_CREATED_EXAMPLES = [
    OpenApiExample(
        "Order created",
        value=_ORDER,
        description="Send the buyer to `checkoutUrl` (web), show `qrcodeLink`/`qrContent` as a "
        "QR code, or open `deeplink`/`universalUrl` in the Binance app.",
        response_only=True,
        status_codes=[201],
    )
]
ORDER_DETAIL_EXAMPLES = [
    OpenApiExample("Unpaid order", value=ORDER_DETAIL_EXAMPLE, response_only=True),
    OpenApiExample("Paid order", value=PAID_ORDER_DETAIL_EXAMPLE, response_only=True),
]
ORDER_LIST_EXAMPLES = [
    OpenApiExample(
        "A page of orders",
        value={
            "count": 41,
            "next": "https://paysvc.example.com/api/v1/orders?page=2&pageSize=20",
            "previous": None,
            "results": [_ORDER],
        },
        response_only=True,
    )
]
ORDER_CLOSED_EXAMPLES = [
    OpenApiExample(
        "Order closed",
        value={**_ORDER, "status": "CANCELED"},
        response_only=True,
        status_codes=[202],
    )
]

REFUND_CREATE_EXAMPLES = [
    OpenApiExample(
        "Partial refund",
        summary="Partial refund with your own refundRequestId",
        value={
            "refundAmount": "10.5",
            "refundReason": "customer asked",
            "refundRequestId": "refund20250131A",
        },
        description="Repeating the request with the same `refundRequestId` and amount answers "
        "the same refund; Binance never refunds one id twice.",
        request_only=True,
    ),
    OpenApiExample(
        "Full refund",
        summary="Refund of what remains, refundRequestId generated",
        value={"refundAmount": "25.17"},
        description="Refunds what remains of a 25.17 order; paysvc generates the "
        "`refundRequestId`.",
        request_only=True,
    ),
]
REFUND_EXAMPLES = [
    OpenApiExample("Refund accepted", value=_REFUND, response_only=True, status_codes=[202]),
]
REFUND_DETAIL_EXAMPLES = [
    OpenApiExample(
        "Refund succeeded",
        value={
            **_REFUND,
            "status": "REFUND_SUCCESS",
            "refundedAmount": "10.5",
            "completedAt": "2025-01-31T12:10:03Z",
        },
        response_only=True,
    ),
]

ACCOUNT_SHARE_CREATE_EXAMPLES = [
    OpenApiExample(
        "With requestId",
        summary="Account share with your own requestId",
        value={"customerRef": "customer-42", "requestId": "share20250131A"},
        request_only=True,
    ),
    OpenApiExample(
        "Minimal",
        summary="Account share, requestId generated",
        value={"customerRef": "customer-42"},
        request_only=True,
    ),
]
_SHARE = {
    "requestId": "share20250131A",
    "customerRef": "customer-42",
    "status": "PENDING",
    "qrcodeContent": "https://app.binance.com/qr/share/5b3c9e8d7f",
    "qrcodeUrl": "https://public.bnbstatic.com/static/payment/share/5b3c9e8d7f.jpg",
    "expireTime": "2025-01-31T12:15:00Z",
    "binanceId": "",
    "createdAt": "2025-01-31T12:00:00.000000Z",
    "sharedAt": None,
}
ACCOUNT_SHARE_EXAMPLES = [
    OpenApiExample(
        "Waiting for the user",
        value=_SHARE,
        description="Show `qrcodeContent` as a QR code (or `qrcodeUrl` as an image); the user "
        "scans it with the Binance app and agrees.",
        response_only=True,
        status_codes=[201],
    ),
]
ACCOUNT_SHARE_DETAIL_EXAMPLES = [
    OpenApiExample(
        "Shared",
        value={
            **_SHARE,
            "status": "SHARED",
            "binanceId": "354205155",
            "sharedAt": "2025-01-31T12:02:10Z",
        },
        response_only=True,
    ),
]


def request_examples(examples: Sequence[OpenApiExample]) -> list[Any]:
    """The values of request examples (tests send them)."""
    return [example.value for example in examples if example.request_only]
