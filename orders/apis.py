"""The merchant REST API (`/api/v1/`). Thin: parse, fetch by id, call one service, shape output.

Every view authenticates with an API key, checks the scope its action needs and sees only the
orders of the key's client application (others' answer 404, like unknown ids).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.authentication import ApiKeyAuthentication
from clients.permissions import HasApiKey, RequiredScopes
from clients.throttling import ApiKeyRateThrottle, OrderCreateRateThrottle, RefundRateThrottle
from orders import schema as docs
from orders import selectors, services
from orders.models import EventSource
from orders.serializers import (
    AccountShareSerializer,
    OrderDetailSerializer,
    OrderSerializer,
    RefundSerializer,
)
from orders.services.idempotency import idempotent_response, request_fingerprint
from orders.validation import (
    AccountShareRequestSerializer,
    CreateOrderSerializer,
    OrderListFilterSerializer,
    RefundRequestSerializer,
)
from paysvc.exceptions import error_response_for

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_LENGTH = 255


class MerchantApi(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey, RequiredScopes]
    throttle_classes = [ApiKeyRateThrottle]
    required_scopes: dict[str, str] = {}

    def application(self, request: Request) -> Any:
        return request.user.application

    def actor(self, request: Request) -> str:
        return f"api:{request.auth.prefix}"


class OrderPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100


class OrderListCreateApi(MerchantApi):
    required_scopes = {"GET": "orders:read", "POST": "orders:write"}

    def get_throttles(self) -> list[Any]:
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(OrderCreateRateThrottle())
        return throttles

    @extend_schema(
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
                    examples=docs.ORDER_LIST_EXAMPLES,
                )
            },
            400,
            404,
            *docs.COMMON_ERRORS,
        ),
    )
    def get(self, request: Request) -> Response:
        filters = OrderListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        orders = selectors.order_list(
            application=self.application(request),
            statuses=f.get("status"),
            customer_ref=f.get("customerRef"),
            created_from=f.get("createdFrom"),
            created_to=f.get("createdTo"),
        )
        paginator = OrderPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(OrderSerializer(page, many=True).data)

    @extend_schema(
        operation_id="orders_create",
        summary="Create an order",
        description="Creates a Binance Pay v2 order (Binance's field names) and answers it with "
        "its checkout links. The body is checked against Binance's rules first; bad input is a "
        "400 and nothing reaches Binance. Give either `orderAmount`+`currency` (crypto) or "
        "`fiatAmount`+`fiatCurrency`. `merchantTradeNo` is generated when absent. `notifyUrl` "
        "(where paysvc posts status events) and `customerRef` (your user id) are paysvc's own. "
        "Send an `Idempotency-Key` to make retrying safe. Scope `orders:write`.",
        request=CreateOrderSerializer,
        parameters=[
            docs.IDEMPOTENCY_KEY_PARAMETER,
            docs.IDEMPOTENT_REPLAYED_HEADER,
            *docs.ERROR_HEADERS,
        ],
        examples=docs.ORDER_CREATE_EXAMPLES,
        responses=docs.responses(
            {
                201: OpenApiResponse(
                    OrderSerializer,
                    description="Created at Binance: the order with its checkout links.",
                    examples=docs.ORDER_CREATED_EXAMPLES,
                )
            },
            409,
            *docs.BODY_ERRORS,
            *docs.COMMON_ERRORS,
            *docs.UPSTREAM_ERRORS,
        ),
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        if not key:
            status_code, body = self._create(request)
            return Response(body, status=status_code)
        if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
            message = f"must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} printable characters"
            raise ValidationError({IDEMPOTENCY_HEADER: [message]})
        status_code, body, replayed = idempotent_response(
            application=self.application(request),
            key=key,
            fingerprint=request_fingerprint(method="POST", path=request.path, data=request.data),
            compute=lambda: self._create(request),
        )
        response = Response(body, status=status_code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def _create(self, request: Request) -> tuple[int, Any]:
        """(status, body) of one create; errors become their JSON error body, so that an
        idempotent replay gives the same answer."""
        try:
            serializer = CreateOrderSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            order = services.order_create(
                application=self.application(request),
                data=serializer.validated_data,
                actor=self.actor(request),
            )
        except Exception as exc:  # an expected API error is part of the replayable answer
            handled = error_response_for(exc, {"view": self, "request": request})
            if handled is None:
                raise
            return handled.status_code, handled.data
        # A new order has no refunds yet: skip the query (the timeline is on GET).
        order._prefetched_objects_cache = {"refunds": order.refunds.none()}
        return http.HTTP_201_CREATED, OrderSerializer(order).data


class OrderDetailApi(MerchantApi):
    required_scopes = {"GET": "orders:read"}

    @extend_schema(
        operation_id="orders_retrieve",
        summary="Get an order",
        description="The order with its status, amounts, checkout links, refunds and timeline, "
        "as paysvc knows it (webhooks and reconciliation keep it current; `sync` asks Binance "
        "now). Scope `orders:read`.",
        parameters=[docs.MERCHANT_TRADE_NO_PARAMETER, *docs.ERROR_HEADERS],
        responses=docs.responses(
            {
                200: OpenApiResponse(
                    OrderDetailSerializer,
                    description="The order.",
                    examples=docs.ORDER_DETAIL_EXAMPLES,
                )
            },
            404,
            *docs.COMMON_ERRORS,
        ),
    )
    def get(self, request: Request, merchant_trade_no: str) -> Response:
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        return Response(OrderDetailSerializer(order).data)


class OrderCloseApi(MerchantApi):
    required_scopes = {"POST": "orders:write"}

    @extend_schema(
        operation_id="orders_close",
        summary="Close an unpaid order",
        description="Asks Binance to close the order so that it can no longer be paid. Only an "
        "unpaid order can be closed (409 otherwise); closing twice is harmless. No body. Scope "
        "`orders:write`.",
        request=None,
        parameters=[docs.MERCHANT_TRADE_NO_PARAMETER, *docs.ERROR_HEADERS],
        responses=docs.responses(
            {
                202: OpenApiResponse(
                    OrderSerializer,
                    description="Closed at Binance.",
                    examples=docs.ORDER_CLOSED_EXAMPLES,
                )
            },
            409,
            404,
            *docs.COMMON_ERRORS,
            *docs.UPSTREAM_ERRORS,
        ),
    )
    def post(self, request: Request, merchant_trade_no: str) -> Response:
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        order = services.order_close(order=order, source=EventSource.API, actor=self.actor(request))
        return Response(OrderSerializer(order).data, status=http.HTTP_202_ACCEPTED)


class OrderSyncApi(MerchantApi):
    required_scopes = {"POST": "orders:read"}

    @extend_schema(
        operation_id="orders_sync",
        summary="Sync an order with Binance",
        description="Queries Binance now and applies what it says (status, payment, refunds), "
        "then answers the order. No body. Scope `orders:read`.",
        request=None,
        parameters=[docs.MERCHANT_TRADE_NO_PARAMETER, *docs.ERROR_HEADERS],
        responses=docs.responses(
            {
                200: OpenApiResponse(
                    OrderDetailSerializer,
                    description="The order after applying Binance's answer.",
                    examples=docs.ORDER_DETAIL_EXAMPLES,
                )
            },
            409,
            404,
            *docs.COMMON_ERRORS,
            *docs.UPSTREAM_ERRORS,
        ),
    )
    def post(self, request: Request, merchant_trade_no: str) -> Response:
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        services.order_sync(order=order, source=EventSource.API, actor=self.actor(request))
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        return Response(OrderDetailSerializer(order).data)


class RefundCreateApi(MerchantApi):
    required_scopes = {"POST": "refunds:write"}
    throttle_classes = [ApiKeyRateThrottle, RefundRateThrottle]

    @extend_schema(
        operation_id="refunds_create",
        summary="Refund a paid order",
        description="Asks Binance to refund all or part of a paid order; the refund completes "
        "asynchronously (follow it with `GET .../refunds/{refundRequestId}` or your "
        "`notifyUrl`). Refunds never sum above what was paid, and Binance allows at most 10 per "
        "order. `refundRequestId` is the idempotency key: the same id and amount answer the "
        "same refund, the same id with another amount is a 409. Scope `refunds:write`.",
        request=RefundRequestSerializer,
        parameters=[docs.MERCHANT_TRADE_NO_PARAMETER, *docs.ERROR_HEADERS],
        examples=docs.REFUND_CREATE_EXAMPLES,
        responses=docs.responses(
            {
                202: OpenApiResponse(
                    RefundSerializer,
                    description="Accepted: the refund, usually `REFUND_PENDING`.",
                    examples=docs.REFUND_EXAMPLES,
                )
            },
            409,
            *docs.BODY_ERRORS,
            404,
            *docs.COMMON_ERRORS,
            *docs.UPSTREAM_ERRORS,
        ),
    )
    def post(self, request: Request, merchant_trade_no: str) -> Response:
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        serializer = RefundRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        refund = services.refund_create(
            order=order,
            refund_amount=data["refundAmount"],
            refund_reason=data.get("refundReason", ""),
            refund_request_id=data.get("refundRequestId"),
            source=EventSource.API,
            actor=self.actor(request),
        )
        return Response(RefundSerializer(refund).data, status=http.HTTP_202_ACCEPTED)


class RefundDetailApi(MerchantApi):
    required_scopes = {"GET": "orders:read"}

    @extend_schema(
        operation_id="refunds_retrieve",
        summary="Get a refund",
        description="One refund of the order. Scope `orders:read`.",
        parameters=[
            docs.MERCHANT_TRADE_NO_PARAMETER,
            docs.REFUND_REQUEST_ID_PARAMETER,
            *docs.ERROR_HEADERS,
        ],
        responses=docs.responses(
            {
                200: OpenApiResponse(
                    RefundSerializer,
                    description="The refund.",
                    examples=docs.REFUND_DETAIL_EXAMPLES,
                )
            },
            404,
            *docs.COMMON_ERRORS,
        ),
    )
    def get(self, request: Request, merchant_trade_no: str, refund_request_id: str) -> Response:
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        refund = selectors.refund_get(order=order, refund_request_id=refund_request_id)
        return Response(RefundSerializer(refund).data)


class AccountShareCreateApi(MerchantApi):
    required_scopes = {"POST": "account_shares:write"}

    @extend_schema(
        operation_id="account_shares_create",
        summary="Request a customer's Binance account ID",
        description="Starts Binance's account-ID sharing for one of your customers "
        "(`customerRef`): show the answer's QR code; once the user agrees, the share becomes "
        "`SHARED` with their `binanceId`. `requestId` (letters and digits) is generated when "
        "absent; reusing one is a 409. Scope `account_shares:write`.",
        request=AccountShareRequestSerializer,
        parameters=docs.ERROR_HEADERS,
        examples=docs.ACCOUNT_SHARE_CREATE_EXAMPLES,
        responses=docs.responses(
            {
                201: OpenApiResponse(
                    AccountShareSerializer,
                    description="Requested: the QR code to show and its expiry.",
                    examples=docs.ACCOUNT_SHARE_EXAMPLES,
                )
            },
            409,
            *docs.BODY_ERRORS,
            *docs.COMMON_ERRORS,
            *docs.UPSTREAM_ERRORS,
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = AccountShareRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        share = services.account_share_create(
            application=self.application(request),
            customer_ref=data["customerRef"],
            request_id=data.get("requestId"),
        )
        return Response(AccountShareSerializer(share).data, status=http.HTTP_201_CREATED)


class AccountShareDetailApi(MerchantApi):
    required_scopes = {"GET": "account_shares:read"}

    @extend_schema(
        operation_id="account_shares_retrieve",
        summary="Get an account share",
        description="The share's status; once `SHARED`, the user's `binanceId`. Scope "
        "`account_shares:read`.",
        parameters=[docs.SHARE_REQUEST_ID_PARAMETER, *docs.ERROR_HEADERS],
        responses=docs.responses(
            {
                200: OpenApiResponse(
                    AccountShareSerializer,
                    description="The account share.",
                    examples=docs.ACCOUNT_SHARE_DETAIL_EXAMPLES,
                )
            },
            404,
            *docs.COMMON_ERRORS,
        ),
    )
    def get(self, request: Request, request_id: str) -> Response:
        share = selectors.account_share_get(
            application=self.application(request), request_id=request_id
        )
        return Response(AccountShareSerializer(share).data)
