"""The order timeline: the order's own history here, the rest from the apps that register sources.

An order's OrderEvent rows (Binance calls with request and answer, status changes with source and
actor, refund steps, notes) are this app's contribution; webhooks/admin.py adds the Binance
notifications about the order, notifications/admin.py the merchant callbacks and their attempts,
and backoffice.timeline the staff actions of all of them.
"""

from __future__ import annotations

from backoffice.display import json_text
from backoffice.timeline import (
    Contribution,
    TimelineEntry,
    register_timeline_source,
    timeline,
)
from orders.models import EventKind, Order

SUBJECT = "order"


def order_events(order: Order, site: str) -> Contribution:
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
    return Contribution(entries=entries)


register_timeline_source(SUBJECT, order_events)


def order_timeline(*, order: Order, site: str = "admin") -> list[TimelineEntry]:
    """Every entry about `order`, oldest first (ties keep the order each source recorded)."""
    return timeline(subject_kind=SUBJECT, subject=order, site=site)
