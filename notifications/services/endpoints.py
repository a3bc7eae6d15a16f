"""Webhook endpoints of a client application: create, change, delete, rotate the signing secret.

A secret is shown once, in the answer of the call that made it (create, rotate). A rotation
keeps the previous secret signing too, as a second ``v1=`` of ``Paysvc-Signature``, for an
overlap period the merchant chooses (up to 7 days), so that a receiver can switch its verifier
without losing an event. Deleting an endpoint stops its deliveries and keeps its row (and so the
history of what was sent to it).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from clients.keys import generate_endpoint_secret
from notifications.models import (
    Notification,
    NotificationStatus,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

MAX_ENDPOINTS_PER_APPLICATION = 16
MAX_OVERLAP = dt.timedelta(days=7)
DEFAULT_OVERLAP = dt.timedelta(hours=24)


class EndpointLimitReached(Exception):
    """The application has MAX_ENDPOINTS_PER_APPLICATION endpoints already."""


def endpoint_signing_secrets(
    endpoint: WebhookEndpoint, *, now: dt.datetime | None = None
) -> list[str]:
    """The secrets that sign a delivery to `endpoint` now: its own, then the previous one while
    the rotation's overlap lasts."""
    now = now or timezone.now()
    out = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        out.append(endpoint.previous_secret)
    return out


def webhook_endpoint_create(
    *,
    application: Any,
    url: str,
    event_types: Sequence[str],
    description: str = "",
    enabled: bool = True,
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (on the returned object: show it now, once).

    `url` and `event_types` are validated input (notifications.serializers). Raises
    EndpointLimitReached.
    """
    with transaction.atomic():
        # Lock the application's endpoints so that concurrent creates respect the limit.
        live = list(
            WebhookEndpoint.objects.select_for_update()
            .filter(application=application, deleted_at__isnull=True)
            .values_list("pk", flat=True)
        )
        if len(live) >= MAX_ENDPOINTS_PER_APPLICATION:
            raise EndpointLimitReached(
                f"at most {MAX_ENDPOINTS_PER_APPLICATION} webhook endpoints per application"
            )
        endpoint = WebhookEndpoint.objects.create(
            public_id=f"we_{uuid.uuid4().hex[:24]}",
            application=application,
            url=url,
            event_types=list(event_types),
            description=description,
            enabled=enabled,
            secret=generate_endpoint_secret(),
        )
    logger.info(
        "webhook endpoint created",
        extra={
            "endpoint": endpoint.public_id,
            "application": application.pk,
            "eventTypes": ",".join(endpoint.event_types),
        },
    )
    return endpoint


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, changes: dict[str, Any]
) -> WebhookEndpoint:
    """Apply validated `changes` (url, event_types, description, enabled). New events follow the
    new settings at once; deliveries already made keep their URL."""
    fields = [name for name in ("url", "event_types", "description", "enabled") if name in changes]
    for name in fields:
        setattr(endpoint, name, changes[name])
    if fields:
        endpoint.save(update_fields=[*fields, "updated_at"])
        logger.info(
            "webhook endpoint changed",
            extra={"endpoint": endpoint.public_id, "fields": ",".join(fields)},
        )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop the endpoint: no new deliveries, pending ones given up (``endpoint deleted``)."""
    now = timezone.now()
    stopped = Notification.objects.filter(
        endpoint=endpoint, status=NotificationStatus.PENDING
    ).update(
        status=NotificationStatus.FAILED,
        next_attempt_at=None,
        last_error="endpoint deleted",
    )
    endpoint.deleted_at = now
    endpoint.enabled = False
    endpoint.save(update_fields=["deleted_at", "enabled", "updated_at"])
    if stopped:
        from notifications.services.deliveries import events_delivery_status_refresh

        events_delivery_status_refresh(
            event_ids=Notification.objects.filter(endpoint=endpoint).values("event_id")
        )
    logger.info(
        "webhook endpoint deleted", extra={"endpoint": endpoint.public_id, "stopped": stopped}
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, overlap: dt.timedelta = DEFAULT_OVERLAP
) -> WebhookEndpoint:
    """A new secret for `endpoint` (on the returned object: show it now, once). The old one
    keeps signing for `overlap` (0 to 7 days; 0 stops it at once)."""
    if overlap < dt.timedelta(0) or overlap > MAX_OVERLAP:
        raise ValueError(f"overlap must be between 0 and {MAX_OVERLAP}")
    row = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    row.previous_secret = row.secret if overlap else ""
    row.previous_secret_expires_at = timezone.now() + overlap if overlap else None
    row.secret = generate_endpoint_secret()
    row.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    logger.info(
        "webhook endpoint secret rotated",
        extra={"endpoint": row.public_id, "overlapSeconds": int(overlap.total_seconds())},
    )
    return row
