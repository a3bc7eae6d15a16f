"""The OpenAPI declarations of the orders operations, one per view method (orders.apis).

Nothing here changes what the API does; the views apply these decorators.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema

from orders.schema.examples import (
    ACCOUNT_SHARE_CREATE_EXAMPLES,
    ACCOUNT_SHARE_DETAIL_EXAMPLES,
    ACCOUNT_SHARE_EXAMPLES,
    ORDER_CLOSED_EXAMPLES,
    ORDER_CREATE_EXAMPLES,
    ORDER_CREATED_EXAMPLES,
    ORDER_DETAIL_EXAMPLES,
    ORDER_LIST_EXAMPLES,
    REFUND_CREATE_EXAMPLES,
    REFUND_DETAIL_EXAMPLES,
    REFUND_EXAMPLES,
)
from orders.serializers import (
    AccountShareSerializer,
    OrderDetailSerializer,
    OrderSerializer,
    RefundSerializer,
)
from orders.validation import (
    AccountShareRequestSerializer,
    CreateOrderSerializer,
    OrderListFilterSerializer,
    RefundRequestSerializer,
)
from paysvc import openapi as docs
from paysvc.openapi import path_parameter

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


ORDERS_LIST = extend_schema(
    operation_id="orders_list",
    summary="List orders",
    description="The orders created with this API key's client application, newest first, "
    "20 a page (`pageSize` up to 100). `status` takes one status or a comma-separated list; "
    "`createdFrom`/`createdTo` are ISO 8601 times. Scope `orders:read`.",
    parameters=[OrderListFilterSerializer, *docs.ERROR_HEADERS],
    responses=docs.responses(
        {
            200: OpenApiResponse(
                docs.paginated(OrderSerializer, "PaginatedOrderListSerializer"),
                description="A page of orders.",
                examples=ORDER_LIST_EXAMPLES,
            )
        },
        400,
        404,
        *docs.COMMON_ERRORS,
    ),
)


ORDERS_CREATE = extend_schema(
    operation_id="orders_create",
    summary="Create an order",
    description="Creates a Binance Pay order (Binance's field names) and answers it with "
    "its checkout links. The body is checked against Binance's rules first; bad input is a "
    "400 and nothing reaches Binance. Give either `orderAmount`+`currency` (crypto) or "
    "`fiatAmount`+`fiatCurrency`. `merchantTradeNo` is generated when absent. `notifyUrl` "
    "(where paysvc posts this order's events, besides your webhook endpoints) and "
    "`customerRef` (your user id) are paysvc's own. Send an `Idempotency-Key` to make "
    "retrying safe (409 `request_in_progress` with `Retry-After` while the first request with "
    "it is still running). Scope `orders:write`.\n\n"
    "**v2 or v3.** Your client application is set (by paysvc's staff) to Binance's Create "
    "Order v3, the default and what Binance recommends, or v2, which Binance will retire; "
    "`apiVersion` in the answer says which created the order. The body is the same for both: "
    "`goods` (one item) or `goodsDetails` (a list; v2 takes one item). v3 only: "
    "`description` (shown to the payer; the first goods name when absent) and `qrCodeReferId` "
    "(the referId of a scan of your merchant QR code); a v2 application refuses them with a "
    "400 naming the field. Everything after creation (status, webhooks, refunds, close, sync) "
    "is the same for both versions.",
    request=CreateOrderSerializer,
    parameters=[
        docs.IDEMPOTENCY_KEY_PARAMETER,
        docs.IDEMPOTENT_REPLAYED_HEADER,
        *docs.ERROR_HEADERS,
    ],
    examples=ORDER_CREATE_EXAMPLES,
    responses=docs.responses(
        {
            201: OpenApiResponse(
                OrderSerializer,
                description="Created at Binance: the order with its checkout links.",
                examples=ORDER_CREATED_EXAMPLES,
            )
        },
        409,
        *docs.BODY_ERRORS,
        *docs.COMMON_ERRORS,
        *docs.UPSTREAM_ERRORS,
    ),
)


ORDERS_RETRIEVE = extend_schema(
    operation_id="orders_retrieve",
    summary="Get an order",
    description="The order with its status, amounts, checkout links, refunds and timeline, "
    "as paysvc knows it (webhooks and reconciliation keep it current; `sync` asks Binance "
    "now). Scope `orders:read`.",
    parameters=[MERCHANT_TRADE_NO_PARAMETER, *docs.ERROR_HEADERS],
    responses=docs.responses(
        {
            200: OpenApiResponse(
                OrderDetailSerializer,
                description="The order.",
                examples=ORDER_DETAIL_EXAMPLES,
            )
        },
        404,
        *docs.COMMON_ERRORS,
    ),
)


ORDERS_CLOSE = extend_schema(
    operation_id="orders_close",
    summary="Close an unpaid order",
    description="Asks Binance to close the order so that it can no longer be paid. Only an "
    "unpaid order can be closed (409 otherwise); closing twice is harmless. No body. Scope "
    "`orders:write`.",
    request=None,
    parameters=[MERCHANT_TRADE_NO_PARAMETER, *docs.ERROR_HEADERS],
    responses=docs.responses(
        {
            202: OpenApiResponse(
                OrderSerializer,
                description="Closed at Binance.",
                examples=ORDER_CLOSED_EXAMPLES,
            )
        },
        409,
        404,
        *docs.COMMON_ERRORS,
        *docs.UPSTREAM_ERRORS,
    ),
)


ORDERS_SYNC = extend_schema(
    operation_id="orders_sync",
    summary="Sync an order with Binance",
    description="Queries Binance now and applies what it says (status, payment, refunds), "
    "then answers the order. No body. Scope `orders:read`.",
    request=None,
    parameters=[MERCHANT_TRADE_NO_PARAMETER, *docs.ERROR_HEADERS],
    responses=docs.responses(
        {
            200: OpenApiResponse(
                OrderDetailSerializer,
                description="The order after applying Binance's answer.",
                examples=ORDER_DETAIL_EXAMPLES,
            )
        },
        409,
        404,
        *docs.COMMON_ERRORS,
        *docs.UPSTREAM_ERRORS,
    ),
)


REFUNDS_CREATE = extend_schema(
    operation_id="refunds_create",
    summary="Refund a paid order",
    description="Asks Binance to refund all or part of a paid order; the refund completes "
    "asynchronously (follow it with `GET .../refunds/{refundRequestId}` or your "
    "`notifyUrl`). Refunds never sum above what was paid, and Binance allows at most 10 per "
    "order. `refundRequestId` is the idempotency key: the same id and amount answer the "
    "same refund, the same id with another amount is a 409. Scope `refunds:write`.",
    request=RefundRequestSerializer,
    parameters=[MERCHANT_TRADE_NO_PARAMETER, *docs.ERROR_HEADERS],
    examples=REFUND_CREATE_EXAMPLES,
    responses=docs.responses(
        {
            202: OpenApiResponse(
                RefundSerializer,
                description="Accepted: the refund, usually `REFUND_PENDING`.",
                examples=REFUND_EXAMPLES,
            )
        },
        409,
        *docs.BODY_ERRORS,
        404,
        *docs.COMMON_ERRORS,
        *docs.UPSTREAM_ERRORS,
    ),
)


REFUNDS_RETRIEVE = extend_schema(
    operation_id="refunds_retrieve",
    summary="Get a refund",
    description="One refund of the order. Scope `orders:read`.",
    parameters=[
        MERCHANT_TRADE_NO_PARAMETER,
        REFUND_REQUEST_ID_PARAMETER,
        *docs.ERROR_HEADERS,
    ],
    responses=docs.responses(
        {
            200: OpenApiResponse(
                RefundSerializer,
                description="The refund.",
                examples=REFUND_DETAIL_EXAMPLES,
            )
        },
        404,
        *docs.COMMON_ERRORS,
    ),
)


ACCOUNT_SHARES_CREATE = extend_schema(
    operation_id="account_shares_create",
    summary="Request a customer's Binance account ID",
    description="Starts Binance's account-ID sharing for one of your customers "
    "(`customerRef`): show the answer's QR code; once the user agrees, the share becomes "
    "`SHARED` with their `binanceId`. `requestId` (letters and digits) is generated when "
    "absent; reusing one is a 409. Scope `account_shares:write`.",
    request=AccountShareRequestSerializer,
    parameters=docs.ERROR_HEADERS,
    examples=ACCOUNT_SHARE_CREATE_EXAMPLES,
    responses=docs.responses(
        {
            201: OpenApiResponse(
                AccountShareSerializer,
                description="Requested: the QR code to show and its expiry.",
                examples=ACCOUNT_SHARE_EXAMPLES,
            )
        },
        409,
        *docs.BODY_ERRORS,
        *docs.COMMON_ERRORS,
        *docs.UPSTREAM_ERRORS,
    ),
)


ACCOUNT_SHARES_RETRIEVE = extend_schema(
    operation_id="account_shares_retrieve",
    summary="Get an account share",
    description="The share's status; once `SHARED`, the user's `binanceId`. Scope "
    "`account_shares:read`.",
    parameters=[SHARE_REQUEST_ID_PARAMETER, *docs.ERROR_HEADERS],
    responses=docs.responses(
        {
            200: OpenApiResponse(
                AccountShareSerializer,
                description="The account share.",
                examples=ACCOUNT_SHARE_DETAIL_EXAMPLES,
            )
        },
        404,
        *docs.COMMON_ERRORS,
    ),
)
