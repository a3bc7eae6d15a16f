"""The events and webhook-endpoints API (`/api/v1/`). Thin: parse, fetch by id, call one service.

Every view authenticates with an API key, checks the scope its method needs and sees only the
events and endpoints of the key's client application (others' answer 404, like unknown ids).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from rest_framework import status as http
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from clients import scopes
from clients.apis import MerchantApi
from notifications import schema as docs
from notifications import selectors, services
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
from paysvc.exceptions import ApiConflict


class EventPagination(CursorPagination):
    """Newest first; ``cursor`` from ``next``/``previous`` pages on, stable under inserts."""

    ordering = ("-created_at", "-id")
    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:  # DRF's answer to a cursor it cannot read: bad input, say which
            raise ValidationError(
                {"cursor": ["is not a cursor from this list's next or previous link"]}
            ) from exc


class EventListApi(MerchantApi):
    required_scopes = {"GET": scopes.EVENTS_READ}

    @docs.EVENTS_LIST
    def get(self, request: Request) -> Response:
        filters = EventListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        events = selectors.event_list(
            application=self.application(request),
            types=f.get("type"),
            created_from=f.get("createdFrom"),
            created_to=f.get("createdTo"),
            delivery_status=f.get("deliveryStatus"),
        )
        paginator = EventPagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(EventSerializer(page, many=True).data)


class EventDetailApi(MerchantApi):
    required_scopes = {"GET": scopes.EVENTS_READ}

    @docs.EVENTS_RETRIEVE
    def get(self, request: Request, event_id: str) -> Response:
        event = selectors.event_get(application=self.application(request), public_id=event_id)
        return Response(EventDetailSerializer(event).data)


class EventRedeliverApi(MerchantApi):
    required_scopes = {"POST": scopes.EVENTS_WRITE}

    @docs.EVENTS_REDELIVER
    def post(self, request: Request, event_id: str) -> Response:
        application = self.application(request)
        event = selectors.event_get(application=application, public_id=event_id)
        body = EventRedeliverSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        endpoint = None
        if endpoint_id := body.validated_data.get("endpoint"):
            try:
                endpoint = selectors.webhook_endpoint_get(
                    application=application, public_id=endpoint_id
                )
            except Http404 as exc:  # about the body's field, not the URL: name the field
                raise ValidationError({"endpoint": ["no such webhook endpoint"]}) from exc
        services.event_redeliver(event=event, by=self.actor(request), endpoint=endpoint)
        event = selectors.event_get(application=application, public_id=event_id)
        return Response(EventDetailSerializer(event).data, status=http.HTTP_202_ACCEPTED)


class WebhookEndpointListCreateApi(MerchantApi):
    required_scopes = {"GET": scopes.WEBHOOK_ENDPOINTS_READ, "POST": scopes.WEBHOOK_ENDPOINTS_WRITE}

    @docs.WEBHOOK_ENDPOINTS_LIST
    def get(self, request: Request) -> Response:
        endpoints = selectors.webhook_endpoint_list(application=self.application(request))
        return Response({"results": WebhookEndpointSerializer(endpoints, many=True).data})

    @docs.WEBHOOK_ENDPOINTS_CREATE
    def post(self, request: Request) -> Response:
        body = WebhookEndpointCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            endpoint = services.webhook_endpoint_create(
                application=self.application(request),
                url=data["url"],
                event_types=data["eventTypes"],
                description=data.get("description", ""),
                enabled=data.get("enabled", True),
            )
        except services.EndpointLimitReached as exc:
            raise ApiConflict(str(exc)) from exc
        return Response(
            WebhookEndpointWithSecretSerializer(endpoint).data, status=http.HTTP_201_CREATED
        )


class WebhookEndpointDetailApi(MerchantApi):
    required_scopes = {
        "GET": scopes.WEBHOOK_ENDPOINTS_READ,
        "PATCH": scopes.WEBHOOK_ENDPOINTS_WRITE,
        "DELETE": scopes.WEBHOOK_ENDPOINTS_WRITE,
    }

    def _endpoint(self, request: Request, endpoint_id: str) -> Any:
        return selectors.webhook_endpoint_get(
            application=self.application(request), public_id=endpoint_id
        )

    @docs.WEBHOOK_ENDPOINTS_RETRIEVE
    def get(self, request: Request, endpoint_id: str) -> Response:
        return Response(WebhookEndpointSerializer(self._endpoint(request, endpoint_id)).data)

    @docs.WEBHOOK_ENDPOINTS_UPDATE
    def patch(self, request: Request, endpoint_id: str) -> Response:
        endpoint = self._endpoint(request, endpoint_id)
        body = WebhookEndpointUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        names = {"url": "url", "eventTypes": "event_types", "description": "description",
                 "enabled": "enabled"}  # fmt: skip
        changes = {names[key]: value for key, value in body.validated_data.items()}
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, changes=changes)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @docs.WEBHOOK_ENDPOINTS_DELETE
    def delete(self, request: Request, endpoint_id: str) -> Response:
        services.webhook_endpoint_delete(endpoint=self._endpoint(request, endpoint_id))
        return Response(status=http.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateSecretApi(MerchantApi):
    required_scopes = {"POST": scopes.WEBHOOK_ENDPOINTS_WRITE}

    @docs.WEBHOOK_ENDPOINTS_ROTATE_SECRET
    def post(self, request: Request, endpoint_id: str) -> Response:
        endpoint = selectors.webhook_endpoint_get(
            application=self.application(request), public_id=endpoint_id
        )
        body = RotateSecretSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        overlap = dt.timedelta(seconds=body.validated_data["overlapSeconds"])
        endpoint = services.webhook_endpoint_rotate_secret(endpoint=endpoint, overlap=overlap)
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)
