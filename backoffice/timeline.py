"""An order's timeline for staff: everything that happened to it, merged and sorted by time.

Sources: the order's own OrderEvent rows (Binance calls with request and answer, status changes
with source and actor, refund steps, notes), the Binance webhooks received about it, the merchant
callbacks sent about it and each delivery attempt, and staff actions from the admin log (on the
order, its webhooks and its callbacks). Five queries whatever the order's history.

The webhooks and notifications models are imported when a timeline is built, not when
orders.admin loads: the orders app starts without those apps installed (their absence only
shows on the order page).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import NoReverseMatch, reverse

from backoffice.display import json_text
from orders.models import EventKind, Order


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str
    title: str
    source: str = ""
    actor: str = ""
    status: str = ""
    link: str = ""
    # (label, text) blocks shown collapsed: request/answer bodies, payloads.
    blocks: tuple[tuple[str, str], ...] = field(default=())
    rank: tuple[int, int] = (0, 0)

    @property
    def kind_label(self) -> str:
        return self.kind.replace("_", " ")


def _admin_url(name: str, pk: Any, site: str) -> str:
    try:
        return reverse(f"{site}:{name}", args=[pk])
    except NoReverseMatch:
        return ""


def _order_events(order: Order) -> list[TimelineEntry]:
    entries = []
    for event in order.events.all():
        blocks: list[tuple[str, str]] = []
        detail = event.detail or {}
        if event.kind == EventKind.BINANCE_CALL:
            blocks.append(("request", json_text(detail.get("request"))))
            blocks.append(("answer", json_text(detail.get("response"))))
            if detail.get("error"):
                blocks.append(("error", str(detail["error"])))
        elif detail:
            blocks.append(("detail", json_text(detail)))
        entries.append(
            TimelineEntry(
                at=event.created_at,
                kind=event.kind,
                title=event.summary,
                source=event.source,
                actor=event.actor,
                status=event.to_status if event.kind == EventKind.STATUS_CHANGE else "",
                blocks=tuple(blocks),
                rank=(0, event.pk),
            )
        )
    return entries


def _webhooks(order: Order, site: str) -> tuple[list[TimelineEntry], list[int]]:
    from webhooks.models import WebhookEvent

    match = Q(merchant_trade_no=order.merchant_trade_no)
    if order.prepay_id:
        # PAY and PAY_REFUND notifications carry the order's prepayId as bizId.
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
                link=_admin_url("webhooks_webhookevent_change", event.pk, site),
                blocks=(("body", json_text(bytes(event.body))),),
                rank=(1, event.pk),
            )
        )
    return entries, ids


def _callbacks(order: Order, site: str) -> tuple[list[TimelineEntry], list[int]]:
    from notifications.models import Notification

    entries, ids = [], []
    notifications = (
        Notification.objects.filter(Q(order=order) | Q(refund__order=order))
        .prefetch_related("attempt_log")
        .order_by("created_at", "id")
    )
    for notification in notifications:
        ids.append(notification.pk)
        link = _admin_url("notifications_notification_change", notification.pk, site)
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
    return entries, ids


def _staff_actions(
    order: Order, webhook_ids: list[int], callback_ids: list[int]
) -> list[TimelineEntry]:
    from notifications.models import Notification
    from webhooks.models import WebhookEvent

    types = ContentType.objects.get_for_models(Order, WebhookEvent, Notification)
    match = Q(content_type=types[Order], object_id=str(order.pk))
    if webhook_ids:
        match |= Q(content_type=types[WebhookEvent], object_id__in=[str(i) for i in webhook_ids])
    if callback_ids:
        match |= Q(content_type=types[Notification], object_id__in=[str(i) for i in callback_ids])
    entries = []
    for log in LogEntry.objects.filter(match).select_related("user", "content_type"):
        entries.append(
            TimelineEntry(
                at=log.action_time,
                kind="staff",
                title=f"{log.get_change_message() or 'changed'} "
                f"({log.content_type.model} {log.object_repr})",
                source="staff",
                actor=f"staff:{log.user.get_username()}",
                rank=(4, log.pk),
            )
        )
    return entries


def order_timeline(*, order: Order, site: str = "admin") -> list[TimelineEntry]:
    """Every entry about `order`, oldest first (ties keep the order each source recorded)."""
    webhook_entries, webhook_ids = _webhooks(order, site)
    callback_entries, callback_ids = _callbacks(order, site)
    entries = [
        *_order_events(order),
        *webhook_entries,
        *callback_entries,
        *_staff_actions(order, webhook_ids, callback_ids),
    ]
    entries.sort(key=lambda entry: (entry.at, entry.rank))
    return entries
