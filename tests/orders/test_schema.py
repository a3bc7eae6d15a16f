"""The OpenAPI schema of the merchant API: valid, documented, and true to what the API answers.

The last test runs schemathesis against the WSGI application in-process (so it shares the test
database) with a real API key and the live sandbox behind it, and checks every answer: no 5xx,
a documented status code, content type, headers and body.
"""

from __future__ import annotations

import copy
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jsonschema
import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orders.schema import examples as docs
from paysvc.openapi import request_examples
from paysvc.wsgi import application
from tests.factories import ApplicationFactory, api_key_factory

SCHEMA_PATH = "/api/schema/"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Per operation and generation mode; PAYSVC_FUZZ_EXAMPLES=1000 for a longer hunt.
MAX_EXAMPLES = int(os.environ.get("PAYSVC_FUZZ_EXAMPLES", "100"))

# Loaded through the WSGI app itself, so that the schema tested is the one /api/schema/ serves.
api_schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, application)


def openapi() -> dict[str, Any]:
    return api_schema.raw_schema


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in openapi()["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        _, *parts = node["$ref"].split("/")
        node = openapi()
        for part in parts:
            node = node[part]
    return node


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable`` becomes an explicit null alternative."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def validate(instance: Any, schema: dict[str, Any]) -> None:
    document = as_json_schema({"components": openapi()["components"], "allOf": [schema]})
    jsonschema.Draft4Validator(document).validate(instance)


# -- the schema itself -----------------------------------------------------------------------------
def test_the_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert out.read_text().startswith("openapi: 3.0")


def test_order_creation_has_request_and_response_examples():
    create = openapi()["paths"]["/api/v1/orders"]["post"]

    examples = create["requestBody"]["content"]["application/json"]["examples"]
    assert {"CryptoOrder", "FiatOrder", "MinimalOrder"} <= set(examples)
    crypto = examples["CryptoOrder"]["value"]
    assert {"goods", "env", "shipping", "buyer"} <= set(crypto)
    assert examples["FiatOrder"]["value"]["fiatAmount"] == "1.00"
    assert examples["FiatOrder"]["value"]["fiatCurrency"] == "USD"
    assert create["responses"]["201"]["content"]["application/json"]["examples"]
    assert {p["name"] for p in create["parameters"]} == {"Idempotency-Key"}


def test_every_operation_documents_its_error_answers():
    for method, path, operation in operations():
        codes = set(operation["responses"])
        expected = {"401", "403", "429"}
        if "{" in path or (method, path) == ("GET", "/api/v1/orders"):
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"400", "413", "415"}
        if (method, path) == ("GET", "/api/v1/orders"):
            expected.add("400")
        calls_binance = path.startswith(("/api/v1/orders", "/api/v1/account-shares"))
        if method == "POST" and calls_binance and not path.endswith("/identifiers"):
            expected |= {"502", "503", "504"}
        assert expected <= codes, (method, path, sorted(codes))
        assert operation["security"] == [{"ApiKeyAuth": []}]
        for code in codes - {"200", "201", "202", "204"}:
            answer = operation["responses"][code]
            body = answer["content"]["application/json"]
            assert body["schema"]["$ref"].rsplit("/", 1)[1] in {"Error", "UpstreamError"}
            assert body["examples"], (method, path, code)
        assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert openapi()["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"


def test_the_error_bodies_are_described():
    detail = openapi()["components"]["schemas"]["ErrorDetail"]
    upstream = openapi()["components"]["schemas"]["UpstreamErrorDetail"]

    assert set(detail["required"]) == {"code", "message"}
    assert {"fields", "retryAfter", "outcome", "retrying", "binanceCode"} <= set(
        detail["properties"]
    )
    assert {"code", "message", "outcome", "retrying"} <= set(upstream["required"])
    create = openapi()["paths"]["/api/v1/orders"]["post"]["responses"]
    fields = create["400"]["content"]["application/json"]["examples"]["ValidationError"]
    assert "goods.goodsName" in fields["value"]["error"]["fields"]


def test_request_schemas_describe_the_validation_rules():
    schemas = openapi()["components"]["schemas"]
    order = schemas["CreateOrderRequest"]["properties"]

    # goods or goodsDetails: one of the two (a cross-field rule, not a JSON Schema "required").
    assert set(schemas["CreateOrderRequest"]["required"]) == {"env"}
    assert {"goods", "goodsDetails", "description", "qrCodeReferId"} <= set(
        schemas["CreateOrderRequest"]["properties"]
    )
    assert order["goods"] == {"$ref": "#/components/schemas/OrderGoodsRequest"}
    assert order["merchantTradeNo"]["maxLength"] == 32
    assert order["merchantTradeNo"]["pattern"] == "^(?:[A-Za-z0-9]+)$"
    assert order["orderAmount"]["oneOf"][0]["type"] == "string"
    assert "pattern" in order["orderAmount"]["oneOf"][0]
    assert resolve(order["currency"])["enum"]
    goods = schemas["OrderGoodsRequest"]
    assert resolve(goods["properties"]["goodsType"])["enum"] == ["01", "02"]
    assert goods["properties"]["goodsName"]["maxLength"] == 256
    assert resolve(schemas["OrderEnvRequest"]["properties"]["terminalType"])["enum"]
    assert schemas["Order"]["properties"]["totalFee"]["type"] == "string"


def test_every_example_matches_its_schema():
    checked = 0
    for method, path, operation in operations():
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content:
            for example in content.get("examples", {}).values():
                validate(example["value"], content["schema"])
                checked += 1
        for code, answer in operation["responses"].items():
            body = answer.get("content", {}).get("application/json", {})
            for name, example in body.get("examples", {}).items():
                try:
                    validate(example["value"], body["schema"])
                except jsonschema.ValidationError as exc:
                    raise AssertionError(f"{method} {path} {code} {name}: {exc.message}") from exc
                checked += 1
    assert checked > 30


# -- the docs page -------------------------------------------------------------------------------
def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(client):
    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn." not in html
    assert "persistAuthorization" in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        assert f"/static/drf_spectacular_sidecar/swagger-ui-dist/{asset}" in html
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{asset}"), (
            "drf_spectacular_sidecar must be in INSTALLED_APPS"
        )


# -- against the live API --------------------------------------------------------------------------
@pytest.fixture
def no_rate_limits(settings):
    settings.PAYSVC_API_RATE = ""
    settings.PAYSVC_ORDER_CREATE_RATE = ""
    settings.PAYSVC_REFUND_RATE = ""


@pytest.fixture
def raw_key(db):
    _key, raw = api_key_factory(application=ApplicationFactory(name=f"fuzz-{uuid.uuid4().hex}"))
    return raw


def api(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def fresh_id() -> str:
    return uuid.uuid4().hex[:24]


def create_order(client: APIClient, **fields: Any) -> dict[str, Any]:
    body = {**docs.MINIMAL_ORDER_REQUEST, "orderAmount": "25.17", **fields}
    response = client.post("/api/v1/orders", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.mark.live
@pytest.mark.django_db
def test_the_request_examples_are_accepted_by_the_api(raw_key, sandbox, no_rate_limits):
    merchant = api(raw_key)

    for value in request_examples(docs.ORDER_CREATE_EXAMPLES):
        body = copy.deepcopy(value)
        if "merchantTradeNo" in body:
            body["merchantTradeNo"] = fresh_id()
        response = merchant.post("/api/v1/orders", body, format="json")
        assert response.status_code == 201, (body, response.json())
        validate(response.json(), {"$ref": "#/components/schemas/Order"})
    order = create_order(merchant)
    sandbox.pay(order["merchantTradeNo"])
    assert merchant.post(f"/api/v1/orders/{order['merchantTradeNo']}/sync").status_code == 200
    for value in request_examples(docs.REFUND_CREATE_EXAMPLES):
        body = {**value, "refundAmount": "1"}
        if "refundRequestId" in body:
            body["refundRequestId"] = fresh_id()
        url = f"/api/v1/orders/{order['merchantTradeNo']}/refunds"
        response = merchant.post(url, body, format="json")
        assert response.status_code == 202, (body, response.json())
        validate(response.json(), {"$ref": "#/components/schemas/Refund"})
    for value in request_examples(docs.ACCOUNT_SHARE_CREATE_EXAMPLES):
        body = {**value, **({"requestId": fresh_id()} if "requestId" in value else {})}
        response = merchant.post("/api/v1/account-shares", body, format="json")
        assert response.status_code == 201, (body, response.json())
        validate(response.json(), {"$ref": "#/components/schemas/AccountShare"})


class Resources:
    """Real resources that the schema's path examples stand for during the run."""

    def __init__(self, client: APIClient, sandbox: Any) -> None:
        unpaid = create_order(client)
        paid = create_order(client)
        sandbox.pay(paid["merchantTradeNo"])
        assert client.post(f"/api/v1/orders/{paid['merchantTradeNo']}/sync").status_code == 200
        refund_id = fresh_id()
        refund = client.post(
            f"/api/v1/orders/{paid['merchantTradeNo']}/refunds",
            {"refundAmount": "1", "refundRequestId": refund_id},
            format="json",
        )
        assert refund.status_code == 202, refund.json()
        share_id = fresh_id()
        share = client.post(
            "/api/v1/account-shares",
            {"customerRef": "customer-42", "requestId": share_id},
            format="json",
        )
        assert share.status_code == 201, share.json()
        endpoint = client.post(
            "/api/v1/webhook-endpoints",
            {"url": "https://shop.example.com/paysvc/events", "eventTypes": ["*"]},
            format="json",
        )
        assert endpoint.status_code == 201, endpoint.json()
        events = client.get("/api/v1/events", {"type": "order.paid"}).json()["results"]
        self.unpaid = unpaid["merchantTradeNo"]
        self.paid = paid["merchantTradeNo"]
        self.refund = refund_id
        self.share = share_id
        self.endpoint = endpoint.json()["id"]
        self.event = events[0]["id"]

    def substitute(self, case: Any) -> None:
        """Point the documented example ids at real resources (fuzzed ids stay as they are)."""
        params = case.path_parameters or {}
        if params.get("merchant_trade_no") == "9825382937292":
            closing = case.path.endswith("/close")
            params["merchant_trade_no"] = self.unpaid if closing else self.paid
        if params.get("refund_request_id") == "refund20250131A":
            params["refund_request_id"] = self.refund
        if params.get("request_id") == "share20250131A":
            params["request_id"] = self.share
        if params.get("event_id") == "evt_3f0c8a6e2b7d4c1e9a5f6b2d8c4e1a7f":
            params["event_id"] = self.event
        if params.get("endpoint_id") == "we_5b1d0c9a8e7f6d5c4b3a2910":
            params["endpoint_id"] = self.endpoint

    @staticmethod
    def make_ids_unique(case: Any) -> None:
        """A fresh Idempotency-Key and merchantTradeNo for every call that has a valid one.

        The fuzzer repeats short values ("0", "A"); left alone, most order creations would be
        409s for a reused key or trade number (test_apis covers those) instead of orders.
        """
        key = (case.headers or {}).get("Idempotency-Key")
        if isinstance(key, str) and 0 < len(key) <= 255 and key.isprintable():
            case.headers["Idempotency-Key"] = uuid.uuid4().hex
        body = case.body if isinstance(case.body, dict) else {}
        trade_no = body.get("merchantTradeNo")
        valid = isinstance(trade_no, str) and trade_no.isascii() and trade_no.isalnum()
        if valid and len(trade_no) <= 32:
            body["merchantTradeNo"] = uuid.uuid4().hex[: max(12, len(trade_no))]


@contextmanager
def connection_kept_open() -> Iterator[None]:
    """Keep Django from closing the test's database connection around an in-process request.

    The test runs in one transaction on one connection; Django's WSGI handler calls
    close_old_connections when a request starts and ends, which would close it (Django's test
    client disconnects it the same way, and connects it again afterwards).
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


STATS: Counter[str] = Counter()


@pytest.fixture
def fuzz_session(raw_key, sandbox, no_rate_limits) -> Iterator[Resources]:
    """Real resources for the path examples; prints what the API answered (see -s)."""
    fixtures = Resources(api(raw_key), sandbox)
    started = time.monotonic()
    yield fixtures
    print(f"\n{sum(STATS.values())} calls in {time.monotonic() - started:.1f} s: {dict(STATS)}")
    STATS.clear()


@pytest.mark.live
@pytest.mark.django_db
@api_schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_as_its_schema_says(case, raw_key, fuzz_session):
    fuzz_session.substitute(case)
    fuzz_session.make_ids_unique(case)

    with connection_kept_open():
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {raw_key}"}, checks=CHECKS
        )

    STATS[str(response.status_code)] += 1
