"""clients/parsers.py"""

import io
import json
from decimal import Decimal

import pytest
from rest_framework.exceptions import ParseError
from rest_framework.test import APIRequestFactory

from clients.parsers import MAX_DEPTH, DecimalJSONParser
from paysvc.exceptions import PayloadTooLarge
from tests.clients.views import ProbeView
from tests.factories import api_key_factory


def parse(body: bytes | str, **context):
    raw = body.encode() if isinstance(body, str) else body
    return DecimalJSONParser().parse(io.BytesIO(raw), "application/json", context)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_fractions_become_exact_decimals_and_integers_stay_ints():
    data = parse('{"orderAmount": 0.1, "fee": 1e-8, "big": 12345678901234567890.12, "n": 3}')

    assert data["orderAmount"] == Decimal("0.1")
    assert isinstance(data["orderAmount"], Decimal)
    assert data["fee"] == Decimal("1E-8")
    assert data["big"] == Decimal("12345678901234567890.12")
    assert data["n"] == 3 and isinstance(data["n"], int)


@pytest.mark.parametrize(
    "body",
    ['{"a": 1, "a": 2}', '{"x": {"currency": "USDT", "currency": "BUSD"}}', '[{"k":1,"k":1}]'],
)
def test_duplicate_keys_are_refused(body):
    with pytest.raises(ParseError, match="duplicate key"):
        parse(body)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(constant):
    with pytest.raises(ParseError):
        parse(f'{{"orderAmount": {constant}}}')


def test_nesting_up_to_the_limit_is_accepted_and_deeper_is_refused():
    assert parse(nested(MAX_DEPTH)) is not None
    assert parse('{"a":' * (MAX_DEPTH - 1) + "[]" + "}" * (MAX_DEPTH - 1)) is not None

    with pytest.raises(ParseError, match="nested deeper"):
        parse(nested(MAX_DEPTH + 1))
    with pytest.raises(ParseError, match="nested deeper"):
        parse('{"a":' * MAX_DEPTH + "[]" + "}" * MAX_DEPTH)


def test_pathologically_deep_nesting_is_a_parse_error_not_a_crash():
    with pytest.raises(ParseError):
        parse(nested(200_000))


@pytest.mark.parametrize(
    "body", [b"{", b"", b"{'a': 1}", b'{"a": "\xff"}', b"1" * 5000, b'{"a": 1} trailing']
)
def test_invalid_bodies_are_parse_errors(body):
    with pytest.raises(ParseError):
        parse(body)


def test_a_body_over_the_size_cap_is_refused(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps({"goodsDetail": "x" * 200})

    with pytest.raises(PayloadTooLarge):
        parse(body)
    assert parse(json.dumps({"goodsDetail": "x" * 50}))["goodsDetail"] == "x" * 50


def test_a_declared_oversized_body_is_refused_before_reading(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    class Unreadable:
        def read(self, *args):
            raise AssertionError("the body was read")

    class Request:
        META = {"CONTENT_LENGTH": "5000"}

    with pytest.raises(PayloadTooLarge):
        DecimalJSONParser().parse(Unreadable(), "application/json", {"request": Request()})


@pytest.mark.django_db
def test_an_oversized_body_is_413_payload_too_large_through_a_view(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    _, raw_key = api_key_factory()
    request = APIRequestFactory().post(
        "/api/v1/probe",
        json.dumps({"goodsDetail": "x" * 200}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw_key}",
    )

    response = ProbeView.as_view()(request)

    assert response.status_code == 413
    assert response.data["error"]["code"] == "payload_too_large"
