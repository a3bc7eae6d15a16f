"""paysvc/exceptions.py (DRF errors) and paysvc/api_errors.py (Django-level errors): one shape."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from django.test import Client
from django.urls import path
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, Throttled
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from clients.parsers import DecimalJSONParser
from paysvc import api_errors
from paysvc.exceptions import (
    ApiConflict,
    UpstreamError,
    api_exception_handler,
    error_payload,
    error_response_for,
    flatten_errors,
)

factory = APIRequestFactory()

# --- a throwaway API ------------------------------------------------------------------------


class AddressSerializer(serializers.Serializer):
    region = serializers.CharField(max_length=2)
    city = serializers.CharField()


class ShippingSerializer(serializers.Serializer):
    # Binance's field names (camelCase), as the real order serializers will have them.
    shippingAddress = AddressSerializer()


class GoodsSerializer(serializers.Serializer):
    goodsName = serializers.CharField()


class OrderSerializer(serializers.Serializer):
    currency = serializers.ChoiceField(choices=["USDT", "BUSD"])
    orderAmount = serializers.DecimalField(max_digits=20, decimal_places=8)
    goods = GoodsSerializer(many=True)
    shipping = ShippingSerializer(required=False)
    orderTags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)


class OrderProbe(APIView):
    """An open endpoint: these tests are about error bodies, not access control."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    parser_classes = [DecimalJSONParser]

    def get(self, request, case=""):
        errors = {
            "missing": Http404("No Order matches the given query."),
            "conflict": ApiConflict("merchantTradeNo 42 exists already."),
            "throttled": Throttled(wait=7.2),
            "upstream": UpstreamError(
                "Binance Pay did not confirm the order.",
                status_code=503,
                outcome="unknown",
                retrying=True,
                retry_after=30,
            ),
            "service": DjangoValidationError("Application shop is inactive."),
            "unauthenticated": NotAuthenticated(),
            "crash": RuntimeError("psk_live_secret connection string"),
            "database": OperationalError(
                'connection failed: connection to server at "10.0.0.9", port 5432 failed: '
                "Connection refused\n\tIs the server running on that host?"
            ),
            "connection": InterfaceError("connection already closed"),
        }
        if case in errors:
            raise errors[case]
        return Response({"ok": True})

    def post(self, request, case=""):
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"orderAmount": str(serializer.validated_data["orderAmount"])})


def plain_django_crash(request):
    raise RuntimeError("database password is hunter2")


def plain_django_body(request):
    return HttpResponse(len(request.body))


urlpatterns = [
    path("api/v1/probe", OrderProbe.as_view()),
    path("api/v1/probe/<str:case>", OrderProbe.as_view()),
    path("api/v1/plain-crash", plain_django_crash),
    path("api/v1/plain-body", plain_django_body),
    path("site/crash", plain_django_crash),
]
handler400 = api_errors.bad_request
handler403 = api_errors.permission_denied
handler404 = api_errors.page_not_found
handler500 = api_errors.server_error

urls = pytest.mark.urls(__name__)


@pytest.fixture
def api():
    # Errors are answered, not raised into the test, as in production.
    return Client(raise_request_exception=False)


def error_of(response):
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# --- wiring ---------------------------------------------------------------------------------


def test_the_handler_is_drf_exception_handler():
    assert api_settings.EXCEPTION_HANDLER is api_exception_handler


# --- DRF errors -----------------------------------------------------------------------------


@urls
def test_nested_validation_errors_are_flattened_to_dotted_paths(api):
    body = {
        "currency": "EUR",
        "orderAmount": "abc",
        "goods": [{"goodsName": "tea"}, {}],
        "shipping": {"shippingAddress": {"region": "TOOLONG", "city": "Paris"}},
        "orderTags": ["ok", "too-long"],
    }

    response = api.post("/api/v1/probe", body, content_type="application/json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {
        "currency",
        "orderAmount",
        "goods.1.goodsName",
        "shipping.shippingAddress.region",
        "orderTags.1",
    }
    assert all(isinstance(m, str) for ms in error["fields"].values() for m in ms)
    assert "goods.1.goodsName" in error["message"]


@urls
def test_a_service_validation_error_is_a_400(api):
    response = api.get("/api/v1/probe/service")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["fields"] == {"non_field_errors": ["Application shop is inactive."]}
    assert error["message"] == "Application shop is inactive."


@urls
def test_http404_is_not_found_without_naming_the_model(api):
    response = api.get("/api/v1/probe/missing")

    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "not_found"
    assert "Order" not in error["message"]


@urls
def test_wrong_method_is_405(api):
    response = api.delete("/api/v1/probe")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


@urls
def test_unsupported_content_type_is_415(api):
    response = api.post("/api/v1/probe", "currency=USDT", content_type="text/plain")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


@urls
@pytest.mark.parametrize(
    "body", ['{"currency": ', '{"currency": "USDT", "currency": "BUSD"}', '{"a": NaN}']
)
def test_bad_json_is_400_parse_error(api, body):
    response = api.post("/api/v1/probe", body, content_type="application/json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "parse_error"
    assert "fields" not in error


@urls
def test_duplicate_keys_are_named_in_the_parse_error(api):
    body = '{"orderAmount": "1", "orderAmount": "100"}'

    response = api.post("/api/v1/probe", body, content_type="application/json")

    assert "orderAmount" in error_of(response)["message"]


@urls
def test_decimal_amounts_survive_the_round_trip_exactly(api):
    body = '{"currency": "USDT", "orderAmount": 0.1, "goods": [{"goodsName": "tea"}]}'

    response = api.post("/api/v1/probe", body, content_type="application/json")

    assert response.status_code == 200
    assert Decimal(response.json()["orderAmount"]) == Decimal("0.1")


@urls
def test_throttled_is_429_with_retry_after(api):
    response = api.get("/api/v1/probe/throttled")

    assert response.status_code == 429
    assert response["Retry-After"] == "8"
    error = error_of(response)
    assert error["code"] == "throttled"
    assert error["retryAfter"] == 8


@urls
def test_conflict_is_409(api):
    response = api.get("/api/v1/probe/conflict")

    assert response.status_code == 409
    error = error_of(response)
    assert error == {"code": "conflict", "message": "merchantTradeNo 42 exists already."}


@urls
def test_upstream_error_says_whether_the_outcome_is_known(api):
    response = api.get("/api/v1/probe/upstream")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert error_of(response) == {
        "code": "upstream_unavailable",
        "message": "Binance Pay did not confirm the order.",
        "outcome": "unknown",
        "retrying": True,
        "retryAfter": 30,
    }


@urls
def test_not_authenticated_keeps_the_shape(api):
    response = api.get("/api/v1/probe/unauthenticated")

    assert response.status_code in (401, 403)  # 403: this probe has no authenticator to name
    assert error_of(response)["code"] == "not_authenticated"


@urls
def test_an_unhandled_exception_in_an_api_view_is_a_bare_500(api):
    response = api.get("/api/v1/probe/crash")

    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "server_error"
    assert "psk_live" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()


@urls
@pytest.mark.parametrize("case", ["database", "connection"])
def test_a_database_that_cannot_be_reached_is_503_with_retry_after(api, case, caplog):
    with caplog.at_level("ERROR", logger="paysvc.exceptions"):
        response = api.get(f"/api/v1/probe/{case}")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    error = error_of(response)
    assert error["code"] == "database_unavailable"
    assert error["retryAfter"] == 5
    assert "10.0.0.9" not in response.content.decode()  # the driver's message stays in the log
    assert [r.getMessage() for r in caplog.records if r.name == "paysvc.exceptions"] == [
        "database unavailable: "
        + (
            'connection failed: connection to server at "10.0.0.9", port 5432 failed: '
            "Connection refused"
            if case == "database"
            else "connection already closed"
        )
    ]


def test_a_database_error_is_not_a_replayable_answer():
    """An idempotent create stores what `error_response_for` gives: never the outage."""
    request = factory.post("/api/v1/orders")

    assert error_response_for(OperationalError("server closed"), {"request": request}) is None


# --- Django-level errors under /api/ --------------------------------------------------------


@urls
def test_unknown_api_url_is_json_404(api):
    response = api.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error_of(response) == {"code": "not_found", "message": "Not found."}


@urls
def test_a_crash_in_a_plain_django_view_under_api_is_json_500_without_details(api):
    response = api.get("/api/v1/plain-crash")

    assert response.status_code == 500
    assert error_of(response)["code"] == "server_error"
    assert "hunter2" not in response.content.decode()


@urls
def test_an_oversized_body_outside_drf_is_json_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10

    response = api.post("/api/v1/plain-body", "x" * 100, content_type="application/octet-stream")

    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


@urls
def test_an_oversized_json_body_in_a_drf_view_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10

    response = api.post("/api/v1/probe", json.dumps({"goods": "x" * 100}), "application/json")

    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


@urls
def test_errors_outside_api_paths_keep_django_pages(api):
    not_found = api.get("/site/no-such-page")
    crash = api.get("/site/crash")

    assert not_found.status_code == 404
    assert "application/json" not in not_found["Content-Type"]
    assert crash.status_code == 500
    assert "application/json" not in crash["Content-Type"]


# --- the pieces -----------------------------------------------------------------------------


def test_flatten_errors():
    detail = {
        "goods": [{}, {"goodsName": ["required"], "non_field_errors": ["bad item"]}],
        "orderTags": {0: ["too long"]},
        "buyer": {"buyerName": {"firstName": ["blank"]}},
        "currency": ["invalid", "unsupported"],
        "non_field_errors": ["amount and fiatAmount are exclusive"],
    }

    assert flatten_errors(detail) == {
        "goods.1.goodsName": ["required"],
        "goods.1.non_field_errors": ["bad item"],
        "orderTags.0": ["too long"],
        "buyer.buyerName.firstName": ["blank"],
        "currency": ["invalid", "unsupported"],
        "non_field_errors": ["amount and fiatAmount are exclusive"],
    }


def test_a_top_level_list_of_errors_is_non_field():
    payload = error_payload(DrfValidationError(["first", "second"]))

    assert payload["error"]["fields"] == {"non_field_errors": ["first", "second"]}
    assert payload["error"]["message"] == "first"


def test_a_long_list_of_bad_fields_is_summarised():
    payload = error_payload(DrfValidationError({f"f{i}": ["bad"] for i in range(8)}))

    assert payload["error"]["message"] == "Invalid input in f0, f1, f2, f3, f4 and 3 more."


@pytest.mark.parametrize(
    ("status", "code"),
    [(502, "upstream_error"), (503, "upstream_unavailable"), (504, "upstream_timeout")],
)
def test_upstream_error_codes(status, code):
    exc = UpstreamError(status_code=status, outcome="failed", retrying=False)

    payload = error_payload(exc)["error"]

    assert exc.status_code == status
    assert payload["code"] == code
    assert payload["outcome"] == "failed"
    assert payload["retrying"] is False
    assert payload["message"]
    assert "retryAfter" not in payload


@pytest.mark.parametrize(
    "kwargs",
    [{"status_code": 500, "outcome": "unknown"}, {"status_code": 502, "outcome": "maybe"}],
)
def test_upstream_error_refuses_other_statuses_and_outcomes(kwargs):
    with pytest.raises(ValueError):
        UpstreamError(retrying=False, **kwargs)


def test_non_api_exceptions_are_left_to_django():
    request = factory.get("/api/v1/probe")

    assert api_exception_handler(RuntimeError("boom"), {"request": request}) is None


def test_upstream_error_passes_on_binance_error_code():
    exc = UpstreamError(
        "Binance refused the order.", outcome="failed", retrying=False, binance_code=400201
    )

    assert error_payload(exc)["error"]["binanceCode"] == "400201"


def test_error_response_for_gives_the_response_without_raising():
    request = factory.post("/api/v1/orders")

    response = error_response_for(ApiConflict("Idempotency-Key reused."), {"request": request})

    assert response.status_code == 409
    assert response.data == {"error": {"code": "conflict", "message": "Idempotency-Key reused."}}
    assert error_response_for(KeyError("x"), {"request": request}) is None
