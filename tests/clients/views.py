"""Throwaway DRF views for the tests (the real API endpoints live in other apps)."""

from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet

from clients.authentication import ApiKeyAuthentication
from clients.parsers import DecimalJSONParser
from clients.permissions import HasApiKey, RequiredScopes
from clients.scopes import ORDERS_READ, ORDERS_WRITE, REFUNDS_WRITE
from clients.throttling import ApiKeyRateThrottle


class ProbeView(APIView):
    """GET needs orders:read, POST orders:write, PUT both; DELETE is declared by no scope."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey, RequiredScopes]
    parser_classes = [DecimalJSONParser]
    throttle_classes = [ApiKeyRateThrottle]
    required_scopes = {"GET": ORDERS_READ, "POST": ORDERS_WRITE, "PUT": [ORDERS_READ, ORDERS_WRITE]}

    def get(self, request):
        return Response(
            {
                "application": request.user.application.name,
                "prefix": request.auth.prefix,
                "scopes": sorted(request.user.scopes),
            }
        )

    def post(self, request):
        return Response({"received": request.data}, status=201)

    def put(self, request):
        return Response({"ok": True})

    def delete(self, request):
        return Response(status=204)


class ProbeViewSet(ViewSet):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey, RequiredScopes]
    throttle_classes = []
    required_scopes = {"list": ORDERS_READ, "create": ORDERS_WRITE, "refund": REFUNDS_WRITE}

    def list(self, request):
        return Response([])

    def create(self, request):
        return Response({}, status=201)

    def refund(self, request):
        return Response({}, status=202)
