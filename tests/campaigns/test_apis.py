"""The merchant identifiers API: POST/GET /api/v1/customers/{customerRef}/identifiers."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from campaigns.models import CustomerIdentifier
from clients.scopes import ACCOUNT_SHARES_READ, CUSTOMERS_WRITE, ORDERS_READ
from tests.factories import AccountShareFactory, ApplicationFactory, OrderFactory, api_key_factory

pytestmark = pytest.mark.django_db

WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"
URL = "/api/v1/customers/{}/identifiers"


def merchant(application, scopes: list[str] | None = None) -> APIClient:
    _key, raw = api_key_factory(application=application, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def shop(application):
    return merchant(application)


def register(client: APIClient, ref: str = "customer-42", **body):
    body = {"kind": "wallet", "value": WALLET, **body}
    return client.post(URL.format(ref), body, format="json")


def test_registering_a_wallet_answers_201_with_it_normalised(shop, application):
    response = register(shop, chain="BSC")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "wallet"
    assert body["value"] == WALLET.lower()
    assert body["chain"] == "BSC"
    assert body["source"] == "registered"
    assert body["createdAt"]
    stored = CustomerIdentifier.objects.get()
    assert (stored.application, stored.customer_ref, stored.value) == (
        application,
        "customer-42",
        WALLET.lower(),
    )


def test_registering_again_is_idempotent(shop):
    first = register(shop, chain="BSC")

    again = register(shop, value=WALLET.lower(), chain="BSC")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert CustomerIdentifier.objects.count() == 1


def test_an_id_of_another_customer_is_a_conflict(shop):
    register(shop, ref="customer-42")

    response = register(shop, ref="customer-43")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert list(CustomerIdentifier.objects.values_list("customer_ref", flat=True)) == [
        "customer-42"
    ]


def test_the_same_id_with_another_chain_is_a_conflict(shop):
    register(shop, chain="BSC")

    assert register(shop, chain="ETH").status_code == 409


def test_other_ids_are_kept_exactly(shop):
    response = register(shop, kind="other", value="  AbC-123  ")

    assert response.status_code == 201
    assert response.json()["value"] == "AbC-123"


def test_each_application_has_its_own_customers(shop, application):
    other_app = ApplicationFactory(name="other-shop")
    other = merchant(other_app)
    register(shop, chain="BSC")

    # The other application sees nothing of shop's customer, and may use the same wallet.
    listed = other.get(URL.format("customer-42"))
    assert listed.status_code == 200
    assert listed.json() == {"customerRef": "customer-42", "identifiers": []}
    assert register(other, ref="customer-42").status_code == 201
    assert register(other, ref="someone-else").status_code == 409


def test_listing_shows_registered_and_known_ids(shop, application):
    register(shop, chain="BSC")
    AccountShareFactory(
        application=application, customer_ref="customer-42", user_binance_id="355421788"
    )
    OrderFactory(
        paid=True, application=application, customer_ref="customer-42", open_user_id="payer-1"
    )
    OrderFactory(
        paid=True, application=application, customer_ref="customer-42", open_user_id="payer-1"
    )
    OrderFactory(
        paid=True, application=application, customer_ref="someone-else", open_user_id="payer-2"
    )

    response = shop.get(URL.format("customer-42"))

    assert response.status_code == 200
    identifiers = response.json()["identifiers"]
    assert [(i["kind"], i["value"], i["source"]) for i in identifiers] == [
        ("wallet", WALLET.lower(), "registered"),
        ("binance_id", "355421788", "account_share"),
        ("open_user_id", "payer-1", "order"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "email"}, "kind"),
        ({"value": "0xab cd"}, "value"),
        ({"value": ""}, "value"),
        ({"value": "x" * 129}, "value"),
        ({"chain": "B S C"}, "chain"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_bodies_are_refused_with_the_field_named(shop, body, field):
    response = register(shop, **body)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not CustomerIdentifier.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_customer_ref_is_refused(shop, method):
    response = getattr(shop, method)(URL.format("not%20ok"), {}, format="json")

    assert response.status_code == 400
    assert "customerRef" in response.json()["error"]["fields"]


def test_registering_needs_the_customers_write_scope(application):
    client = merchant(application, scopes=[ORDERS_READ])

    response = register(client)

    assert response.status_code == 403
    assert response.json()["error"]["requiredScopes"] == [CUSTOMERS_WRITE]
    assert not CustomerIdentifier.objects.exists()


def test_listing_needs_the_orders_read_scope(application):
    client = merchant(application, scopes=[CUSTOMERS_WRITE, ACCOUNT_SHARES_READ])

    response = client.get(URL.format("customer-42"))

    assert response.status_code == 403
    assert response.json()["error"]["requiredScopes"] == [ORDERS_READ]


def test_without_an_api_key_nothing_is_answered(db):
    response = APIClient().post(
        URL.format("customer-42"), {"kind": "wallet", "value": WALLET}, format="json"
    )

    assert response.status_code == 401
    assert not CustomerIdentifier.objects.exists()


def test_the_identifiers_api_is_in_the_openapi_schema(shop):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()

    operations = schema["paths"]["/api/v1/customers/{customer_ref}/identifiers"]
    assert operations["post"]["operationId"] == "customer_identifiers_create"
    assert operations["get"]["operationId"] == "customer_identifiers_list"
    assert {"200", "201", "400", "401", "403", "409", "429"} <= set(operations["post"]["responses"])
    assert not [p for p in schema["paths"] if p.startswith("/web3")]
