"""Merchant API routes, mounted at /api/v1/ (each view lean: paysvc/lean.py)."""

from django.urls import path

from orders import apis
from paysvc import converters  # noqa: F401 - the <id:...> path converter
from paysvc.lean import lean

app_name = "orders"
urlpatterns = [
    path("orders", lean(apis.OrderListCreateApi.as_view()), name="order-list"),
    path("orders/<id:merchant_trade_no>", lean(apis.OrderDetailApi.as_view()), name="order-detail"),
    path(
        "orders/<id:merchant_trade_no>/close",
        lean(apis.OrderCloseApi.as_view()),
        name="order-close",
    ),
    path(
        "orders/<id:merchant_trade_no>/sync", lean(apis.OrderSyncApi.as_view()), name="order-sync"
    ),
    path(
        "orders/<id:merchant_trade_no>/refunds",
        lean(apis.RefundCreateApi.as_view()),
        name="refund-create",
    ),
    path(
        "orders/<id:merchant_trade_no>/refunds/<id:refund_request_id>",
        lean(apis.RefundDetailApi.as_view()),
        name="refund-detail",
    ),
    path("account-shares", lean(apis.AccountShareCreateApi.as_view()), name="account-share-create"),
    path(
        "account-shares/<id:request_id>",
        lean(apis.AccountShareDetailApi.as_view()),
        name="account-share-detail",
    ),
]
