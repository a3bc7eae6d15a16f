"""Merchant API routes of campaigns, mounted at /api/v1/ next to orders.urls."""

from django.urls import path

from campaigns import apis
from paysvc.lean import lean

app_name = "campaigns"
urlpatterns = [
    path(
        "customers/<str:customer_ref>/identifiers",
        lean(apis.CustomerIdentifierListCreateApi.as_view()),
        name="customer-identifiers",
    ),
]
