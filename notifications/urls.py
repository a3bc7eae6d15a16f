"""Events and webhook-endpoints routes, mounted at /api/v1/ (each view lean: paysvc/lean.py)."""

from django.urls import path

from notifications import apis
from paysvc import converters  # noqa: F401 - the <id:...> path converter
from paysvc.lean import lean

app_name = "notifications"
urlpatterns = [
    path("events", lean(apis.EventListApi.as_view()), name="event-list"),
    path("events/<id:event_id>", lean(apis.EventDetailApi.as_view()), name="event-detail"),
    path(
        "events/<id:event_id>/redeliver",
        lean(apis.EventRedeliverApi.as_view()),
        name="event-redeliver",
    ),
    path(
        "webhook-endpoints",
        lean(apis.WebhookEndpointListCreateApi.as_view()),
        name="webhook-endpoint-list",
    ),
    path(
        "webhook-endpoints/<id:endpoint_id>",
        lean(apis.WebhookEndpointDetailApi.as_view()),
        name="webhook-endpoint-detail",
    ),
    path(
        "webhook-endpoints/<id:endpoint_id>/rotate-secret",
        lean(apis.WebhookEndpointRotateSecretApi.as_view()),
        name="webhook-endpoint-rotate-secret",
    ),
]
