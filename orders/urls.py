"""Merchant API routes, mounted at /api/v1/."""

from django.urls import path

from orders import apis
from paysvc import converters  # noqa: F401 - the <id:...> path converter

app_name = "orders"
urlpatterns = [
    path("orders", apis.OrderListCreateApi.as_view(), name="order-list"),
    path("orders/<id:merchant_trade_no>", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<id:merchant_trade_no>/close", apis.OrderCloseApi.as_view(), name="order-close"),
    path("orders/<id:merchant_trade_no>/sync", apis.OrderSyncApi.as_view(), name="order-sync"),
    path(
        "orders/<id:merchant_trade_no>/refunds",
        apis.RefundCreateApi.as_view(),
        name="refund-create",
    ),
    path(
        "orders/<id:merchant_trade_no>/refunds/<id:refund_request_id>",
        apis.RefundDetailApi.as_view(),
        name="refund-detail",
    ),
    path("account-shares", apis.AccountShareCreateApi.as_view(), name="account-share-create"),
    path(
        "account-shares/<id:request_id>",
        apis.AccountShareDetailApi.as_view(),
        name="account-share-detail",
    ),
]
