"""Notifications services: every write to events, deliveries and webhook endpoints goes through
here. ``events`` (emit, redeliver, prune), ``deliveries`` (attempts, dispatch, redelivery of one
delivery), ``endpoints`` (webhook endpoints and their secrets)."""

from notifications.services.deliveries import (
    enqueue_delivery,
    notification_deliver,
    notification_redeliver,
    notifications_dispatch_due,
)
from notifications.services.endpoints import (
    EndpointLimitReached,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from notifications.services.events import event_emit, event_redeliver, events_prune

__all__ = [
    "EndpointLimitReached",
    "enqueue_delivery",
    "event_emit",
    "event_redeliver",
    "events_prune",
    "notification_deliver",
    "notification_redeliver",
    "notifications_dispatch_due",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_update",
]
