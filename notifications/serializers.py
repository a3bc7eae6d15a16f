"""Request and response bodies of the events and webhook-endpoints API (`/api/v1/`).

Requests are strict (unknown fields refused at their path, paysvc.serializers); URLs follow the
same SSRF rules as an order's notifyUrl (paysvc.netsafety).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers

from notifications.models import (
    ALL_EVENTS,
    DeliveryStatus,
    Event,
    EventType,
    Notification,
    WebhookEndpoint,
)
from notifications.services.endpoints import MAX_OVERLAP
from paysvc.netsafety import UnsafeURLError, allow_private_urls, check_url_target
from paysvc.serializers import COMMON_MESSAGES, StrictSerializer

MAX_URL_LENGTH = 512
EVENT_TYPE_CHOICES = [ALL_EVENTS, *EventType.values]


# -- requests -------------------------------------------------------------------------------------
class EndpointUrlField(serializers.CharField):
    """An absolute http(s) URL to a public host (paysvc delivers to it from its servers)."""

    default_error_messages = COMMON_MESSAGES

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=MAX_URL_LENGTH, trim_whitespace=True, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("must be a string")
        value = super().to_internal_value(data)
        try:
            check_url_target(value, allow_private=allow_private_urls())
        except UnsafeURLError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value


class EventTypesField(serializers.ListField):
    """A non-empty list of event types, or ``["*"]`` for all (present and future)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            child=serializers.ChoiceField(
                choices=EVENT_TYPE_CHOICES,
                error_messages={"invalid_choice": "is not an event type: {input}"},
            ),
            allow_empty=False,
            max_length=len(EVENT_TYPE_CHOICES),
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> list[str]:
        values = super().to_internal_value(data)
        unique = list(dict.fromkeys(values))
        if ALL_EVENTS in unique and len(unique) > 1:
            raise serializers.ValidationError('"*" means every event type; give it alone')
        return unique


class WebhookEndpointCreateSerializer(StrictSerializer):
    url = EndpointUrlField()
    eventTypes = EventTypesField()
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False, default=True)


class WebhookEndpointUpdateSerializer(StrictSerializer):
    """PATCH: any of the fields; the secret changes only through rotate-secret."""

    url = EndpointUrlField(required=False)
    eventTypes = EventTypesField(required=False)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)

    def presence_errors(self, data: Any) -> dict[str, list[str]]:
        if not data:
            message = "give at least one of url, eventTypes, description, enabled"
            return {"non_field_errors": [message]}
        return {}


class RotateSecretSerializer(StrictSerializer):
    overlapSeconds = serializers.IntegerField(
        required=False,
        default=86400,
        min_value=0,
        max_value=int(MAX_OVERLAP.total_seconds()),
        help_text="How long the previous secret keeps signing too (0 to 604800; default 86400).",
    )


class EventRedeliverSerializer(StrictSerializer):
    endpoint = serializers.CharField(
        required=False,
        max_length=40,
        help_text="Only to this webhook endpoint (we_...); by default every destination.",
    )


class EventListFilterSerializer(serializers.Serializer):
    """Query parameters of `GET /api/v1/events`."""

    default_error_messages = COMMON_MESSAGES

    type = serializers.CharField(
        required=False, help_text="One event type, or several separated by commas."
    )
    createdFrom = serializers.DateTimeField(required=False, help_text="ISO 8601, inclusive.")
    createdTo = serializers.DateTimeField(required=False, help_text="ISO 8601, inclusive.")
    deliveryStatus = serializers.ChoiceField(choices=DeliveryStatus.values, required=False)

    def validate_type(self, value: str) -> list[str]:
        types = [t.strip() for t in value.split(",") if t.strip()]
        unknown = [t for t in types if t not in EventType.values]
        if unknown:
            raise serializers.ValidationError(f"not an event type: {', '.join(unknown)}")
        return types

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start: dt.datetime | None = attrs.get("createdFrom")
        end: dt.datetime | None = attrs.get("createdTo")
        if start and end and start > end:
            raise serializers.ValidationError({"createdTo": ["must not be before createdFrom"]})
        return attrs


# -- answers --------------------------------------------------------------------------------------
class EventSerializer(serializers.Serializer):
    """An event as it was sent (`id`, `type`, `createdAt`, `data`) plus its delivery status."""

    id = serializers.CharField(source="public_id", help_text="evt_<32 hex>")
    type = serializers.ChoiceField(source="event_type", choices=EventType.values)
    createdAt = serializers.SerializerMethodField()
    deliveryStatus = serializers.ChoiceField(
        source="delivery_status", choices=DeliveryStatus.values
    )
    data = serializers.SerializerMethodField(
        help_text="The resource when the event happened (order, refund or account share)."
    )

    def get_createdAt(self, event: Event) -> str:
        return str(event.payload["createdAt"])

    def get_data(self, event: Event) -> dict[str, Any]:
        return dict(event.payload["data"])


class DeliveryAttemptSerializer(serializers.Serializer):
    attemptedAt = serializers.DateTimeField(source="attempted_at")
    statusCode = serializers.IntegerField(source="status_code", allow_null=True)
    durationMs = serializers.IntegerField(source="duration_ms")
    error = serializers.CharField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="dlv_<32 hex>")
    endpoint = serializers.SerializerMethodField(
        help_text="The webhook endpoint (we_...), or null for the order's notifyUrl or the "
        "application's default URL."
    )
    url = serializers.URLField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    nextAttemptAt = serializers.DateTimeField(source="next_attempt_at", allow_null=True)
    deliveredAt = serializers.DateTimeField(source="delivered_at", allow_null=True)
    attemptLog = DeliveryAttemptSerializer(source="attempt_log", many=True)

    def get_endpoint(self, delivery: Notification) -> str | None:
        return delivery.endpoint.public_id if delivery.endpoint else None


class EventDetailSerializer(EventSerializer):
    deliveries = DeliverySerializer(many=True)


class WebhookEndpointSerializer(serializers.Serializer):
    """A webhook endpoint; its secret is never shown here (see the create and rotate answers)."""

    id = serializers.CharField(source="public_id", help_text="we_<24 hex>")
    url = serializers.URLField()
    eventTypes = serializers.ListField(source="event_types", child=serializers.CharField())
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    secretRotation = serializers.SerializerMethodField(
        help_text="Until when the previous secret signs too (after a rotation), or null."
    )
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    def get_secretRotation(self, endpoint: WebhookEndpoint) -> str | None:
        until = endpoint.previous_secret_expires_at
        if not endpoint.previous_secret or until is None:
            return None
        return serializers.DateTimeField().to_representation(until)


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (whsec_...). Shown only in this answer: store it now."
    )
