"""Admin for merchant notifications: a read-only delivery log with a "redeliver" action.

The application's notification secret and the signatures are never shown.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from backoffice.dashboard import DashboardSection, register_dashboard_section
from backoffice.display import json_text
from backoffice.ledger import ReadOnlyAdminMixin
from backoffice.timeline import Contribution, TimelineEntry, admin_url, register_timeline_source
from notifications.models import Notification, NotificationAttempt
from notifications.selectors import notification_delivery_stats
from notifications.services import notification_redeliver


class NotificationAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = NotificationAttempt
    fields = (
        "attempted_at",
        "by",
        "status_code",
        "duration_ms",
        "error",
        "response_excerpt",
        "url",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "public_id",
        "event_type",
        "application",
        "reference",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "event_type", "application")
    list_select_related = ("application", "order", "account_share")
    search_fields = (
        "=public_id",
        "=order__merchant_trade_no",
        "=refund__refund_request_id",
        "=account_share__request_id",
    )
    date_hierarchy = "created_at"
    fields = (
        "public_id",
        "event_type",
        "status",
        "application",
        "order",
        "refund",
        "account_share",
        "url",
        "attempts",
        "next_attempt_at",
        "retry_started_at",
        "created_at",
        "delivered_at",
        "last_status_code",
        "last_error",
        "redelivery_requested_by",
        "payload_pretty",
    )
    readonly_fields = fields
    inlines = [NotificationAttemptInline]
    actions = ["redeliver"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return super().get_queryset(request).defer("payload")

    @admin.display(description="merchantTradeNo / requestId")
    def reference(self, obj: Notification) -> str:
        if obj.order is not None:
            return obj.order.merchant_trade_no
        return obj.account_share.request_id if obj.account_share is not None else ""

    @admin.display(description="payload")
    def payload_pretty(self, obj: Notification) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.redeliver_notification")

    @admin.action(
        description="Redeliver selected notifications (same event id, new retry window)",
        permissions=["redeliver"],
    )
    def redeliver(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = 0
        for notification in queryset:
            notification_redeliver(notification=notification, by_user=request.user)
            count += 1
        self.message_user(request, f"{count} notification(s) queued for redelivery.", messages.INFO)


# -- the order timeline ---------------------------------------------------------------------------
def order_callbacks(order: Any, site: str) -> Contribution:
    """The merchant callbacks about an order (and its refunds), with each delivery attempt."""
    entries, ids = [], []
    notifications = (
        Notification.objects.filter(Q(order=order) | Q(refund__order=order))
        .prefetch_related("attempt_log")
        .order_by("created_at", "id")
    )
    for notification in notifications:
        ids.append(notification.pk)
        link = admin_url("notifications_notification_change", notification.pk, site)
        entries.append(
            TimelineEntry(
                at=notification.created_at,
                kind="callback",
                title=f"merchant callback {notification.event_type} ({notification.public_id})",
                status=notification.status,
                link=link,
                blocks=(("payload", json_text(notification.payload)),),
                rank=(2, notification.pk),
            )
        )
        for attempt in notification.attempt_log.all():
            outcome = (
                f"HTTP {attempt.status_code}" if attempt.status_code is not None else attempt.error
            )
            entries.append(
                TimelineEntry(
                    at=attempt.attempted_at,
                    kind="callback_attempt",
                    title=f"callback {notification.event_type} delivery: {outcome} "
                    f"({attempt.duration_ms} ms)",
                    actor=attempt.by,
                    link=link,
                    blocks=(("answer", attempt.response_excerpt),)
                    if attempt.response_excerpt
                    else (),
                    rank=(3, attempt.pk),
                )
            )
    return Contribution(entries=entries, related=[(Notification, ids)])


register_timeline_source("order", order_callbacks)


register_dashboard_section(
    DashboardSection(
        key="callbacks",
        template="notifications/admin/dashboard.html",
        compute=lambda now: notification_delivery_stats(now=now),
        permission="notifications.view_notification",
        order=30,
    )
)
