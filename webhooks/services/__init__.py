"""Webhook services: storing deliveries, processing stored events, sweeping what is left."""

from webhooks.services.intake import webhook_event_store
from webhooks.services.processing import webhook_event_process, webhook_event_reprocess
from webhooks.services.sweeper import webhook_events_sweep

__all__ = [
    "webhook_event_process",
    "webhook_event_reprocess",
    "webhook_event_store",
    "webhook_events_sweep",
]
