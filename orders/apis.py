"""The merchant REST API (`/api/v1/`). Thin: parse, fetch by id, call one service, shape output.

Every view authenticates with an API key, checks the scope its action needs and sees only the
orders of the key's client application (others' answer 404, like unknown ids).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from rest_framework import status as http
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from clients.apis import MerchantApi
from clients.throttling import ApiKeyRateThrottle, OrderCreateRateThrottle, RefundRateThrottle
from orders import selectors, services
from orders.models import EventSource
from orders.schema import operations as docs
from orders.serializers import (
    KNOWN_REFUNDS,
    ORDER_REPRESENTATION,
    AccountShareSerializer,
    OrderDetailSerializer,
    OrderSerializer,
    RefundSerializer,
)
from orders.services.idempotency import Claim, idempotent_response, request_fingerprint
from orders.services.order_intake import order_create_for_key, order_resource_ref
from orders.validation import (
    AccountShareRequestSerializer,
    CreateOrderSerializer,
    OrderListFilterSerializer,
    RefundRequestSerializer,
)
from paysvc.exceptions import error_response_for
from paysvc.serializers import Reused

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_LENGTH = 255
# Order creation's input serializer, its field tree built once per thread (paysvc.serializers);
# the answer is orders.serializers.ORDER_REPRESENTATION.
CREATE_ORDER_INPUT = Reused(CreateOrderSerializer)


class OrderPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100


class OrderListCreateApi(MerchantApi):
    required_scopes = {"GET": "orders:read", "POST": "orders:write"}

    def action_throttles(self) -> list[Any]:
        return [OrderCreateRateThrottle()] if self.request.method == "POST" else []

    @docs.ORDERS_LIST
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

    @docs.ORDERS_CREATE
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
            compute=lambda claim: self._create(request, claim=claim),
            resource_ref=order_resource_ref(request.data),
        )
        response = Response(body, status=status_code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def _create(self, request: Request, claim: Claim | None = None) -> tuple[int, Any]:
        """(status, body) of one create; errors become their JSON error body, so that an
        idempotent replay gives the same answer. With an Idempotency-Key ``claim`` the order is
        created (or, after a takeover, resumed) by `order_create_for_key`."""
        try:
            application = self.application(request)
            data = CREATE_ORDER_INPUT.validated(
                request.data, context={"api_version": application.order_api_version}
            )
            create = (
                services.order_create
                if claim is None
                else partial(order_create_for_key, claim=claim)
            )
            order = create(
                application=application,
                data=data,
                actor=self.actor(request),
            )
        except Exception as exc:  # an expected API error is part of the replayable answer
            handled = error_response_for(exc, {"view": self, "request": request})
            if handled is None:
                raise
            return handled.status_code, handled.data
        # A new order has no refunds yet: no query for them (the timeline is on GET).
        return http.HTTP_201_CREATED, ORDER_REPRESENTATION.represent(
            order, context={KNOWN_REFUNDS: []}
        )


class OrderDetailApi(MerchantApi):
    required_scopes = {"GET": "orders:read"}

    @docs.ORDERS_RETRIEVE
    def get(self, request: Request, merchant_trade_no: str) -> Response:
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        return Response(OrderDetailSerializer(order).data)


class OrderCloseApi(MerchantApi):
    required_scopes = {"POST": "orders:write"}

    @docs.ORDERS_CLOSE
    def post(self, request: Request, merchant_trade_no: str) -> Response:
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        order = services.order_close(order=order, source=EventSource.API, actor=self.actor(request))
        return Response(OrderSerializer(order).data, status=http.HTTP_202_ACCEPTED)


class OrderSyncApi(MerchantApi):
    required_scopes = {"POST": "orders:read"}

    @docs.ORDERS_SYNC
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

    @docs.REFUNDS_CREATE
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

    @docs.REFUNDS_RETRIEVE
    def get(self, request: Request, merchant_trade_no: str, refund_request_id: str) -> Response:
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        refund = selectors.refund_get(order=order, refund_request_id=refund_request_id)
        return Response(RefundSerializer(refund).data)


class AccountShareCreateApi(MerchantApi):
    required_scopes = {"POST": "account_shares:write"}

    @docs.ACCOUNT_SHARES_CREATE
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

    @docs.ACCOUNT_SHARES_RETRIEVE
    def get(self, request: Request, request_id: str) -> Response:
        share = selectors.account_share_get(
            application=self.application(request), request_id=request_id
        )
        return Response(AccountShareSerializer(share).data)
