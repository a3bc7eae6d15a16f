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

from backoffice.display import (
    amount_shown,
    field_shown,
    id_shown,
    long_shown,
    moment_shown,
    money,
    pre_json,
)
from backoffice.filters import DateRangeFilter, StatusFilter
from backoffice.ledger import ReadOnlyAdminMixin
from backoffice.paginator import EstimatedCountPaginator
from backoffice.templatetags.backoffice import badge
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
from orders.selectors import order_closable, refund_allowance


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The order's refunds (labels and amounts as on the refund's own page)."""

    model = Refund
    fields = (
        "refund_request_id_short", "status_badge", "refund_amount_shown",
        "refunded_amount_shown", "remaining_attempts", "refund_reason", "requested_by",
        "failure_code", "created_at_moment", "completed_at_moment",
    )  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    refund_request_id_short = id_shown("refund_request_id", "Refund request ID")
    refund_amount_shown = amount_shown("refund_amount", "Refund amount", currency="order.currency")
    refunded_amount_shown = amount_shown(
        "refunded_amount", "Refunded amount", currency="order.currency"
    )
    created_at_moment = moment_shown("created_at", "Created at")
    completed_at_moment = moment_shown("completed_at", "Completed at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Refund]:
        return (
            super()
            .get_queryset(request)
            .select_related("order")
            .only(*(f.attname for f in Refund._meta.concrete_fields), "order__currency")
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Refund) -> SafeString:
        return badge(obj.status, title=obj.get_status_display())


@admin.register(Order)
class OrderAdmin(OrderActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    # Labels and amounts: the conventions of backoffice.display.
    list_display = (
        "merchant_trade_no_short", "status_badge", "amount_display", "customer_ref_short",
        "application", "created_at_moment", "paid_at_moment", "flag",
    )  # fmt: skip
    list_filter = (
        ("status", StatusFilter),
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
            "merchant_trade_no", "status_badge", "create_state", "api_version_shown", "application",
            "customer_ref",
            "flagged", "flag_reason", "created_at", "paid_at", "expire_time", "updated_at",
        )}),
        ("Amounts", {"fields": (
            "amount_display", "fiat_display", "total_fee_shown", "commission_shown",
            "refund_summary",
        )}),
        ("Goods", {"fields": ("description", "goods_json", "goods_details_json")}),
        ("Environment", {"fields": ("terminal_type", "env_json")}),
        ("Shipping", {"fields": ("shipping_json",), "classes": ("collapse",)}),
        ("Buyer", {"fields": ("buyer_json",), "classes": ("collapse",)}),
        ("Checkout links", {"fields": (
            "checkout_url_shown", "qr_code", "qr_content_shown", "qrcode_link_shown",
            "deeplink_shown", "universal_url_shown", "return_url_shown", "cancel_url_shown",
            "notify_url_shown",
        )}),
        ("Binance", {"fields": (
            "prepay_id_shown", "transaction_id_shown", "open_user_id_shown", "payment_info_json",
            "failure_code", "failure_message",
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
    merchant_trade_no_short = id_shown("merchant_trade_no", "Merchant trade no")
    customer_ref_short = id_shown("customer_ref", "Customer ref")
    created_at_moment = moment_shown("created_at", "Created at")
    paid_at_moment = moment_shown("paid_at", "Paid at")

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Order) -> SafeString:
        return badge(obj.status)

    @admin.display(description="Amount")
    def amount_display(self, obj: Order) -> SafeString | str:
        crypto = obj.paid_amount
        shown = money(crypto, obj.currency) if crypto is not None else ""
        if obj.fiat_currency:
            fiat = money(obj.fiat_amount, obj.fiat_currency)
            return format_html("{} <span class='bo-muted'>({})</span>", shown or "…", fiat)
        return shown or "-"

    @admin.display(description="Flag")
    def flag(self, obj: Order) -> SafeString | str:
        if not obj.flagged:
            return ""
        return format_html('<span class="bo-flag" title="{}">⚑</span>', obj.flag_reason)

    # -- order page -------------------------------------------------------------------------------
    total_fee_shown = amount_shown("total_fee", "Total fee", currency="currency")
    commission_shown = amount_shown("commission", "Commission", currency="currency")
    checkout_url_shown = long_shown("checkout_url", "Checkout URL", link=True)
    qr_content_shown = long_shown("qr_content", "QR content")
    qrcode_link_shown = long_shown("qrcode_link", "QR code link", link=True)
    deeplink_shown = long_shown("deeplink", "Deeplink")
    universal_url_shown = long_shown("universal_url", "Universal URL", link=True)
    return_url_shown = long_shown("return_url", "Return URL", link=True)
    cancel_url_shown = long_shown("cancel_url", "Cancel URL", link=True)
    notify_url_shown = long_shown("notify_url", "Notify URL", link=True)
    prepay_id_shown = field_shown("prepay_id", "Prepay ID")
    transaction_id_shown = field_shown("transaction_id", "Transaction ID")
    open_user_id_shown = field_shown("open_user_id", "Open user ID")

    @admin.display(description="Fiat amount")
    def fiat_display(self, obj: Order) -> SafeString | str:
        return money(obj.fiat_amount, obj.fiat_currency) if obj.fiat_currency else "-"

    @admin.display(description="Refunds")
    def refund_summary(self, obj: Order) -> SafeString:
        allowance = refund_allowance(obj)
        return format_html(
            "{} refund(s); remaining refundable {}",
            allowance.attempts_used,
            money(allowance.remaining, obj.currency),
        )

    @admin.display(description="Goods")
    def goods_json(self, obj: Order) -> SafeString:
        return pre_json(obj.goods)

    @admin.display(description="Create Order version")
    def api_version_shown(self, obj: Order) -> str:
        return obj.api_version

    @admin.display(description="Goods details (v3)")
    def goods_details_json(self, obj: Order) -> SafeString:
        return pre_json(obj.goods_details)

    @admin.display(description="Env")
    def env_json(self, obj: Order) -> SafeString:
        return pre_json(obj.env)

    @admin.display(description="Shipping")
    def shipping_json(self, obj: Order) -> SafeString:
        return pre_json(obj.shipping)

    @admin.display(description="Buyer")
    def buyer_json(self, obj: Order) -> SafeString:
        return pre_json(obj.buyer)

    @admin.display(description="Payment info")
    def payment_info_json(self, obj: Order) -> SafeString:
        return pre_json(obj.payment_info)

    @admin.display(description="Request body")
    def request_payload_json(self, obj: Order) -> SafeString:
        return pre_json(obj.request_payload)

    @admin.display(description="Other v2 fields")
    def extra_json(self, obj: Order) -> SafeString:
        return pre_json(obj.extra)

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
            # An action is offered when the user may take it and the order allows it (sync
            # always: it only reads Binance); the views refuse the others all the same.
            extra_context.update(
                timeline=order_timeline(order=order, site=self.admin_site.name),
                can_sync=self.has_sync_permission(request),
                can_close=self.has_close_permission(request) and order_closable(order),
                can_refund=self.has_refund_permission(request)
                and refund_allowance(order).refundable_now,
                sync_url=self._url("sync", order.pk),
                close_url=self._url("close", order.pk),
                refund_url=self._url("refund", order.pk),
            )
        return super().change_view(request, object_id, form_url, extra_context)
