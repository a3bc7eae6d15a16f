"""Request signing (docs/binance-pay.md#request-headers, docs/binance-pay.md#nonce,
docs/binance-pay.md#timestamp-window, docs/binance-pay.md#request-signing,
docs/binance-pay.md#signing-example) and body encoding."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binance_pay import encode_body, make_nonce, now_ms, sign_payload, signed_headers

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "vectors"
SIGNING = json.loads((VECTORS / "request-signing.json").read_text(encoding="utf-8"))
SECRET, TS, NONCE = SIGNING["apiSecret"], SIGNING["timestamp"], SIGNING["nonce"]
COMPACT_BODY = SIGNING["cases"][0]["body"].encode("utf-8")
UPPER_HEX_128 = re.compile(r"[0-9A-F]{128}")
ALNUM_32 = re.compile(r"[A-Za-z0-9]{32}")


def reference_hmac(secret: bytes, ts: bytes, nonce: bytes, body: bytes) -> str:
    """Independent restatement of docs/binance-pay.md#request-signing, on raw bytes."""
    payload = ts + b"\n" + nonce + b"\n" + body + b"\n"
    return hmac.new(secret, payload, hashlib.sha512).hexdigest().upper()


@pytest.mark.parametrize("case", SIGNING["cases"], ids=lambda c: c["name"])
def test_every_vector_case_reproduces(case: dict[str, Any]) -> None:
    # given the vector inputs / when signed / then the published signature comes out
    assert sign_payload(SECRET, TS, NONCE, case["body"].encode("utf-8")) == case["signature"]


@pytest.mark.parametrize("case", SIGNING["cases"], ids=lambda c: c["name"])
def test_int_timestamp_and_headers_match_vector(case: dict[str, Any]) -> None:
    body = case["body"].encode("utf-8")
    assert sign_payload(SECRET, int(TS), NONCE, body) == case["signature"]
    headers = signed_headers(
        api_key="k" * 64, secret=SECRET, body=body, timestamp=int(TS), nonce=NONCE
    )
    assert headers == {
        "Content-Type": "application/json",
        "BinancePay-Timestamp": TS,
        "BinancePay-Nonce": NONCE,
        "BinancePay-Certificate-SN": "k" * 64,
        "BinancePay-Signature": case["signature"],
    }


def _flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]


def test_flipping_any_byte_of_any_input_changes_the_signature() -> None:
    base = sign_payload(SECRET, TS, NONCE, COMPACT_BODY)
    secret_b, ts_b, nonce_b = SECRET.encode(), TS.encode(), NONCE.encode()
    seen: set[str] = {base}
    count = 0
    for index in range(len(COMPACT_BODY)):
        for bit in range(8):
            body = _flip(COMPACT_BODY, index, 1 << bit)
            seen.add(sign_payload(SECRET, TS, NONCE, body))
            count += 1
    for name, value in (("ts", ts_b), ("nonce", nonce_b), ("secret", secret_b)):
        for index in range(len(value)):
            mutated = _flip(value, index).decode("ascii")
            args = {"ts": TS, "nonce": NONCE, "secret": SECRET, name: mutated}
            seen.add(sign_payload(args["secret"], args["ts"], args["nonce"], COMPACT_BODY))
            count += 1
    assert len(seen) == count + 1  # every mutation gave a new, distinct signature


def test_trailing_lf_is_part_of_the_signed_string() -> None:
    # docs/binance-pay.md#request-signing: exactly three LFs, the last one after the body is
    # mandatory
    without_lf = hmac.new(
        SECRET.encode(), f"{TS}\n{NONCE}\n".encode() + COMPACT_BODY, hashlib.sha512
    ).hexdigest()
    assert sign_payload(SECRET, TS, NONCE, COMPACT_BODY) != without_lf.upper()


def test_body_must_be_bytes() -> None:
    with pytest.raises(TypeError):
        sign_payload(SECRET, TS, NONCE, COMPACT_BODY.decode())  # type: ignore[arg-type]


@settings(max_examples=300)
@given(
    secret=st.text(min_size=1, max_size=80),
    ts=st.integers(min_value=0, max_value=2**63 - 1),
    nonce=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
    body=st.binary(max_size=300),
)
def test_signature_is_upper_hex_and_matches_independent_hmac(
    secret: str, ts: int, nonce: str, body: bytes
) -> None:
    signature = sign_payload(secret, ts, nonce, body)
    assert UPPER_HEX_128.fullmatch(signature)  # lower case is never produced
    assert signature == reference_hmac(secret.encode(), str(ts).encode(), nonce.encode(), body)


@settings(max_examples=500)
@given(st.integers())
def test_nonce_is_32_alphanumerics(_: int) -> None:
    assert ALNUM_32.fullmatch(make_nonce())


def test_nonces_are_unique_and_use_the_whole_alphabet() -> None:
    nonces = {make_nonce() for _ in range(5000)}
    assert len(nonces) == 5000
    assert set("".join(nonces)) == set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    )


def test_now_ms_is_milliseconds() -> None:
    # docs/binance-pay.md#timestamp-window: milliseconds, 13 digits today
    value = now_ms()
    assert len(str(value)) == 13
    assert abs(value - time.time() * 1000) < 5000


def test_signed_headers_defaults_are_fresh() -> None:
    body = b"{}"
    first = signed_headers(api_key="key", secret=SECRET, body=body)
    second = signed_headers(api_key="key", secret=SECRET, body=body)
    assert ALNUM_32.fullmatch(first["BinancePay-Nonce"])
    assert first["BinancePay-Nonce"] != second["BinancePay-Nonce"]
    assert abs(int(first["BinancePay-Timestamp"]) - now_ms()) < 5000
    assert first["BinancePay-Certificate-SN"] == "key"
    assert first["BinancePay-Signature"] == sign_payload(
        SECRET, first["BinancePay-Timestamp"], first["BinancePay-Nonce"], body
    )


# -- encode_body -------------------------------------------------------------------------


def test_encode_body_matches_vector_bytes() -> None:
    obj = json.loads(COMPACT_BODY)
    assert encode_body(obj) == COMPACT_BODY
    assert encode_body({}) == b"{}"  # docs/binance-pay.md#transport: Query Certificates sends "{}"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("25.17"), "25.17"),
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("1.0E-7"), "0.00000010"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0.10"), "0.10"),
        (Decimal("-3.5"), "-3.5"),
        (Decimal("12345678901234567890.12345678"), "12345678901234567890.12345678"),
    ],
)
def test_encode_body_decimals_are_plain_strings(value: Decimal, text: str) -> None:
    assert encode_body({"a": value, "b": [value]}) == f'{{"a":"{text}","b":["{text}"]}}'.encode()


def test_encode_body_is_compact_utf8_and_keeps_key_order() -> None:
    body = encode_body({"z": "é😀", "a": {"y": 1, "b": True, "n": None}})
    assert body == '{"z":"é😀","a":{"y":1,"b":true,"n":null}}'.encode()


@pytest.mark.parametrize(
    ("obj", "error"),
    [
        ({"amount": 0.1}, TypeError),
        ({"amount": [1.5]}, TypeError),
        ({"amount": Decimal("NaN")}, ValueError),
        ({"amount": Decimal("Infinity")}, ValueError),
        ({"amount": Decimal("1E+999999999")}, ValueError),
        ({1: "x"}, TypeError),
        ({"when": object()}, TypeError),
    ],
)
def test_encode_body_refuses_floats_and_unencodable(obj: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        encode_body(obj)


@settings(max_examples=300)
@given(
    st.decimals(allow_nan=False, allow_infinity=False).filter(
        lambda d: abs(int(d.as_tuple().exponent)) <= 100
    )
)
def test_encoded_decimals_round_trip_exactly_without_exponent(value: Decimal) -> None:
    text = json.loads(encode_body({"v": value}))["v"]
    assert "e" not in text.lower()
    assert Decimal(text) == value
