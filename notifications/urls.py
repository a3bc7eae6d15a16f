"""Events and webhook-endpoints routes, mounted at /api/v1/."""

from django.urls import path

from notifications import apis
from paysvc import converters  # noqa: F401 - the <id:...> path converter

app_name = "notifications"
urlpatterns = [
    path("events", apis.EventListApi.as_view(), name="event-list"),
    path("events/<id:event_id>", apis.EventDetailApi.as_view(), name="event-detail"),
    path(
        "events/<id:event_id>/redeliver",
        apis.EventRedeliverApi.as_view(),
        name="event-redeliver",
    ),
    path(
        "webhook-endpoints",
        apis.WebhookEndpointListCreateApi.as_view(),
        name="webhook-endpoint-list",
    ),
    path(
        "webhook-endpoints/<id:endpoint_id>",
        apis.WebhookEndpointDetailApi.as_view(),
        name="webhook-endpoint-detail",
    ),
    path(
        "webhook-endpoints/<id:endpoint_id>/rotate-secret",
        apis.WebhookEndpointRotateSecretApi.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
]
