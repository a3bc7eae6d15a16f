"""Top-level URL routes."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backoffice.urls import admin_route
from campaigns.web3_urls import web3_route
from paysvc import health, metrics_view

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    admin_route(),  # at PAYSVC_ADMIN_PATH
    path("api/v1/", include("orders.urls")),
    path("api/v1/", include("campaigns.urls")),
    path("api/v1/", include("notifications.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    web3_route(),  # last: its prefix is configurable (PAYSVC_WEB3_PREFIX)
]

handler400 = "paysvc.api_errors.bad_request"
handler403 = "paysvc.api_errors.permission_denied"
handler404 = "paysvc.api_errors.page_not_found"
handler500 = "paysvc.api_errors.server_error"
