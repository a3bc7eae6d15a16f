"""Admin for merchant notifications: a read-only delivery log with a "redeliver" action.

The application's notification secret and the signatures are never shown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backoffice.dashboard import DashboardSection, register_dashboard_section
from backoffice.display import json_text, pre_json
from backoffice.ledger import ReadOnlyAdminMixin
from backoffice.templatetags.backoffice import badge
from backoffice.timeline import Contribution, TimelineEntry, admin_url, register_timeline_source
from notifications.models import Event, Notification, NotificationAttempt, WebhookEndpoint
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
    """One delivery of one event to one destination, with its attempts."""

    list_display = (
        "public_id",
        "event_link",
        "type_shown",
        "destination",
        "status_badge",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "event__event_type", "event__application")
    list_select_related = ("event", "endpoint")
    search_fields = ("=public_id", "=event__public_id", "=endpoint__public_id")
    search_help_text = "Exact delivery id (dlv_...), event id (evt_...) or endpoint id (we_...)."
    date_hierarchy = "created_at"
    fields = (
        "public_id",
        "event_link",
        "type_shown",
        "status",
        "destination",
        "url",
        "attempts",
        "next_attempt_at",
        "retry_started_at",
        "delivered_at",
        "last_status_code",
        "last_error",
        "redelivery_requested_by",
        "created_at",
    )
    readonly_fields = fields
    inlines = [NotificationAttemptInline]
    actions = ["redeliver"]

    @admin.display(description="event")
    def event_link(self, obj: Notification) -> SafeString:
        url = admin_url("notifications_event_change", obj.event_id, self.admin_site.name)
        return format_html('<a href="{}">{}</a>', url, obj.event.public_id)

    @admin.display(description="type", ordering="event__event_type")
    def type_shown(self, obj: Notification) -> str:
        return obj.event.event_type

    @admin.display(description="destination")
    def destination(self, obj: Notification) -> str:
        if obj.endpoint_id is None:
            return "notifyUrl / default URL"
        return f"endpoint {obj.endpoint.public_id}"

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Notification) -> SafeString:
        return badge(obj.status)

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.redeliver_notification")

    @admin.action(
        description="Redeliver selected deliveries (same event id, new retry window)",
        permissions=["redeliver"],
    )
    def redeliver(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = 0
        for notification in queryset:
            notification_redeliver(notification=notification, by_user=request.user)
            count += 1
        self.message_user(request, f"{count} delivery(ies) queued for redelivery.", messages.INFO)


class DeliveryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Notification
    fields = ("public_id", "endpoint", "url", "status", "attempts", "last_status_code")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every event emitted, as sent, with its deliveries."""

    list_display = (
        "public_id",
        "event_type",
        "application",
        "reference",
        "delivery_badge",
        "created_at",
    )
    list_filter = ("event_type", "delivery_status", "application")
    list_select_related = ("application",)
    search_fields = (
        "=public_id",
        "=order__merchant_trade_no",
        "=refund__refund_request_id",
        "=account_share__request_id",
    )
    search_help_text = "Exact event id, merchantTradeNo, refundRequestId or share requestId."
    date_hierarchy = "created_at"
    fields = (
        "public_id",
        "event_type",
        "application",
        "delivery_status",
        "order",
        "refund",
        "account_share",
        "created_at",
        "payload_pretty",
    )
    readonly_fields = fields
    inlines = [DeliveryInline]
    show_full_result_count = False

    @admin.display(description="merchantTradeNo / requestId")
    def reference(self, obj: Event) -> str:
        data = obj.payload.get("data") or {}
        return str(data.get("merchantTradeNo") or data.get("requestId") or "")

    @admin.display(description="delivery", ordering="delivery_status")
    def delivery_badge(self, obj: Event) -> SafeString:
        return badge(obj.delivery_status)

    @admin.display(description="payload (exactly as sent)")
    def payload_pretty(self, obj: Event) -> SafeString:
        return pre_json(obj.payload)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Merchants manage their endpoints through the API; staff see them (never the secrets)."""

    list_display = ("public_id", "application", "url", "events_shown", "enabled", "deleted_at")
    list_filter = ("enabled", "application")
    search_fields = ("=public_id", "url")
    fields = (
        "public_id",
        "application",
        "url",
        "description",
        "events_shown",
        "enabled",
        "rotation",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    readonly_fields = fields

    @admin.display(description="event types")
    def events_shown(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types)

    @admin.display(description="secret rotation")
    def rotation(self, obj: WebhookEndpoint) -> str:
        if obj.previous_secret and obj.previous_secret_expires_at:
            until = obj.previous_secret_expires_at
            return f"the previous secret signs too until {until:%Y-%m-%d %H:%M} UTC"
        return "one secret"


# -- the order timeline ---------------------------------------------------------------------------
def order_callbacks(order: Any, site: str) -> Contribution:
    """The merchant events about an order (and its refunds), each delivery attempt under it."""
    entries, event_ids, delivery_ids = [], [], []
    events = (
        Event.objects.filter(Q(order=order) | Q(refund__order=order))
        .prefetch_related("deliveries__attempt_log", "deliveries__endpoint")
        .order_by("created_at", "id")
    )
    for event in events:
        event_ids.append(event.pk)
        link = admin_url("notifications_event_change", event.pk, site)
        entries.append(
            TimelineEntry(
                at=event.created_at,
                kind="callback",
                title=f"merchant event {event.event_type} ({event.public_id})",
                status=event.delivery_status,
                link=link,
                blocks=(("payload", json_text(event.payload)),),
                rank=(2, event.pk),
            )
        )
        for delivery in event.deliveries.all():
            delivery_ids.append(delivery.pk)
            where = f"endpoint {delivery.endpoint.public_id}" if delivery.endpoint else "notifyUrl"
            for attempt in delivery.attempt_log.all():
                outcome = (
                    f"HTTP {attempt.status_code}"
                    if attempt.status_code is not None
                    else attempt.error
                )
                entries.append(
                    TimelineEntry(
                        at=attempt.attempted_at,
                        kind="callback_attempt",
                        title=f"{event.event_type} to {where}: {outcome} "
                        f"({attempt.duration_ms} ms)",
                        actor=attempt.by,
                        link=admin_url("notifications_notification_change", delivery.pk, site),
                        blocks=(("answer", attempt.response_excerpt),)
                        if attempt.response_excerpt
                        else (),
                        rank=(3, attempt.pk),
                    )
                )
    return Contribution(entries=entries, related=[(Event, event_ids), (Notification, delivery_ids)])


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
