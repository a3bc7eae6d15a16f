"""Admin for refunds and account shares: read-only ledgers (refunds can be synced with Binance).

Labels, amounts, ids and times follow backoffice.display's conventions.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backoffice.display import (
    amount_shown,
    field_shown,
    id_shown,
    long_shown,
    moment_shown,
    short_id,
)
from backoffice.filters import DateRangeFilter, StatusFilter
from backoffice.ledger import ReadOnlyAdminMixin
from backoffice.templatetags.backoffice import badge
from orders.admin.actions import LIST_DEFERRED, SYNC_PERMISSION, staff_actor
from orders.errors import OrderServiceError
from orders.models import AccountShare, EventSource, Refund
from orders.services import refund_sync


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Fits 1280 px: the attempts left and the completion time are on the refund's page.
    list_display = (
        "refund_request_id_short", "order_short", "status_badge", "refund_amount_shown",
        "refunded_amount_shown", "requested_by", "created_at_moment",
    )  # fmt: skip
    list_filter = (("status", StatusFilter), ("created_at", DateRangeFilter))
    search_fields = (
        "refund_request_id__exact",
        "refund_id__exact",
        "order__merchant_trade_no__exact",
    )
    search_help_text = "Exact refundRequestId, refundId or the order's merchantTradeNo."
    list_select_related = ("order",)
    list_per_page = 50
    show_full_result_count = False
    date_hierarchy = "created_at"
    actions = ("sync_refund",)
    readonly_fields = (
        "order_link", "refund_request_id_shown", "refund_id_shown", "status_badge",
        "refund_amount_shown", "refunded_amount_shown", "remaining_attempts", "refund_reason",
        "requested_by", "failure_code", "failure_message", "created_at", "updated_at",
        "completed_at", "last_reconcile",
    )  # fmt: skip
    fields = readonly_fields

    refund_request_id_short = id_shown("refund_request_id", "Refund request ID")
    refund_request_id_shown = field_shown("refund_request_id", "Refund request ID")
    refund_id_shown = field_shown("refund_id", "Refund ID")
    refund_amount_shown = amount_shown("refund_amount", "Refund amount", currency="order.currency")
    refunded_amount_shown = amount_shown(
        "refunded_amount", "Refunded amount", currency="order.currency"
    )
    created_at_moment = moment_shown("created_at", "Created at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Refund]:
        return super().get_queryset(request).defer(*(f"order__{name}" for name in LIST_DEFERRED))

    def _order_url(self, obj: Refund) -> str:
        return reverse(f"{self.admin_site.name}:orders_order_change", args=[obj.order_id])

    @admin.display(description="Order", ordering="order__merchant_trade_no")
    def order_link(self, obj: Refund) -> SafeString:
        return format_html('<a href="{}">{}</a>', self._order_url(obj), obj.order.merchant_trade_no)

    @admin.display(description="Order", ordering="order__merchant_trade_no")
    def order_short(self, obj: Refund) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>', self._order_url(obj), short_id(obj.order.merchant_trade_no)
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Refund) -> SafeString:
        return badge(obj.status, title=obj.get_status_display())

    @admin.display(description="Reconciliation")
    def last_reconcile(self, obj: Refund) -> str:
        return f"{obj.reconcile_attempts} queries; next {obj.next_reconcile_at or '-'}"

    def has_sync_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SYNC_PERMISSION)

    @admin.action(description="Sync with Binance (Query Refund)", permissions=["sync"])
    def sync_refund(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        for refund in queryset.select_related("order")[:50]:
            try:
                refund_sync(refund=refund, source=EventSource.STAFF, actor=staff_actor(request))
            except OrderServiceError as exc:
                self.message_user(
                    request, f"{refund.refund_request_id}: {exc.message}", messages.ERROR
                )
                continue
            self.log_change(request, refund, "Synced with Binance")
        self.message_user(request, "Refunds synced with Binance.", messages.INFO)


@admin.register(AccountShare)
class AccountShareAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Fits 1280 px: ids cut to their start (whole in the tooltip), times on one line; the expiry
    # is on the share's page.
    list_display = (
        "request_id_short", "customer_ref_short", "application", "status_badge",
        "user_binance_id_shown", "created_at_moment", "shared_at_moment",
    )  # fmt: skip
    list_filter = (("status", StatusFilter), "application")
    search_fields = (
        "request_id__exact", "customer_ref__exact", "user_binance_id__exact", "share_id__exact",
    )  # fmt: skip
    search_help_text = "Exact requestId, customerRef, Binance ID or shareId."
    list_select_related = ("application",)
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = (
        "request_id_shown", "application", "customer_ref", "status_badge", "share_id_shown",
        "user_binance_id_shown", "user_name", "qrcode_content_shown", "qrcode_url_shown",
        "expire_time", "failure_code", "failure_message", "created_at", "updated_at", "shared_at",
    )  # fmt: skip
    fields = readonly_fields

    request_id_short = id_shown("request_id", "Request ID")
    customer_ref_short = id_shown("customer_ref", "Customer ref")
    request_id_shown = field_shown("request_id", "Request ID")
    share_id_shown = field_shown("share_id", "Share ID")
    # The merchant API's binanceId.
    user_binance_id_shown = field_shown("user_binance_id", "Binance ID")
    qrcode_content_shown = long_shown("qrcode_content", "QR code content")
    qrcode_url_shown = long_shown("qrcode_url", "QR code URL", link=True)
    created_at_moment = moment_shown("created_at", "Created at")
    shared_at_moment = moment_shown("shared_at", "Shared at")

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: AccountShare) -> SafeString:
        return badge(obj.status, title=obj.get_status_display())
