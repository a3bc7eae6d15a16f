"""Read-only admin for the webhook inbox (a ledger: nothing is added, edited or deleted here).

The raw body is shown pretty-printed on the event's page and never loaded by the list. Stored
headers are shown without the signature's value ("present (N chars)"). Staff with
``webhooks.reprocess_webhookevent`` (group Finance) can process waiting or failed events again
through the same service as ``manage.py webhooks_reprocess``. Labels, ids and times follow
backoffice.display's conventions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backoffice.dashboard import DashboardSection, register_dashboard_section
from backoffice.display import (
    field_shown,
    id_shown,
    json_text,
    moment_shown,
    pre_json,
    redacted_headers,
)
from backoffice.filters import StatusFilter
from backoffice.ledger import ReadOnlyAdminMixin
from backoffice.templatetags.backoffice import badge
from backoffice.timeline import Contribution, TimelineEntry, admin_url, register_timeline_source
from webhooks.models import WebhookEvent
from webhooks.selectors import webhook_backlog
from webhooks.services import webhook_event_reprocess

REPROCESS_PERMISSION = "webhooks.reprocess_webhookevent"
MAX_REPROCESS = 50


class WebhookEventChangeList(ChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        # The raw body is large and stays out of lists.
        return super().get_queryset(request, exclude_parameters).defer("body")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "received_at_moment",
        "biz_type",
        "biz_status",
        "merchant_trade_no_short",
        "status_badge",
        "verification",
        "attempts",
    )
    list_filter = (("status", StatusFilter), "biz_type", "biz_status", "verification")
    search_fields = ("merchant_trade_no__exact", "biz_id_str__exact", "dedupe_key__exact")
    search_help_text = "Exact merchantTradeNo, bizIdStr (prepayId / shareId) or dedupe key."
    date_hierarchy = "received_at"
    list_per_page = 50
    show_full_result_count = False
    actions = ("reprocess",)
    fields = (
        "received_at",
        "biz_type",
        "biz_status",
        "biz_id_str_shown",
        "order_link",
        "dedupe_key",
        "verification",
        "cert_serial",
        "headers_shown",
        "status_badge",
        "attempts",
        "last_error",
        "processed_at",
        "next_attempt_at",
        "body_pretty",
    )
    readonly_fields = fields

    received_at_moment = moment_shown("received_at", "Received at")
    merchant_trade_no_short = id_shown("merchant_trade_no", "Merchant trade no")
    biz_id_str_shown = field_shown("biz_id_str", "Biz ID str")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return WebhookEventChangeList

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: WebhookEvent) -> SafeString:
        return badge(obj.status, title=obj.get_status_display())

    @admin.display(description="Merchant trade no")
    def order_link(self, obj: WebhookEvent) -> SafeString | str:
        if not obj.merchant_trade_no:
            return "-"
        url = reverse(f"{self.admin_site.name}:orders_order_changelist")
        return format_html(
            '<a href="{}?q={}">{}</a>', url, obj.merchant_trade_no, obj.merchant_trade_no
        )

    @admin.display(description="Headers (signature hidden)")
    def headers_shown(self, obj: WebhookEvent) -> SafeString:
        return pre_json(redacted_headers(obj.headers))

    @admin.display(description="Body (as received, pretty-printed)")
    def body_pretty(self, obj: WebhookEvent) -> SafeString:
        return pre_json(bytes(obj.body))

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REPROCESS_PERMISSION)

    @admin.action(description="Reprocess selected events now", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        events = list(queryset.defer("body")[: MAX_REPROCESS + 1])
        if len(events) > MAX_REPROCESS:
            self.message_user(request, f"Select at most {MAX_REPROCESS} events.", messages.ERROR)
            return
        for event in events:
            outcome = webhook_event_reprocess(event_id=event.pk)
            result = outcome or "already final, left as it is"
            self.log_change(request, event, f"Reprocessed: {result}")
            level = messages.ERROR if outcome == "failed" else messages.INFO
            self.message_user(request, f"Event {event.pk} ({event}): {result}", level)


# -- the order timeline ---------------------------------------------------------------------------
def order_webhooks(order: Any, site: str) -> Contribution:
    """The Binance notifications about an order: by merchantTradeNo, and by prepayId, which PAY
    and PAY_REFUND notifications carry as bizId (docs/binance-pay.md#biztype-and-bizstatus)."""
    match = Q(merchant_trade_no=order.merchant_trade_no)
    if order.prepay_id:
        match |= Q(biz_id_str=order.prepay_id)
    entries, ids = [], []
    for event in WebhookEvent.objects.filter(match).order_by("received_at", "id"):
        ids.append(event.pk)
        title = f"webhook {event.biz_type}/{event.biz_status} received"
        if event.last_error:
            title += f": {event.last_error[:200]}"
        entries.append(
            TimelineEntry(
                at=event.received_at,
                kind="webhook",
                title=title,
                source="binance",
                status=event.status,
                link=admin_url("webhooks_webhookevent_change", event.pk, site),
                blocks=(("body", json_text(bytes(event.body))),),
                rank=(1, event.pk),
            )
        )
    return Contribution(entries=entries, related=[(WebhookEvent, ids)])


register_timeline_source("order", order_webhooks)


register_dashboard_section(
    DashboardSection(
        key="webhooks",
        template="webhooks/admin/dashboard.html",
        compute=lambda now: webhook_backlog(),
        permission="webhooks.view_webhookevent",
        order=20,
    )
)
