"""The base of every merchant API view: API-key authentication, scopes, per-key rate limits."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.views import APIView

from clients.authentication import ApiKeyAuthentication
from clients.permissions import HasApiKey, RequiredScopes
from clients.throttling import ApiKeyRateThrottle, combined


class MerchantApi(APIView):
    """A view of the merchant API (`/api/v1/`).

    Subclasses name the scope of each method in ``required_scopes`` (deny by default:
    clients.permissions); every object they answer belongs to ``self.application(request)``,
    the API key's client application (others' objects answer 404, like unknown ids).
    """

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey, RequiredScopes]
    throttle_classes = [ApiKeyRateThrottle]
    required_scopes: dict[str, str] = {}

    def get_throttles(self) -> list[Any]:
        # The general and the stricter limits of a request in one Redis round trip.
        return combined([*super().get_throttles(), *self.action_throttles()])

    def action_throttles(self) -> list[Any]:
        """Throttles of this request's action, beyond ``throttle_classes`` (override)."""
        return []

    def application(self, request: Request) -> Any:
        return request.user.application

    def actor(self, request: Request) -> str:
        """Who did it, for timelines and logs: ``api:<key prefix>`` (never the key)."""
        return f"api:{request.auth.prefix}"
