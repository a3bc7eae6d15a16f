"""Request authentication and gateway behaviour (docs/binance-pay.md#request-headers,
docs/binance-pay.md#nonce, docs/binance-pay.md#timestamp-window,
docs/binance-pay.md#request-signing, docs/binance-pay.md#signing-example,
docs/binance-pay.md#response-envelope, docs/binance-pay.md#result-codes,
docs/binance-pay.md#sandbox-choices), in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.app import create_app
from sandbox.config import SandboxConfig

from .conftest import API_KEY, FIXTURES, SECRET, FakeClock, InProcess, order_payload, signed_headers

VECTORS = FIXTURES / "request-signing.json"
CREATE = "/binancepay/openapi/v2/order"


def post(sbx: InProcess, body: str, headers: dict[str, str], path: str = CREATE):
    return sbx.client.post(path, data=body.encode(), headers=headers)


def test_python_connector_style_body_with_spaces_is_accepted(sbx: InProcess) -> None:
    data = sbx.ok("/v2/order", order_payload())
    assert data["currency"] == "USDT"


def test_compact_body_and_charset_suffix_are_accepted(sbx: InProcess) -> None:
    body = json.dumps(order_payload(), separators=(",", ":"))
    headers = signed_headers(
        body, ts=str(sbx.clock.now), content_type="application/json;charset=utf-8"
    )
    answer = post(sbx, body, headers).get_json()
    assert answer["status"] == "SUCCESS", answer


@pytest.mark.parametrize(
    "header",
    [
        "BinancePay-Timestamp",
        "BinancePay-Nonce",
        "BinancePay-Certificate-SN",
        "BinancePay-Signature",
    ],
)
@pytest.mark.parametrize("empty", [False, True])
def test_missing_or_empty_header_is_named(sbx: InProcess, header: str, empty: bool) -> None:
    body = json.dumps(order_payload())
    headers = signed_headers(body, ts=str(sbx.clock.now))
    if empty:
        headers[header] = ""
    else:
        del headers[header]
    answer = post(sbx, body, headers).get_json()
    assert answer["code"] == "400100"
    assert header in answer["errorMessage"]


def test_unknown_api_key_is_400004(sbx: InProcess) -> None:
    sbx.fail("/v2/order", order_payload(), "400004", key="x" * 64)


@pytest.mark.parametrize("offset", [-6000, 6000])
def test_stale_and_future_timestamps_are_400003(sbx: InProcess, offset: int) -> None:
    msg = sbx.fail("/v2/order", order_payload(), "400003", ts=str(sbx.clock.now + offset))
    assert msg == "Timestamp for this request is outside of the recvWindow."


def test_timestamp_inside_window_is_accepted(sbx: InProcess) -> None:
    sbx.ok("/v2/order", order_payload(), ts=str(sbx.clock.now - 4900))


def test_seconds_timestamp_is_400003(sbx: InProcess) -> None:
    sbx.fail("/v2/order", order_payload(), "400003", ts=str(sbx.clock.now // 1000))


def test_non_numeric_timestamp_is_rejected(sbx: InProcess) -> None:
    sbx.fail("/v2/order", order_payload(), "400001", ts="17e11")


@pytest.mark.parametrize("nonce", ["short", "x" * 33, "-" * 32, "ä" * 32])
def test_bad_nonce_is_400001(sbx: InProcess, nonce: str) -> None:
    body = json.dumps(order_payload())
    headers = signed_headers(body, ts=str(sbx.clock.now), nonce="n" * 32)
    headers["BinancePay-Nonce"] = nonce
    answer = post(sbx, body, {k: v.encode().decode("latin-1") for k, v in headers.items()})
    assert answer.get_json()["code"] == "400001"


def test_flipped_body_byte_is_400002(sbx: InProcess) -> None:
    body = json.dumps(order_payload())
    headers = signed_headers(body, ts=str(sbx.clock.now))
    answer = post(sbx, body.replace("25.17", "25.18"), headers).get_json()
    assert answer == {
        "status": "FAIL",
        "code": "400002",
        "errorMessage": "Signature for this request is not valid.",
    }


def test_wrong_secret_is_400002(sbx: InProcess) -> None:
    sbx.fail("/v2/order", order_payload(), "400002", secret=SECRET + "x")


def test_lower_case_signature_is_400002(sbx: InProcess) -> None:
    body = json.dumps(order_payload())
    headers = signed_headers(body, ts=str(sbx.clock.now))
    headers["BinancePay-Signature"] = headers["BinancePay-Signature"].lower()
    assert post(sbx, body, headers).get_json()["code"] == "400002"


def test_missing_trailing_newline_signature_is_400002(sbx: InProcess) -> None:
    import hashlib
    import hmac

    body = json.dumps(order_payload())
    headers = signed_headers(body, ts=str(sbx.clock.now), nonce="A" * 32)
    payload = f"{sbx.clock.now}\n{'A' * 32}\n{body}"
    headers["BinancePay-Signature"] = (
        hmac.new(SECRET.encode(), payload.encode(), hashlib.sha512).hexdigest().upper()
    )
    assert post(sbx, body, headers).get_json()["code"] == "400002"


@pytest.mark.parametrize(
    "raw", ["[1, 2]", '"text"', "42", "null", "{not json", "{'a': 1}", '{"a": NaN}']
)
def test_body_that_is_not_a_json_object_is_400008(sbx: InProcess, raw: str) -> None:
    sbx.fail("/v2/order", None, "400008", raw=raw)


def test_nonce_reuse_is_rejected(sbx: InProcess) -> None:
    nonce = "R" * 32
    sbx.ok("/v2/order", order_payload(), nonce=nonce)
    sbx.fail("/v2/order", order_payload(), "400001", "already used", nonce=nonce)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type_is_the_gateway_sys_error(sbx: InProcess, content_type: str) -> None:
    body = json.dumps(order_payload())
    headers = signed_headers(body, ts=str(sbx.clock.now), content_type=content_type)
    if not content_type:
        del headers["Content-Type"]
    answer = post(sbx, body, headers).get_json()
    assert answer == {
        "status": "ERROR",
        "type": "SYS",
        "code": "100001001",
        "errorData": "System abnormality",
    }


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_is_the_gateway_sys_error(sbx: InProcess, method: str) -> None:
    resp = sbx.client.open(CREATE, method=method)
    assert resp.get_json()["code"] == "100001001"


def test_empty_body_is_the_gateway_sys_error(sbx: InProcess) -> None:
    resp = post(sbx, "", signed_headers("", ts=str(sbx.clock.now)))
    assert resp.get_json()["type"] == "SYS"


def test_unknown_path_is_a_cloudfront_403(sbx: InProcess) -> None:
    resp = post(sbx, "{}", signed_headers("{}"), path="/binancepay/openapi/v9/order")
    assert resp.status_code == 403
    assert "The request could not be satisfied" in resp.get_data(as_text=True)
    assert resp.headers["Server"] == "CloudFront"


def test_body_over_one_megabyte_is_400104(sbx: InProcess) -> None:
    body = json.dumps(order_payload(passThroughInfo="x" * (1024 * 1024)))
    answer = post(sbx, body, signed_headers(body, ts=str(sbx.clock.now))).get_json()
    assert answer["code"] == "400104"


def test_signing_vectors_are_accepted_with_the_vector_clock(
    tmp_path: Path, small_key_pem: bytes
) -> None:
    vectors = json.loads(VECTORS.read_text())
    cfg = SandboxConfig(
        db_path=str(tmp_path / "v.sqlite3"),
        api_key=API_KEY,
        secret_key=vectors["apiSecret"],
        rsa_key_pem=small_key_pem,
        run_dispatcher=False,
        clock=FakeClock(1_700_000_000_000),
    )
    app = create_app(cfg)
    try:
        sbx = InProcess(app, FakeClock())
        for case in vectors["cases"]:
            sbx.app.ctx.store.reset()  # the vectors share one nonce and one merchantTradeNo
            path = (
                CREATE
                if case["name"] != "certificates-empty-body"
                else ("/binancepay/openapi/certificates")
            )
            headers = {
                "Content-Type": "application/json",
                "BinancePay-Timestamp": vectors["timestamp"],
                "BinancePay-Nonce": vectors["nonce"],
                "BinancePay-Certificate-SN": API_KEY,
                "BinancePay-Signature": case["signature"],
            }
            answer = post(sbx, case["body"], headers, path=path).get_json()
            assert answer["status"] == "SUCCESS", (case["name"], answer)
    finally:
        app.close()
