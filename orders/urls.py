"""Merchant API routes, mounted at /api/v1/."""

from django.urls import path, register_converter

from orders import apis


class IdConverter:
    """Ids in paths: 1..64 visible ASCII characters but "/" (every id paysvc issues or takes).

    Anything else (NUL, other controls, non-ASCII) is a 404 from the resolver; PostgreSQL could
    not even compare a NUL.
    """

    regex = "[!-.0-~]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IdConverter, "id")

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
