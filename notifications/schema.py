"""OpenAPI declarations of the events and webhook-endpoints operations (notifications.apis).

Nothing here changes what the API does; the views apply these decorators.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

from notifications.serializers import (
    EventDetailSerializer,
    EventListFilterSerializer,
    EventRedeliverSerializer,
    EventSerializer,
    RotateSecretSerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookEndpointWithSecretSerializer,
)
from paysvc import openapi as docs
from paysvc.openapi import path_parameter, response_example

EVENT_ID_PARAMETER = path_parameter(
    "event_id", "The event's `id`.", "evt_3f0c8a6e2b7d4c1e9a5f6b2d8c4e1a7f"
)
ENDPOINT_ID_PARAMETER = path_parameter(
    "endpoint_id", "The webhook endpoint's `id`.", "we_5b1d0c9a8e7f6d5c4b3a2910"
)


def _cursor_page(serializer_class: type[serializers.Serializer], name: str) -> type:
    return type(
        name,
        (serializers.Serializer,),
        {
            "__doc__": f"A page of {serializer_class.__name__.removesuffix('Serializer')} items.",
            "next": serializers.URLField(
                allow_null=True, help_text="The next (older) page, or null on the last one."
            ),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous (newer) page, or null on the first one."
            ),
            "results": serializer_class(many=True),
        },
    )


_EVENT = {
    "id": "evt_3f0c8a6e2b7d4c1e9a5f6b2d8c4e1a7f",
    "type": "order.paid",
    "createdAt": "2025-01-31T12:00:05.123456Z",
    "deliveryStatus": "delivered",
    "data": {"merchantTradeNo": "9825382937292", "status": "PAID", "totalFee": "25.17"},
}
_DELIVERY = {
    "id": "dlv_8a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "endpoint": "we_5b1d0c9a8e7f6d5c4b3a2910",
    "url": "https://shop.example.com/paysvc/events",
    "status": "delivered",
    "attempts": 1,
    "nextAttemptAt": None,
    "deliveredAt": "2025-01-31T12:00:05.401000Z",
    "attemptLog": [
        {
            "attemptedAt": "2025-01-31T12:00:05.300000Z",
            "statusCode": 200,
            "durationMs": 101,
            "error": "",
        }
    ],
}
_ENDPOINT = {
    "id": "we_5b1d0c9a8e7f6d5c4b3a2910",
    "url": "https://shop.example.com/paysvc/events",
    "eventTypes": ["order.paid", "refund.succeeded"],
    "description": "shop backend",
    "enabled": True,
    "secretRotation": None,
    "createdAt": "2025-01-31T11:00:00.000000Z",
    "updatedAt": "2025-01-31T11:00:00.000000Z",
}
# An example value in the documentation, not a secret of any deployment.
EXAMPLE_SECRET = "whsec_Jq3v0pYlK8m2d9ZrH4tXbW6cN1sF5gA7eU0iO3kL2jQ"  # noqa: S105

EVENTS_LIST = extend_schema(
    operation_id="events_list",
    summary="List events",
    description="Every event paysvc emitted for this API key's client application, newest "
    "first, whether or not it had a destination: `order.paid`, `order.paid_after_close`, "
    "`order.closed`, `order.expired`, `order.failed`, `order.refunded`, `order.fully_refunded`, "
    "`order.flagged`, `refund.succeeded`, `refund.rejected`, `account_share.completed`. "
    "`data` is the resource when the event happened. Cursor pages of 20 (`pageSize` up to "
    "100): follow `next`. Kept 30 days. Scope `events:read`.",
    parameters=[
        EventListFilterSerializer,
        OpenApiParameter(
            "cursor", str, description="From a page's `next` or `previous` link (opaque)."
        ),
        OpenApiParameter(
            "pageSize", {"type": "integer", "minimum": 1, "maximum": 100}, description="1 to 100."
        ),
        *docs.ERROR_HEADERS,
    ],
    responses=docs.responses(
        {
            200: OpenApiResponse(
                _cursor_page(EventSerializer, "EventPage"),
                description="A page of events.",
                examples=[
                    response_example(
                        "Events", {"next": None, "previous": None, "results": [_EVENT]}
                    )
                ],
            )
        },
        400,
        *docs.COMMON_ERRORS,
    ),
)

EVENTS_RETRIEVE = extend_schema(
    operation_id="events_retrieve",
    summary="Get an event",
    description="One event with every delivery (to your webhook endpoints, and to the order's "
    "`notifyUrl` or your default URL) and each delivery attempt. Scope `events:read`.",
    parameters=[EVENT_ID_PARAMETER, *docs.ERROR_HEADERS],
    responses=docs.responses(
        {
            200: OpenApiResponse(
                EventDetailSerializer,
                description="The event.",
                examples=[response_example("Event", {**_EVENT, "deliveries": [_DELIVERY]})],
            )
        },
        404,
        *docs.COMMON_ERRORS,
    ),
)

EVENTS_REDELIVER = extend_schema(
    operation_id="events_redeliver",
    summary="Redeliver an event",
    description="Sends the event again now, with the same `id` and bytes and a fresh retry "
    "window: to every destination it had (an event that had none goes to its destinations "
    "now), or with `endpoint` to that webhook endpoint only. Scope `events:write`.",
    request=EventRedeliverSerializer,
    parameters=[EVENT_ID_PARAMETER, *docs.ERROR_HEADERS],
    examples=[
        OpenApiExample("All destinations", value={}, request_only=True),
        OpenApiExample(
            "One endpoint", value={"endpoint": "we_5b1d0c9a8e7f6d5c4b3a2910"}, request_only=True
        ),
    ],
    responses=docs.responses(
        {
            202: OpenApiResponse(
                EventDetailSerializer, description="Scheduled: the event and its deliveries."
            )
        },
        404,
        *docs.BODY_ERRORS,
        *docs.COMMON_ERRORS,
    ),
)

WEBHOOK_ENDPOINTS_LIST = extend_schema(
    operation_id="webhook_endpoints_list",
    summary="List webhook endpoints",
    description="Your webhook endpoints (never their secrets). Scope `webhook_endpoints:read`.",
    parameters=docs.ERROR_HEADERS,
    responses=docs.responses(
        {
            200: OpenApiResponse(
                type(
                    "WebhookEndpointList",
                    (serializers.Serializer,),
                    {"results": WebhookEndpointSerializer(many=True)},
                ),
                description="Every endpoint.",
                examples=[response_example("Endpoints", {"results": [_ENDPOINT]})],
            )
        },
        *docs.COMMON_ERRORS,
    ),
)

WEBHOOK_ENDPOINTS_CREATE = extend_schema(
    operation_id="webhook_endpoints_create",
    summary="Create a webhook endpoint",
    description='A URL that receives the event types you list (`["*"]`: all, present and '
    "future), signed with the endpoint's own secret (`Paysvc-Signature: t=...,v1=...`). The "
    "answer is the only time the secret is shown. Same URL rules as `notifyUrl` (public "
    "http(s) hosts). At most 16 endpoints. Scope `webhook_endpoints:write`.",
    request=WebhookEndpointCreateSerializer,
    parameters=docs.ERROR_HEADERS,
    examples=[
        OpenApiExample(
            "Paid orders and refunds",
            value={
                "url": "https://shop.example.com/paysvc/events",
                "eventTypes": ["order.paid", "refund.succeeded"],
                "description": "shop backend",
            },
            request_only=True,
        ),
        OpenApiExample(
            "Everything",
            value={"url": "https://shop.example.com/paysvc/all", "eventTypes": ["*"]},
            request_only=True,
        ),
    ],
    responses=docs.responses(
        {
            201: OpenApiResponse(
                WebhookEndpointWithSecretSerializer,
                description="Created; store `secret` now.",
                examples=[response_example("Created", {**_ENDPOINT, "secret": EXAMPLE_SECRET})],
            )
        },
        409,
        *docs.BODY_ERRORS,
        *docs.COMMON_ERRORS,
    ),
)

WEBHOOK_ENDPOINTS_RETRIEVE = extend_schema(
    operation_id="webhook_endpoints_retrieve",
    summary="Get a webhook endpoint",
    description="One endpoint (never its secret). Scope `webhook_endpoints:read`.",
    parameters=[ENDPOINT_ID_PARAMETER, *docs.ERROR_HEADERS],
    responses=docs.responses(
        {
            200: OpenApiResponse(
                WebhookEndpointSerializer,
                description="The endpoint.",
                examples=[response_example("Endpoint", _ENDPOINT)],
            )
        },
        404,
        *docs.COMMON_ERRORS,
    ),
)

WEBHOOK_ENDPOINTS_UPDATE = extend_schema(
    operation_id="webhook_endpoints_update",
    summary="Change a webhook endpoint",
    description="Changes any of `url`, `eventTypes`, `description`, `enabled`; new events "
    "follow at once. A disabled endpoint receives nothing; its pending deliveries wait and go "
    "out when it is enabled again. Scope `webhook_endpoints:write`.",
    request=WebhookEndpointUpdateSerializer,
    parameters=[ENDPOINT_ID_PARAMETER, *docs.ERROR_HEADERS],
    examples=[OpenApiExample("Disable", value={"enabled": False}, request_only=True)],
    responses=docs.responses(
        {200: OpenApiResponse(WebhookEndpointSerializer, description="The endpoint.")},
        404,
        *docs.BODY_ERRORS,
        *docs.COMMON_ERRORS,
    ),
)

WEBHOOK_ENDPOINTS_DELETE = extend_schema(
    operation_id="webhook_endpoints_delete",
    summary="Delete a webhook endpoint",
    description="Stops the endpoint: no new deliveries, pending ones given up. Its delivery "
    "history stays on the events. Scope `webhook_endpoints:write`.",
    request=None,
    parameters=[ENDPOINT_ID_PARAMETER, *docs.ERROR_HEADERS],
    responses=docs.responses(
        {204: OpenApiResponse(description="Deleted.")}, 404, *docs.COMMON_ERRORS
    ),
)

WEBHOOK_ENDPOINTS_ROTATE_SECRET = extend_schema(
    operation_id="webhook_endpoints_rotate_secret",
    summary="Rotate a webhook endpoint's secret",
    description="Issues a new signing secret, shown once in the answer. For `overlapSeconds` "
    "(default 86400, at most 7 days; 0 ends it at once) the previous secret signs too: every "
    "delivery then carries two `v1=` signatures, so your receiver verifies with either while "
    "you switch. Scope `webhook_endpoints:write`.",
    request=RotateSecretSerializer,
    parameters=[ENDPOINT_ID_PARAMETER, *docs.ERROR_HEADERS],
    examples=[OpenApiExample("One hour", value={"overlapSeconds": 3600}, request_only=True)],
    responses=docs.responses(
        {
            200: OpenApiResponse(
                WebhookEndpointWithSecretSerializer,
                description="The endpoint with its new secret; store it now.",
                examples=[
                    response_example(
                        "Rotated",
                        {
                            **_ENDPOINT,
                            "secretRotation": "2025-02-01T11:00:00.000000Z",
                            "secret": EXAMPLE_SECRET,
                        },
                    )
                ],
            )
        },
        404,
        *docs.BODY_ERRORS,
        *docs.COMMON_ERRORS,
    ),
)
