"""BinancePayClient against a real HTTP server on 127.0.0.1 standing in for Binance Pay."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import requests

import binance_pay.client as client_module
from binance_pay import (
    ApiError,
    BinancePayClient,
    BinancePayError,
    CallRecord,
    ClientConfig,
    CreateOrderRequest,
    CreateOrderV3Request,
    Env,
    Goods,
    RateLimitError,
    TransportError,
    build_session,
    encode_body,
)
from binance_pay._envelope import parse_retry_after

API_KEY = "a" * 64
SECRET = "simtestsecret0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "binance_pay"
VECTORS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "vectors"
REAL_CERT = json.loads((VECTORS / "real-pay-success-webhook.json").read_text())["certificate"]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def success(data: Any) -> dict[str, Any]:
    return {"status": "SUCCESS", "code": "000000", "data": data, "errorMessage": ""}


@pytest.fixture
def make_client(fake_binance: Any) -> Any:
    clients: list[BinancePayClient] = []

    def make(**kwargs: Any) -> BinancePayClient:
        config_fields = {
            "api_key": API_KEY,
            "secret_key": SECRET,
            "base_url": fake_binance.base_url,
        }
        config_fields.update({k: v for k, v in kwargs.items() if k != "on_call"})
        client = BinancePayClient(ClientConfig(**config_fields), on_call=kwargs.get("on_call"))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Any) -> BinancePayClient:
    return make_client()


def order_request(**overrides: Any) -> CreateOrderRequest:
    fields: dict[str, Any] = {
        "merchant_trade_no": "ORD20231114001",
        "env": Env("WEB"),
        "goods": Goods("02", "Z000", "sku001", "Ice Cream"),
        "order_amount": Decimal("25.17"),
        "currency": "USDT",
    }
    fields.update(overrides)
    return CreateOrderRequest(**fields)


def assert_signed_correctly(recorded: Any) -> None:
    """Recompute the HMAC from the bytes the server received
    (docs/binance-pay.md#request-signing)."""
    headers = recorded.headers
    assert headers["content-type"] == "application/json"
    assert headers["binancepay-certificate-sn"] == API_KEY
    ts, nonce = headers["binancepay-timestamp"], headers["binancepay-nonce"]
    assert re.fullmatch(r"[A-Za-z0-9]{32}", nonce)
    assert re.fullmatch(r"[0-9]{13}", ts)
    assert abs(int(ts) - time.time() * 1000) < 10_000
    payload = f"{ts}\n{nonce}\n".encode() + recorded.body + b"\n"
    expected = hmac.new(SECRET.encode(), payload, hashlib.sha512).hexdigest().upper()
    assert headers["binancepay-signature"] == expected
    assert int(headers["content-length"]) == len(recorded.body)


# -- endpoints: request bytes and result parsing -----------------------------------------------


def test_create_order_sends_signed_exact_bytes(client: BinancePayClient, fake_binance: Any) -> None:
    fake_binance.add_raw(fixture("create_order_crypto.json"))
    request = order_request()

    result = client.create_order(request)

    (recorded,) = fake_binance.requests
    assert (recorded.method, recorded.path) == ("POST", "/binancepay/openapi/v2/order")
    assert recorded.body == encode_body(request.to_dict())
    assert b'"orderAmount":"25.17"' in recorded.body
    assert_signed_correctly(recorded)
    assert recorded.headers["user-agent"] == "paysvc-binance-pay/0.1"
    assert result.prepay_id == "29383937493038367292"
    assert result.total_fee == Decimal("25.17")
    assert result.checkout_url == "https://pay.binance.com/checkout/dplk12121112b"


def test_create_fiat_order(client: BinancePayClient, fake_binance: Any) -> None:
    fake_binance.add_raw(fixture("create_order_fiat.json"))
    request = order_request(
        order_amount=None, currency=None, fiat_amount=Decimal("100"), fiat_currency="HKD"
    )
    result = client.create_order(request)
    assert b'"fiatAmount":"100","fiatCurrency":"HKD"' in fake_binance.requests[0].body
    assert (result.fiat_currency, result.fiat_amount) == ("HKD", Decimal("100"))
    assert result.total_fee == Decimal("12.77377391")


def order_v3_request(**overrides: Any) -> CreateOrderV3Request:
    fields: dict[str, Any] = {
        "merchant_trade_no": "ORD20231114001",
        "env": Env("WEB"),
        "description": "Ice cream order",
        "goods_details": (Goods("02", "Z000", "sku001", "Ice Cream"),),
        "order_amount": Decimal("25.17"),
        "currency": "USDT",
    }
    fields.update(overrides)
    return CreateOrderV3Request(**fields)


def test_create_order_v3_sends_signed_exact_bytes_to_the_v3_path(
    make_client: Any, fake_binance: Any
) -> None:
    # docs/binance-pay-v3.md 5: the v3 answer has the v2 OrderResult shape, so the v2 doc
    # sample stands in for it.
    records: list[CallRecord] = []
    client = make_client(on_call=records.append)
    fake_binance.add_raw(fixture("create_order_crypto.json"))
    request = order_v3_request(qr_code_refer_id="232103202548367360")

    result = client.create_order_v3(request)

    (recorded,) = fake_binance.requests
    assert (recorded.method, recorded.path) == ("POST", "/binancepay/openapi/v3/order")
    assert recorded.body == encode_body(request.to_dict())
    assert b'"description":"Ice cream order","goodsDetails":[{"goodsType":"02"' in recorded.body
    assert b'"goods":' not in recorded.body
    assert_signed_correctly(recorded)
    assert (result.prepay_id, result.total_fee) == ("29383937493038367292", Decimal("25.17"))
    assert result.checkout_url == "https://pay.binance.com/checkout/dplk12121112b"
    (record,) = records
    assert (record.path, record.http_status, record.error) == (
        "/binancepay/openapi/v3/order",
        200,
        None,
    )
    assert record.request_body == recorded.body


def test_create_order_v3_fiat_answer(client: BinancePayClient, fake_binance: Any) -> None:
    fake_binance.add_raw(fixture("create_order_fiat.json"))
    request = order_v3_request(
        order_amount=None, currency=None, fiat_amount=Decimal("100"), fiat_currency="HKD"
    )
    result = client.create_order_v3(request)
    assert b'"fiatAmount":"100","fiatCurrency":"HKD","description"' in fake_binance.requests[0].body
    assert (result.currency, result.total_fee) == ("USDT", Decimal("12.77377391"))
    assert (result.fiat_currency, result.fiat_amount) == ("HKD", Decimal("100"))


def test_create_order_v3_errors_map_like_v2(make_client: Any, fake_binance: Any) -> None:
    records: list[CallRecord] = []
    client = make_client(on_call=records.append, read_timeout=0.2)
    fake_binance.add_json(
        {"status": "FAIL", "code": "400100", "errorMessage": "description: must not be empty"}
    )
    fake_binance.add_raw(b"<html>502 Bad Gateway</html>", status=502)
    fake_binance.add_json(success(True), delay=0.6)
    fake_binance.add_json(success({"prepayId": "1"}))

    with pytest.raises(ApiError) as refused:
        client.create_order_v3(order_v3_request())
    with pytest.raises(TransportError) as bad_gateway:
        client.create_order_v3(order_v3_request())
    with pytest.raises(TransportError, match="timeout"):
        client.create_order_v3(order_v3_request())
    with pytest.raises(TransportError, match="malformed response: missing"):
        client.create_order_v3(order_v3_request())

    assert (refused.value.code, refused.value.name) == (
        "400100",
        "MANDATORY_PARAM_EMPTY_OR_MALFORMED",
    )
    assert refused.value.message == "description: must not be empty"
    assert not refused.value.retryable
    assert bad_gateway.value.status_code == 502
    assert [r.http_status for r in records] == [200, 502, None, 200]
    assert all(isinstance(r.error, BinancePayError) for r in records)
    assert all(r.path == "/binancepay/openapi/v3/order" for r in records)


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({"merchant_trade_no": "9825382937292"}, b'{"merchantTradeNo":"9825382937292"}'),
        ({"prepay_id": "383729303729303"}, b'{"prepayId":"383729303729303"}'),
    ],
)
def test_query_order(
    client: BinancePayClient, fake_binance: Any, kwargs: dict[str, str], body: bytes
) -> None:
    fake_binance.add_raw(fixture("query_order.json"))
    result = client.query_order(**kwargs)
    (recorded,) = fake_binance.requests
    assert (recorded.path, recorded.body) == ("/binancepay/openapi/v2/order/query", body)
    assert_signed_correctly(recorded)
    assert (result.status, result.order_amount) == ("PAID", Decimal("10.88"))


@pytest.mark.parametrize(
    "kwargs", [{}, {"prepay_id": "1", "merchant_trade_no": "2"}, {"prepay_id": ""}]
)
def test_query_and_close_need_exactly_one_id(
    client: BinancePayClient, fake_binance: Any, kwargs: dict[str, str]
) -> None:
    with pytest.raises(ValueError):
        client.query_order(**kwargs)
    with pytest.raises(ValueError):
        client.close_order(**kwargs)
    assert fake_binance.requests == []  # nothing sent


def test_close_order(client: BinancePayClient, fake_binance: Any) -> None:
    fake_binance.add_raw(fixture("close_order.json"))
    assert client.close_order(merchant_trade_no="9825382937292") is True
    (recorded,) = fake_binance.requests
    assert recorded.path == "/binancepay/openapi/order/close"
    assert recorded.body == b'{"merchantTradeNo":"9825382937292"}'


def test_close_order_non_boolean_data_is_malformed(
    client: BinancePayClient, fake_binance: Any
) -> None:
    fake_binance.add_json(success("yes"))
    with pytest.raises(TransportError, match="malformed"):
        client.close_order(prepay_id="1")


def test_refund(client: BinancePayClient, fake_binance: Any) -> None:
    fake_binance.add_raw(fixture("refund.json"))
    result = client.refund(
        refund_request_id="68711039982968832",
        prepay_id="383729303729303",
        refund_amount=Decimal("5.00"),
        refund_reason="customer asked",
    )
    (recorded,) = fake_binance.requests
    assert recorded.path == "/binancepay/openapi/order/refund"
    assert recorded.body == (
        b'{"refundRequestId":"68711039982968832","prepayId":"383729303729303",'
        b'"refundAmount":"5.00","refundReason":"customer asked"}'
    )
    assert_signed_correctly(recorded)
    assert result.refund_id == "244812371292053504"
    assert (result.refund_amount, result.remaining_attempts) == (Decimal("5.00"), 8)
    assert result.duplicate_request is False


@pytest.mark.parametrize("amount", [5.0, Decimal("0"), Decimal("-1"), Decimal("NaN"), "5"])
def test_refund_amount_is_validated_before_sending(
    client: BinancePayClient, fake_binance: Any, amount: Any
) -> None:
    with pytest.raises((TypeError, ValueError)):
        client.refund(refund_request_id="r1", prepay_id="1", refund_amount=amount)
    assert fake_binance.requests == []


def test_query_refund(client: BinancePayClient, fake_binance: Any) -> None:
    fake_binance.add_raw(fixture("refund_query.json"))
    result = client.query_refund(refund_request_id="68711039982968832")
    (recorded,) = fake_binance.requests
    assert recorded.path == "/binancepay/openapi/order/refund/query"
    assert recorded.body == b'{"refundRequestId":"68711039982968832"}'
    assert result.refund_status == "REFUND_SUCCESS"


def test_query_certificates_sends_exactly_empty_object(
    client: BinancePayClient, fake_binance: Any
) -> None:
    fake_binance.add_json(success([REAL_CERT]))
    (certificate,) = client.query_certificates()
    (recorded,) = fake_binance.requests
    assert (recorded.path, recorded.body) == ("/binancepay/openapi/certificates", b"{}")
    assert_signed_correctly(recorded)
    assert certificate.cert_serial == "31BEF298427BE2F0B98DFA3A523D7501"
    assert certificate.serial_matches_public_key


def test_query_certificates_non_list_is_malformed(
    client: BinancePayClient, fake_binance: Any
) -> None:
    fake_binance.add_json(success(REAL_CERT))
    with pytest.raises(TransportError, match="not a list"):
        client.query_certificates()


def test_share_account_id(client: BinancePayClient, fake_binance: Any) -> None:
    fake_binance.add_raw(fixture("share_account.json"))
    result = client.share_account_id(
        request_id="9109c2bd482ef6bccc819c45af104a78",
        webhook_url="https://paysvc.example/webhooks/binance-pay",
    )
    (recorded,) = fake_binance.requests
    assert recorded.path == "/binancepay/openapi/shareinfo/accountId"
    assert recorded.body == (
        b'{"requestId":"9109c2bd482ef6bccc819c45af104a78",'
        b'"webhookUrl":"https://paysvc.example/webhooks/binance-pay"}'
    )
    assert result.id == "219014596974616576"


def test_unknown_fields_are_tolerated(client: BinancePayClient, fake_binance: Any) -> None:
    envelope = json.loads(fixture("query_order.json"))
    envelope["data"]["somethingNew"] = {"deep": [1, 2.5]}
    envelope["traceId"] = "abc"
    fake_binance.add_json(envelope)
    result = client.query_order(prepay_id="1")
    assert result.raw["somethingNew"] == {"deep": [1, Decimal("2.5")]}


def test_low_level_call_returns_data_with_decimals(
    client: BinancePayClient, fake_binance: Any
) -> None:
    fake_binance.add_raw(
        b'{"status":"SUCCESS","code":"000000","data":{"x":1.10,"n":12345678901234567890}}'
    )
    data = client.call("/binancepay/openapi/balance", {"wallet": "FUNDING_WALLET"})
    assert data == {"x": Decimal("1.10"), "n": 12345678901234567890}
    assert fake_binance.requests[0].body == b'{"wallet":"FUNDING_WALLET"}'


# -- failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 400, 401, 403])
def test_fail_envelope_is_api_error_whatever_the_http_status(
    client: BinancePayClient, fake_binance: Any, status: int
) -> None:
    fake_binance.add_json(
        {"status": "FAIL", "code": "400201", "errorMessage": "merchantTradeNo is duplicated"},
        status=status,
    )
    with pytest.raises(ApiError) as caught:
        client.create_order(order_request())
    error = caught.value
    assert (error.code, error.name, error.http_status) == (
        "400201",
        "INVALID_MERCHANT_TRADE_NO",
        status,
    )
    assert error.message == "merchantTradeNo is duplicated"
    assert not error.retryable


def test_unknown_error_is_retryable(client: BinancePayClient, fake_binance: Any) -> None:
    fake_binance.add_json({"status": "FAIL", "code": "400000", "errorMessage": "try later"})
    with pytest.raises(ApiError) as caught:
        client.query_order(prepay_id="1")
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("status", "body", "code", "message"),
    [
        (
            400,
            {
                "status": "ERROR",
                "type": "SYS",
                "code": "100001001",
                "errorData": "System abnormality",
            },
            "100001001",
            "System abnormality",
        ),
        (
            400,
            {"code": "400002", "msg": "Signature for this request is not valid."},
            "400002",
            "Signature for this request is not valid.",
        ),
        (
            200,
            {"code": "400002", "msg": "Signature for this request is not valid."},
            "400002",
            "Signature for this request is not valid.",
        ),
    ],
)
def test_gateway_error_forms_are_api_errors(
    client: BinancePayClient,
    fake_binance: Any,
    status: int,
    body: dict[str, str],
    code: str,
    message: str,
) -> None:
    fake_binance.add_json(body, status=status)
    with pytest.raises(ApiError) as caught:
        client.query_order(prepay_id="1")
    assert (caught.value.code, caught.value.message) == (code, message)


def test_bare_4xx_is_api_error_with_http_code(client: BinancePayClient, fake_binance: Any) -> None:
    # docs/binance-pay.md#response-envelope: wrong path -> CloudFront 403 HTML
    fake_binance.add_raw(
        b"<html><body>The request could not be satisfied.</body></html>", status=403
    )
    with pytest.raises(ApiError) as caught:
        client.query_order(prepay_id="1")
    assert (caught.value.code, caught.value.name, caught.value.http_status) == (
        "HTTP403",
        "UNKNOWN",
        403,
    )


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_transport_errors_and_not_retried(
    client: BinancePayClient, fake_binance: Any, status: int
) -> None:
    fake_binance.add_raw(b"x" * 5000, status=status)
    with pytest.raises(TransportError) as caught:
        client.create_order(order_request())
    assert caught.value.status_code == status
    assert caught.value.body is not None
    assert len(caught.value.body) < 600
    assert not isinstance(caught.value, RateLimitError)
    assert len(fake_binance.requests) == 1  # no automatic retry


def test_5xx_with_fail_envelope_is_still_outcome_unknown(
    client: BinancePayClient, fake_binance: Any
) -> None:
    fake_binance.add_json({"status": "FAIL", "code": "400000", "errorMessage": "x"}, status=500)
    with pytest.raises(TransportError):
        client.create_order(order_request())


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"Retry-After": "0"}, 0.0),
        ({}, None),
        ({"Retry-After": "soon"}, None),
    ],
)
def test_429_is_rate_limit_error(
    client: BinancePayClient, fake_binance: Any, header: dict[str, str], expected: float | None
) -> None:
    fake_binance.add_raw(b"Too Many Requests", status=429, headers=header)
    with pytest.raises(RateLimitError) as caught:
        client.query_order(prepay_id="1")
    assert caught.value.retry_after == expected
    assert caught.value.status_code == 429
    assert isinstance(caught.value, TransportError)


def test_retry_after_http_date() -> None:
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=now) == 30.0
    assert (
        parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now) == 0.0
    )
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-1") is None


@pytest.mark.parametrize(
    "body",
    [
        b"<html>ok</html>",
        b"",
        b"[]",
        b"null",
        b'{"foo":1}',
        b'{"status":"FAIL"}',
        b'{"status":"SUCCESS","status":"FAIL","data":true}',
        b'{"status":"SUCCESS","data":' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"status":"SUCCESS","data":NaN}',
        b"\xff\xfe",
    ],
)
def test_malformed_200_is_transport_error(
    client: BinancePayClient, fake_binance: Any, body: bytes
) -> None:
    fake_binance.add_raw(body)
    with pytest.raises(TransportError, match="malformed"):
        client.close_order(prepay_id="1")


def test_success_missing_required_field_is_outcome_unknown(
    client: BinancePayClient, fake_binance: Any
) -> None:
    envelope = json.loads(fixture("create_order_crypto.json"))
    del envelope["data"]["prepayId"]
    fake_binance.add_json(envelope)
    with pytest.raises(TransportError, match="malformed response: missing prepayId"):
        client.create_order(order_request())


def test_success_on_non_2xx_is_malformed(client: BinancePayClient, fake_binance: Any) -> None:
    fake_binance.add_json(success(True), status=302, headers={"Location": "/elsewhere"})
    with pytest.raises(TransportError, match="malformed"):
        client.close_order(prepay_id="1")
    assert len(fake_binance.requests) == 1  # redirect not followed


def test_read_timeout_is_transport_error(make_client: Any, fake_binance: Any) -> None:
    client = make_client(read_timeout=0.2)
    fake_binance.add_json(success(True), delay=0.6)
    started = time.monotonic()
    with pytest.raises(TransportError, match="timeout") as caught:
        client.close_order(prepay_id="1")
    assert time.monotonic() - started < 0.55
    assert isinstance(caught.value.__cause__, requests.Timeout)
    assert caught.value.status_code is None


def test_connection_refused_is_transport_error(unused_port: int) -> None:
    config = ClientConfig(
        api_key=API_KEY, secret_key=SECRET, base_url=f"http://127.0.0.1:{unused_port}"
    )
    with BinancePayClient(config) as client, pytest.raises(TransportError) as caught:
        client.query_certificates()
    assert isinstance(caught.value.__cause__, requests.ConnectionError)


def test_oversized_response_is_transport_error(
    client: BinancePayClient, fake_binance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_RESPONSE_BYTES", 1000)
    fake_binance.add_raw(b'{"status":"SUCCESS","data":"' + b"x" * 5000 + b'"}')
    with pytest.raises(TransportError, match="too large"):
        client.call("/binancepay/openapi/x", {})


# -- concurrency, observability, configuration ---------------------------------------------------


def test_concurrent_use_from_20_threads(make_client: Any, fake_binance: Any) -> None:
    def echo(recorded: Any) -> Any:
        trade_no = json.loads(recorded.body)["merchantTradeNo"]
        envelope = json.loads(fixture("query_order.json"))
        envelope["data"]["merchantTradeNo"] = trade_no
        return fake_binance.Reply.json(envelope, delay=0.01)

    fake_binance.responder = echo
    client = make_client(pool_maxsize=20)
    barrier = threading.Barrier(20)

    def work(i: int) -> list[str]:
        barrier.wait()
        return [
            client.query_order(merchant_trade_no=f"T{i}N{j}").merchant_trade_no for j in range(5)
        ]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(work, range(20)))

    assert results == [[f"T{i}N{j}" for j in range(5)] for i in range(20)]
    assert len(fake_binance.requests) == 100
    for recorded in fake_binance.requests:
        assert_signed_correctly(recorded)
    assert len({r.headers["binancepay-nonce"] for r in fake_binance.requests}) == 100


def test_on_call_receives_records_without_secrets(make_client: Any, fake_binance: Any) -> None:
    records: list[CallRecord] = []
    client = make_client(on_call=records.append)
    fake_binance.add_raw(fixture("query_order.json"))
    fake_binance.add_json({"status": "FAIL", "code": "400202", "errorMessage": "not found"})

    client.query_order(merchant_trade_no="9825382937292")
    with pytest.raises(ApiError):
        client.query_order(merchant_trade_no="nope")

    ok, failed = records
    assert (ok.path, ok.http_status, ok.error) == ("/binancepay/openapi/v2/order/query", 200, None)
    assert ok.request_body == fake_binance.requests[0].body
    assert ok.response_text is not None
    assert '"PAID"' in ok.response_text
    assert ok.duration_ms > 0
    assert isinstance(failed.error, ApiError)
    assert failed.error.code == "400202"
    for record, recorded in zip(records, fake_binance.requests, strict=True):
        dumped = repr(record) + repr(vars(record))
        assert SECRET not in dumped
        assert recorded.headers["binancepay-signature"] not in dumped
        assert recorded.headers["binancepay-nonce"] not in dumped
        assert API_KEY not in dumped


def test_on_call_sees_transport_errors_and_hook_failures_are_swallowed(
    make_client: Any, fake_binance: Any
) -> None:
    records: list[CallRecord] = []

    def hook(record: CallRecord) -> None:
        records.append(record)
        raise RuntimeError("metrics backend down")

    client = make_client(on_call=hook)
    fake_binance.add_raw(b"oops", status=503)
    fake_binance.add_raw(fixture("close_order.json"))
    with pytest.raises(TransportError):
        client.close_order(prepay_id="1")
    assert client.close_order(prepay_id="1") is True  # the hook's exception did not leak
    assert records[0].http_status == 503
    assert isinstance(records[0].error, TransportError)
    assert records[1].error is None


def test_config_repr_hides_the_secret() -> None:
    config = ClientConfig(api_key=API_KEY, secret_key=SECRET)
    assert SECRET not in repr(config)
    assert SECRET not in str(config)
    assert config.base_url == "https://bpay.binanceapi.com"
    assert (config.connect_timeout, config.read_timeout, config.pool_maxsize) == (3.05, 10.0, 20)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"api_key": ""},
        {"secret_key": ""},
        {"base_url": "ftp://x"},
        {"read_timeout": 0},
        {"pool_maxsize": 0},
    ],
)
def test_config_validation(kwargs: dict[str, Any]) -> None:
    fields: dict[str, Any] = {"api_key": API_KEY, "secret_key": SECRET}
    fields.update(kwargs)
    with pytest.raises(ValueError):
        ClientConfig(**fields)


def test_session_has_no_retries_and_a_sized_pool() -> None:
    config = ClientConfig(api_key=API_KEY, secret_key=SECRET, pool_maxsize=7)
    session = build_session(config)
    adapter = session.get_adapter("https://bpay.binanceapi.com")
    assert adapter.max_retries.total == 0  # type: ignore[attr-defined]
    assert adapter._pool_maxsize == 7  # type: ignore[attr-defined]
    session.close()


def test_session_reads_the_environment_once_with_requests_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Proxy and CA-bundle variables apply as requests applies them, read when the session is
    built (not again on every call)."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    session = build_session(ClientConfig(api_key=API_KEY, secret_key=SECRET))
    assert session.proxies.get("https") == "http://proxy.example:3128"
    assert session.verify == "/etc/ssl/bundle.pem"
    assert session.trust_env is False
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example:3128")
    settings = session.merge_environment_settings(
        "https://bpay.binanceapi.com/x", {}, None, None, None
    )
    assert settings["proxies"].get("https") == "http://proxy.example:3128"
    assert settings["verify"] == "/etc/ssl/bundle.pem"
    session.close()

    monkeypatch.setenv("NO_PROXY", "bpay.binanceapi.com")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    bypassed = build_session(ClientConfig(api_key=API_KEY, secret_key=SECRET))
    assert "https" not in bypassed.proxies
    assert bypassed.verify is True
    bypassed.close()


def test_timeouts_are_passed_on_every_call(fake_binance: Any) -> None:
    seen: list[Any] = []

    class SpySession(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            seen.append((kwargs.get("timeout"), kwargs.get("allow_redirects")))
            return super().request(*args, **kwargs)

    config = ClientConfig(
        api_key=API_KEY,
        secret_key=SECRET,
        base_url=fake_binance.base_url,
        connect_timeout=1.5,
        read_timeout=4.0,
    )
    with SpySession() as session:
        client = BinancePayClient(config, session=session)
        fake_binance.add_raw(fixture("close_order.json"))
        fake_binance.add_raw(fixture("query_order.json"))
        client.close_order(prepay_id="1")
        client.query_order(prepay_id="1")
    assert seen == [((1.5, 4.0), False), ((1.5, 4.0), False)]
