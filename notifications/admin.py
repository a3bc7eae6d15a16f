"""Admin for merchant notifications: a read-only delivery log with a "redeliver" action.

The application's notification secret and the signatures are never shown. Labels, ids, long
values and times follow backoffice.display's conventions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backoffice.dashboard import DashboardSection, register_dashboard_section
from backoffice.display import (
    field_shown,
    id_shown,
    json_text,
    long_shown,
    moment_shown,
    pre_json,
    short_id,
)
from backoffice.filters import StatusFilter
from backoffice.ledger import ReadOnlyAdminMixin
from backoffice.templatetags.backoffice import badge
from backoffice.timeline import Contribution, TimelineEntry, admin_url, register_timeline_source
from notifications.models import Event, Notification, NotificationAttempt, WebhookEndpoint
from notifications.selectors import notification_delivery_stats
from notifications.services import notification_redeliver


class NotificationAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = NotificationAttempt
    fields = (
        "attempted_at_moment",
        "by",
        "status_code",
        "duration_ms_shown",
        "error",
        "response_excerpt_shown",
        "url_shown",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    attempted_at_moment = moment_shown("attempted_at", "Attempted at")
    response_excerpt_shown = long_shown("response_excerpt", "Response excerpt")
    url_shown = long_shown("url", "URL", link=True)

    @admin.display(description="Duration (ms)")
    def duration_ms_shown(self, obj: NotificationAttempt) -> int:
        return obj.duration_ms


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """One delivery of one event to one destination, with its attempts."""

    # Fits 1280 px: the event's column is its type, linked to it (its id in the tooltip); the
    # creation time is on the delivery's page (the dates above the list select by it).
    list_display = (
        "public_id_short",
        "event_type_link",
        "destination",
        "status_badge",
        "attempts",
        "last_status_code",
        "next_attempt_at_moment",
        "delivered_at_moment",
    )
    list_filter = (("status", StatusFilter), "event__event_type", "event__application")
    list_select_related = ("event", "endpoint")
    search_fields = ("=public_id", "=event__public_id", "=endpoint__public_id")
    search_help_text = "Exact delivery id (dlv_...), event id (evt_...) or endpoint id (we_...)."
    date_hierarchy = "created_at"
    fields = (
        "public_id_shown",
        "event_link",
        "type_shown",
        "status_badge",
        "destination",
        "url_shown",
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

    public_id_short = id_shown("public_id", "Delivery ID")
    public_id_shown = field_shown("public_id", "Delivery ID")
    url_shown = long_shown("url", "URL", link=True)
    next_attempt_at_moment = moment_shown("next_attempt_at", "Next attempt at")
    delivered_at_moment = moment_shown("delivered_at", "Delivered at")

    def _event_url(self, obj: Notification) -> str:
        return admin_url("notifications_event_change", obj.event_id, self.admin_site.name)

    @admin.display(description="Event")
    def event_link(self, obj: Notification) -> SafeString:
        return format_html('<a href="{}">{}</a>', self._event_url(obj), obj.event.public_id)

    @admin.display(description="Event", ordering="event__event_type")
    def event_type_link(self, obj: Notification) -> SafeString:
        return format_html(
            '<a href="{}" title="{}">{}</a>',
            self._event_url(obj),
            obj.event.public_id,
            obj.event.event_type,
        )

    @admin.display(description="Type", ordering="event__event_type")
    def type_shown(self, obj: Notification) -> str:
        return obj.event.event_type

    @admin.display(description="Destination")
    def destination(self, obj: Notification) -> SafeString | str:
        if obj.endpoint_id is None:
            return "notifyUrl / default URL"
        return format_html("endpoint {}", short_id(obj.endpoint.public_id))

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Notification) -> SafeString:
        return badge(obj.status, title=obj.get_status_display())

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
    fields = (
        "public_id_shown",
        "endpoint_shown",
        "url_shown",
        "status_badge",
        "attempts",
        "last_status_code",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    public_id_shown = field_shown("public_id", "Delivery ID")
    url_shown = long_shown("url", "URL", link=True)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return super().get_queryset(request).select_related("endpoint")

    @admin.display(description="Endpoint")
    def endpoint_shown(self, obj: Notification) -> str:
        # Its id only: the URL is the next column (the endpoint's name repeats it).
        return obj.endpoint.public_id if obj.endpoint_id else "notifyUrl / default URL"

    @admin.display(description="Status")
    def status_badge(self, obj: Notification) -> SafeString:
        return badge(obj.status, title=obj.get_status_display())


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every event emitted, as sent, with its deliveries."""

    list_display = (
        "public_id_short",
        "event_type",
        "application",
        "reference",
        "delivery_badge",
        "created_at_moment",
    )
    list_filter = ("event_type", ("delivery_status", StatusFilter), "application")
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
        "public_id_shown",
        "event_type",
        "application",
        "delivery_badge",
        "order",
        "refund",
        "account_share",
        "created_at",
        "payload_pretty",
    )
    readonly_fields = fields
    inlines = [DeliveryInline]
    show_full_result_count = False

    public_id_short = id_shown("public_id", "Event ID")
    public_id_shown = field_shown("public_id", "Event ID")
    created_at_moment = moment_shown("created_at", "Created at")

    @admin.display(description="Merchant trade no / request ID")
    def reference(self, obj: Event) -> SafeString | str:
        data = obj.payload.get("data") or {}
        return short_id(str(data.get("merchantTradeNo") or data.get("requestId") or ""))

    @admin.display(description="Delivery", ordering="delivery_status")
    def delivery_badge(self, obj: Event) -> SafeString:
        return badge(obj.delivery_status, title=obj.get_delivery_status_display())

    @admin.display(description="Payload (exactly as sent)")
    def payload_pretty(self, obj: Event) -> SafeString:
        return pre_json(obj.payload)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Merchants manage their endpoints through the API; staff see them (never the secrets)."""

    list_display = (
        "public_id_shown",
        "application",
        "url_shown",
        "events_shown",
        "enabled",
        "deleted_at_moment",
    )
    list_filter = ("enabled", "application")
    search_fields = ("=public_id", "url")
    fields = (
        "public_id_shown",
        "application",
        "url_shown",
        "description",
        "events_shown",
        "enabled",
        "rotation",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    readonly_fields = fields

    public_id_shown = field_shown("public_id", "Endpoint ID")
    url_shown = long_shown("url", "URL")
    deleted_at_moment = moment_shown("deleted_at", "Deleted at")

    @admin.display(description="Event types")
    def events_shown(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types)

    @admin.display(description="Secret rotation")
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
