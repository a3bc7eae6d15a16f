"""The merchant REST API (`/api/v1/`). Thin: parse, fetch by id, call one service, shape output.

Every view authenticates with an API key, checks the scope its action needs and sees only the
orders of the key's client application (others' answer 404, like unknown ids).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.authentication import ApiKeyAuthentication
from clients.permissions import HasApiKey, RequiredScopes
from clients.throttling import ApiKeyRateThrottle, OrderCreateRateThrottle, RefundRateThrottle
from orders import selectors, services
from orders.errors import (
    BinanceRefused,
    BinanceUnavailable,
    DuplicateMerchantTradeNo,
    IdempotencyConflict,
    InvalidOrderState,
    OrderServiceError,
    RefundNotAllowed,
)
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
from paysvc.exceptions import ApiConflict, UpstreamError

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_LENGTH = 255


def raise_for_service_error(exc: OrderServiceError) -> None:
    """Translate a domain error into the API's one error shape (paysvc.exceptions)."""
    if isinstance(exc, RefundNotAllowed):
        raise ValidationError({exc.field: [exc.message]}) from exc
    if isinstance(exc, DuplicateMerchantTradeNo | IdempotencyConflict | InvalidOrderState):
        raise ApiConflict(exc.message) from exc
    if isinstance(exc, BinanceUnavailable):
        raise UpstreamError(
            exc.message,
            status_code=503 if exc.retry_after else 504 if exc.outcome_unknown else 502,
            outcome="unknown" if exc.outcome_unknown else "failed",
            retrying=exc.retrying,
            retry_after=exc.retry_after,
        ) from exc
    if isinstance(exc, BinanceRefused):
        raise UpstreamError(
            exc.message,
            status_code=502,
            outcome="failed",
            retrying=False,
            binance_code=exc.code,
        ) from exc
    raise exc


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
        parameters=[OrderListFilterSerializer],
        responses=OrderSerializer(many=True),
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
        request=CreateOrderSerializer,
        responses={201: OrderSerializer},
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                description="Same key and body: the first response is replayed. Same key, "
                "other body: 409.",
            )
        ],
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        if not key:
            status_code, body = self._create(request)
            return Response(body, status=status_code)
        if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            raise ValidationError(
                {IDEMPOTENCY_HEADER: [f"must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters"]}
            )
        try:
            status_code, body, replayed = idempotent_response(
                application=self.application(request),
                key=key,
                fingerprint=request_fingerprint(
                    method="POST", path=request.path, data=request.data
                ),
                compute=lambda: self._create(request),
            )
        except IdempotencyConflict as exc:
            raise ApiConflict(exc.message) from exc
        response = Response(body, status=status_code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def _create(self, request: Request) -> tuple[int, Any]:
        """(status, body) of one create; errors become their JSON error body, so that an
        idempotent replay gives the same answer."""
        from paysvc.exceptions import error_response_for

        try:
            serializer = CreateOrderSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            try:
                order = services.order_create(
                    application=self.application(request),
                    data=serializer.validated_data,
                    actor=self.actor(request),
                )
            except OrderServiceError as exc:
                raise_for_service_error(exc)
        except Exception as exc:  # an expected API error is part of the replayable answer
            handled = error_response_for(exc, {"view": self, "request": request})
            if handled is None:
                raise
            return handled.status_code, handled.data
        return http.HTTP_201_CREATED, OrderDetailSerializer(order).data


class OrderDetailApi(MerchantApi):
    required_scopes = {"GET": "orders:read"}

    @extend_schema(operation_id="orders_retrieve", responses=OrderDetailSerializer)
    def get(self, request: Request, merchant_trade_no: str) -> Response:
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        return Response(OrderDetailSerializer(order).data)


class OrderCloseApi(MerchantApi):
    required_scopes = {"POST": "orders:write"}

    @extend_schema(operation_id="orders_close", request=None, responses={202: OrderSerializer})
    def post(self, request: Request, merchant_trade_no: str) -> Response:
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        try:
            order = services.order_close(
                order=order, source=EventSource.API, actor=self.actor(request)
            )
        except OrderServiceError as exc:
            raise_for_service_error(exc)
        return Response(OrderSerializer(order).data, status=http.HTTP_202_ACCEPTED)


class OrderSyncApi(MerchantApi):
    required_scopes = {"POST": "orders:read"}

    @extend_schema(operation_id="orders_sync", request=None, responses=OrderDetailSerializer)
    def post(self, request: Request, merchant_trade_no: str) -> Response:
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        try:
            services.order_sync(order=order, source=EventSource.API, actor=self.actor(request))
        except OrderServiceError as exc:
            raise_for_service_error(exc)
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        return Response(OrderDetailSerializer(order).data)


class RefundCreateApi(MerchantApi):
    required_scopes = {"POST": "refunds:write"}
    throttle_classes = [ApiKeyRateThrottle, RefundRateThrottle]

    @extend_schema(
        operation_id="refunds_create",
        request=RefundRequestSerializer,
        responses={202: RefundSerializer},
    )
    def post(self, request: Request, merchant_trade_no: str) -> Response:
        order = selectors.order_get(
            application=self.application(request), merchant_trade_no=merchant_trade_no
        )
        serializer = RefundRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            refund = services.refund_create(
                order=order,
                refund_amount=data["refundAmount"],
                refund_reason=data.get("refundReason", ""),
                refund_request_id=data.get("refundRequestId"),
                source=EventSource.API,
                actor=self.actor(request),
            )
        except OrderServiceError as exc:
            raise_for_service_error(exc)
        return Response(RefundSerializer(refund).data, status=http.HTTP_202_ACCEPTED)


class RefundDetailApi(MerchantApi):
    required_scopes = {"GET": "orders:read"}

    @extend_schema(operation_id="refunds_retrieve", responses=RefundSerializer)
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
        request=AccountShareRequestSerializer,
        responses={201: AccountShareSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = AccountShareRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            share = services.account_share_create(
                application=self.application(request),
                customer_ref=data["customerRef"],
                request_id=data.get("requestId"),
            )
        except OrderServiceError as exc:
            raise_for_service_error(exc)
        return Response(AccountShareSerializer(share).data, status=http.HTTP_201_CREATED)


class AccountShareDetailApi(MerchantApi):
    required_scopes = {"GET": "account_shares:read"}

    @extend_schema(operation_id="account_shares_retrieve", responses=AccountShareSerializer)
    def get(self, request: Request, request_id: str) -> Response:
        share = selectors.account_share_get(
            application=self.application(request), request_id=request_id
        )
        return Response(AccountShareSerializer(share).data)
