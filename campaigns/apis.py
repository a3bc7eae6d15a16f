"""Merchant API of campaigns: the ids by which Binance's Web3 task checks find a customer.

Binance asks "did unified id X complete task T?"; X is matched against the ids paysvc knows for
the merchant's customers. Binance IDs (account sharing) and payers' openUserIds are known already;
wallet addresses and other ids are registered here.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import selectors, services
from campaigns.serializers import (
    CustomerIdentifierListSerializer,
    CustomerIdentifierSerializer,
    CustomerRefSerializer,
    IdentifierCreateSerializer,
)
from clients.apis import MerchantApi
from clients.scopes import CUSTOMERS_WRITE, ORDERS_READ
from paysvc import openapi as docs
from paysvc.exceptions import ApiConflict

CUSTOMER_REF_PARAMETER = docs.path_parameter(
    "customer_ref", "Your id of the customer (`customerRef` of orders and shares).", "customer-42"
)
_WALLET = {
    "kind": "wallet",
    "value": "0x52908400098527886e0f7030069857d2e4169ee7",
    "chain": "BSC",
    "source": "registered",
    "createdAt": "2025-01-31T10:00:00Z",
}
CONFLICT = OpenApiResponse(
    docs.ErrorSerializer,
    description="`conflict`: the id is registered for another of your customers, or for this "
    "one with another `chain`.",
    examples=[
        OpenApiExample(
            "Taken",
            value={
                "error": {
                    "code": "conflict",
                    "message": "This wallet is already registered for another customer.",
                }
            },
            response_only=True,
        )
    ],
)


class CustomerIdentifierListCreateApi(MerchantApi):
    required_scopes = {"GET": ORDERS_READ, "POST": CUSTOMERS_WRITE}

    def _customer_ref(self, customer_ref: str) -> str:
        checked = CustomerRefSerializer(data={"customerRef": customer_ref})
        checked.is_valid(raise_exception=True)
        return str(checked.validated_data["customerRef"])

    @extend_schema(
        operation_id="customer_identifiers_list",
        summary="List a customer's identifiers",
        description="Every id that Binance's Web3 task checks resolve to this customer: the ones "
        "you registered, the Binance IDs of its SHARED account shares and the payers' "
        "openUserIds of its orders (up to 100 each). A customer paysvc knows nothing about has an "
        "empty list. Scope `orders:read`.",
        parameters=[CUSTOMER_REF_PARAMETER, *docs.ERROR_HEADERS],
        responses=docs.responses(
            {
                200: OpenApiResponse(
                    CustomerIdentifierListSerializer,
                    description="The customer's identifiers.",
                    examples=[
                        OpenApiExample(
                            "Identifiers",
                            value={
                                "customerRef": "customer-42",
                                "identifiers": [
                                    _WALLET,
                                    {
                                        "kind": "binance_id",
                                        "value": "355421788",
                                        "chain": "",
                                        "source": "account_share",
                                        "createdAt": None,
                                    },
                                ],
                            },
                            response_only=True,
                        )
                    ],
                )
            },
            400,
            404,
            *docs.COMMON_ERRORS,
        ),
    )
    def get(self, request: Request, customer_ref: str) -> Response:
        ref = self._customer_ref(customer_ref)
        known = selectors.identifier_list(application=self.application(request), customer_ref=ref)
        return Response(
            CustomerIdentifierListSerializer({"customerRef": ref, "identifiers": known}).data
        )

    @extend_schema(
        operation_id="customer_identifiers_create",
        summary="Register a customer's identifier",
        description="Registers a wallet address (`wallet`) or another id (`other`) of one of your "
        "customers, so that Binance's Web3 task checks for that id find the customer's payments. "
        "0x EVM addresses are stored in lower case and match in any case. Idempotent: the same "
        "registration again answers 200 with the existing one; an id registered for another of "
        "your customers (or with another `chain`) is a 409. Scope `customers:write`.",
        request=IdentifierCreateSerializer,
        parameters=[CUSTOMER_REF_PARAMETER, *docs.ERROR_HEADERS],
        examples=[
            OpenApiExample(
                "EVM wallet",
                value={
                    "kind": "wallet",
                    "value": "0x52908400098527886E0F7030069857D2E4169EE7",
                    "chain": "BSC",
                },
                request_only=True,
            )
        ],
        responses={
            **docs.responses(
                {
                    201: OpenApiResponse(
                        CustomerIdentifierSerializer,
                        description="Registered.",
                        examples=[OpenApiExample("Wallet", value=_WALLET, response_only=True)],
                    ),
                    200: OpenApiResponse(
                        CustomerIdentifierSerializer,
                        description="Already registered for this customer: the existing one.",
                    ),
                },
                *docs.BODY_ERRORS,
                404,
                *docs.COMMON_ERRORS,
            ),
            409: CONFLICT,
        },
    )
    def post(self, request: Request, customer_ref: str) -> Response:
        ref = self._customer_ref(customer_ref)
        body = IdentifierCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            identifier, created = services.identifier_register(
                application=self.application(request),
                customer_ref=ref,
                kind=data["kind"],
                value=data["value"],
                chain=data.get("chain", ""),
            )
        except services.IdentifierConflict as exc:
            raise ApiConflict(exc.message) from exc
        known = selectors.KnownIdentifier(
            identifier.kind, identifier.value, "registered", identifier.chain, identifier.created_at
        )
        return Response(
            CustomerIdentifierSerializer(known).data,
            status=http.HTTP_201_CREATED if created else http.HTTP_200_OK,
        )
