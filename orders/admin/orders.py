"""Admin for orders: a read-only ledger with staff actions.

Nothing financial is editable here: no add, change or delete, for superusers too. Staff act on
orders through actions that call `orders.services` (orders.admin.actions), with permissions
`orders.sync_order`, `orders.close_order` and `orders.refund_order` (roles: backoffice
migration). The changelist stays cheap on a big table: no full COUNT(*) (estimated when
unfiltered), big JSON columns deferred, the application joined, exact-match search on indexed
ids (orders.admin.search).
"""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from backoffice.display import pre_json
from backoffice.filters import DateRangeFilter
from backoffice.ledger import ReadOnlyAdminMixin
from backoffice.paginator import EstimatedCountPaginator
from backoffice.templatetags.backoffice import amount, badge
from orders.admin.actions import OrderActionsMixin
from orders.admin.filters import (
    CurrencyFilter,
    FiatOrCryptoFilter,
    PaidByPollingFilter,
    TerminalTypeFilter,
)
from orders.admin.search import order_search
from orders.admin.timeline import order_timeline
from orders.models import Order, Refund
from orders.selectors import refund_allowance


def _link(url: str) -> SafeString | str:
    """A clickable link for http(s) URLs only (a stored URL is never trusted as a scheme)."""
    if url.startswith(("https://", "http://")):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', url, url
        )
    return url or "-"


def money(value: Any, currency: str) -> SafeString | str:
    if value is None:
        return "-"
    return format_html('<span class="bo-amount">{} {}</span>', amount(value), currency)


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Refund
    fields = (
        "refund_request_id", "status", "refund_amount", "refunded_amount", "remaining_attempts",
        "refund_reason", "requested_by", "failure_code", "created_at", "completed_at",
    )  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Order)
class OrderAdmin(OrderActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "merchant_trade_no", "status_badge", "amount_display", "customer_ref", "application",
        "created_at", "paid_at", "flag",
    )  # fmt: skip
    list_filter = (
        "status",
        CurrencyFilter,
        FiatOrCryptoFilter,
        TerminalTypeFilter,
        ("created_at", DateRangeFilter),
        ("paid_at", DateRangeFilter),
        "flagged",
        PaidByPollingFilter,
    )
    # The search itself is orders.admin.search.order_search (exact ids, Binance ID by subquery).
    search_fields = ("merchant_trade_no",)
    search_help_text = (
        "Exact merchantTradeNo, prepayId, transactionId, customerRef, openUserId or Binance ID."
    )
    date_hierarchy = "created_at"
    list_select_related = ("application",)
    list_per_page = 50
    show_full_result_count = False
    # "Show counts" would aggregate every filter's choices over the whole table.
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    ordering = ("-created_at", "-id")
    actions = ("sync_with_binance", "close_at_binance", "refund")
    inlines = (RefundInline,)
    change_form_template = "orders/admin/change_form.html"
    change_list_template = "orders/admin/change_list.html"
    fieldsets = (
        (None, {"fields": (
            "merchant_trade_no", "status_badge", "create_state", "api_version", "application",
            "customer_ref",
            "flagged", "flag_reason", "created_at", "paid_at", "expire_time", "updated_at",
        )}),
        ("Amounts", {"fields": (
            "amount_display", "fiat_display", "total_fee", "commission", "refund_summary",
        )}),
        ("Goods", {"fields": ("description", "goods_json", "goods_details_json")}),
        ("Environment", {"fields": ("terminal_type", "env_json")}),
        ("Shipping", {"fields": ("shipping_json",), "classes": ("collapse",)}),
        ("Buyer", {"fields": ("buyer_json",), "classes": ("collapse",)}),
        ("Checkout links", {"fields": (
            "checkout_link", "qr_code", "qr_content", "qrcode_link_display", "deeplink",
            "universal_url_display", "return_url", "cancel_url", "notify_url",
        )}),
        ("Binance", {"fields": (
            "prepay_id", "transaction_id", "open_user_id", "payment_info_json", "failure_code",
            "failure_message",
        )}),
        ("Reconciliation", {"fields": (
            "last_synced_at", "next_reconcile_at", "reconcile_attempts",
        ), "classes": ("collapse",)}),
        ("Request sent to Binance", {"fields": ("request_payload_json", "extra_json"),
                                     "classes": ("collapse",)}),
    )  # fmt: skip
    readonly_fields = tuple(name for _title, options in fieldsets for name in options["fields"])

    # -- queries ----------------------------------------------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return super().get_queryset(request).select_related("application")

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        """Read once per request (the order page's timeline and Django's view both need it)."""
        memo = request.__dict__.setdefault("_bo_orders", {})
        if (object_id, from_field) not in memo:
            memo[object_id, from_field] = super().get_object(request, object_id, from_field)
        return memo[object_id, from_field]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        return order_search(queryset, search_term), False

    # -- columns ----------------------------------------------------------------------------------
    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Order) -> SafeString:
        return badge(obj.status)

    @admin.display(description="amount")
    def amount_display(self, obj: Order) -> SafeString | str:
        crypto = obj.paid_amount
        shown = money(crypto, obj.currency) if crypto is not None else ""
        if obj.fiat_currency:
            fiat = money(obj.fiat_amount, obj.fiat_currency)
            return format_html("{} <span class='bo-muted'>({})</span>", shown or "…", fiat)
        return shown or "-"

    @admin.display(description="flag", boolean=False)
    def flag(self, obj: Order) -> SafeString | str:
        if not obj.flagged:
            return ""
        return format_html('<span class="bo-flag" title="{}">⚑</span>', obj.flag_reason)

    # -- order page -------------------------------------------------------------------------------
    @admin.display(description="fiat")
    def fiat_display(self, obj: Order) -> SafeString | str:
        return money(obj.fiat_amount, obj.fiat_currency) if obj.fiat_currency else "-"

    @admin.display(description="refunds")
    def refund_summary(self, obj: Order) -> str:
        allowance = refund_allowance(obj)
        return (
            f"{allowance.attempts_used} refund(s); remaining refundable "
            f"{amount(allowance.remaining)} {obj.currency}"
        )

    @admin.display(description="goods")
    def goods_json(self, obj: Order) -> SafeString:
        return pre_json(obj.goods)

    @admin.display(description="goodsDetails (v3)")
    def goods_details_json(self, obj: Order) -> SafeString:
        return pre_json(obj.goods_details)

    @admin.display(description="env")
    def env_json(self, obj: Order) -> SafeString:
        return pre_json(obj.env)

    @admin.display(description="shipping")
    def shipping_json(self, obj: Order) -> SafeString:
        return pre_json(obj.shipping)

    @admin.display(description="buyer")
    def buyer_json(self, obj: Order) -> SafeString:
        return pre_json(obj.buyer)

    @admin.display(description="paymentInfo")
    def payment_info_json(self, obj: Order) -> SafeString:
        return pre_json(obj.payment_info)

    @admin.display(description="request body")
    def request_payload_json(self, obj: Order) -> SafeString:
        return pre_json(obj.request_payload)

    @admin.display(description="other v2 fields")
    def extra_json(self, obj: Order) -> SafeString:
        return pre_json(obj.extra)

    @admin.display(description="checkoutUrl")
    def checkout_link(self, obj: Order) -> SafeString | str:
        return _link(obj.checkout_url)

    @admin.display(description="qrcodeLink")
    def qrcode_link_display(self, obj: Order) -> SafeString | str:
        return _link(obj.qrcode_link)

    @admin.display(description="universalUrl")
    def universal_url_display(self, obj: Order) -> SafeString | str:
        return _link(obj.universal_url)

    @admin.display(description="QR code")
    def qr_code(self, obj: Order) -> SafeString | str:
        content = obj.qr_content or obj.checkout_url
        if not content:
            return "-"
        svg = segno.make(content, error="m").svg_inline(scale=3, border=2)
        # segno draws the data as paths: no text of ours reaches the markup.
        return format_html('<div class="bo-qr">{}</div>', mark_safe(svg))  # noqa: S308  # nosec B308 B703

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        extra_context = dict(extra_context or {})
        order = self.get_object(request, object_id)
        if order is not None and self.has_view_permission(request, order):
            extra_context.update(
                timeline=order_timeline(order=order, site=self.admin_site.name),
                can_sync=self.has_sync_permission(request),
                can_close=self.has_close_permission(request),
                can_refund=self.has_refund_permission(request),
                sync_url=self._url("sync", order.pk),
                close_url=self._url("close", order.pk),
                refund_url=self._url("refund", order.pk),
            )
        return super().change_view(request, object_id, form_url, extra_context)
