"""Admin for refunds and account shares: read-only ledgers (refunds can be synced with Binance)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backoffice.filters import DateRangeFilter
from backoffice.ledger import ReadOnlyAdminMixin
from backoffice.templatetags.backoffice import badge
from orders.admin.actions import LIST_DEFERRED, SYNC_PERMISSION, staff_actor
from orders.admin.orders import money
from orders.errors import OrderServiceError
from orders.models import AccountShare, EventSource, Refund
from orders.services import refund_sync


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "refund_request_id", "order_link", "status_badge", "amount_display", "refunded_amount",
        "remaining_attempts", "requested_by", "created_at", "completed_at",
    )  # fmt: skip
    list_filter = ("status", ("created_at", DateRangeFilter))
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
        "order_link", "refund_request_id", "refund_id", "status", "refund_amount",
        "refunded_amount", "remaining_attempts", "refund_reason", "requested_by", "failure_code",
        "failure_message", "created_at", "updated_at", "completed_at", "last_reconcile",
    )  # fmt: skip
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Refund]:
        return super().get_queryset(request).defer(*(f"order__{name}" for name in LIST_DEFERRED))

    @admin.display(description="order", ordering="order__merchant_trade_no")
    def order_link(self, obj: Refund) -> SafeString:
        url = reverse(f"{self.admin_site.name}:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.merchant_trade_no)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Refund) -> SafeString:
        return badge(obj.status)

    @admin.display(description="amount", ordering="refund_amount")
    def amount_display(self, obj: Refund) -> SafeString | str:
        return money(obj.refund_amount, obj.order.currency)

    @admin.display(description="reconciliation")
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
    list_display = (
        "request_id", "customer_ref", "application", "status_badge", "user_binance_id",
        "created_at", "shared_at", "expire_time",
    )  # fmt: skip
    list_filter = ("status", "application")
    search_fields = (
        "request_id__exact", "customer_ref__exact", "user_binance_id__exact", "share_id__exact",
    )  # fmt: skip
    search_help_text = "Exact requestId, customerRef, Binance ID or shareId."
    list_select_related = ("application",)
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = (
        "request_id", "application", "customer_ref", "status", "share_id", "user_binance_id",
        "user_name", "qrcode_content", "qrcode_url", "expire_time", "failure_code",
        "failure_message", "created_at", "updated_at", "shared_at",
    )  # fmt: skip
    fields = readonly_fields

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: AccountShare) -> SafeString:
        return badge(obj.status)
