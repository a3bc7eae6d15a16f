"""Webhook signature verification (docs/binance-pay.md#webhook-headers,
docs/binance-pay.md#webhook-signature, docs/binance-pay.md#gotcha-raw-bytes,
docs/binance-pay.md#gotcha-big-bizid, docs/binance-pay.md#gotcha-trailing-lf,
docs/binance-pay.md#gotcha-rsa-not-hmac) and notification parsing
(docs/binance-pay.md#webhook-envelope, docs/binance-pay.md#biztype-and-bizstatus,
docs/binance-pay.md#pay-data, docs/binance-pay.md#refund-data,
docs/binance-pay.md#share-account-data, docs/binance-pay.md#other-notifications)."""

from __future__ import annotations

import base64
import json
import os
import time
from decimal import Decimal
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from binance_pay import (
    MalformedNotification,
    SignatureError,
    cert_serial,
    load_public_key,
    parse_notification,
    signature_payload,
    verify_signature,
    verify_with_certificates,
)
from binance_pay._json import exceeds_depth

PROPERTY_EXAMPLES = int(os.environ.get("BINANCE_PAY_PROPERTY_EXAMPLES", "3000"))


def verify(vector: dict[str, Any], **changes: Any) -> None:
    """verify_signature with the real vector's values, some of them replaced."""
    args = {
        "public_key_pem": vector["pem"],
        "timestamp": vector["ts"],
        "nonce": vector["nonce"],
        "body": vector["body"],
        "signature": vector["sig"],
    }
    args.update(changes)
    verify_signature(**args)


def raw_verify(pem: str, signature_b64: str, payload: bytes) -> bool:
    """Check a signature over an arbitrary payload with cryptography directly (test oracle)."""
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(base64.b64decode(signature_b64), payload, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


# -- the real production vector ----------------------------------------------------------


def test_real_webhook_verifies(real_webhook: dict[str, Any]) -> None:
    assert verify(real_webhook) is None


def test_real_certificate_serial_is_md5_of_pem(real_webhook: dict[str, Any]) -> None:
    # docs/binance-pay.md#query-certificates: certSerial == upper-hex MD5 of certPublic ==
    # BinancePay-Certificate-SN
    assert cert_serial(real_webhook["pem"]) == real_webhook["serial"]
    assert real_webhook["serial"] == real_webhook["header_serial"]
    assert cert_serial(real_webhook["pem"] + "\n") != real_webhook["serial"]


def test_real_key_is_rsa_4096_and_parsed_once(real_webhook: dict[str, Any]) -> None:
    key = load_public_key(real_webhook["pem"])
    assert key.key_size == 4096
    before = load_public_key.cache_info().hits
    assert load_public_key(real_webhook["pem"]) is key
    assert load_public_key.cache_info().hits == before + 1


def test_verify_with_certificates_picks_key_by_serial(real_webhook: dict[str, Any]) -> None:
    certificates = {real_webhook["serial"]: real_webhook["pem"]}
    verify_with_certificates(
        certificates=certificates,
        serial=real_webhook["header_serial"],
        timestamp=real_webhook["ts"],
        nonce=real_webhook["nonce"],
        body=real_webhook["body"],
        signature=real_webhook["sig"],
    )


def test_oracle_agrees_the_trailing_lf_and_lf_separators_matter(
    real_webhook: dict[str, Any],
) -> None:
    ts, nonce, body, sig = (real_webhook[k] for k in ("ts", "nonce", "body", "sig"))
    pem = real_webhook["pem"]
    assert raw_verify(pem, sig, signature_payload(ts, nonce, body))
    # docs/binance-pay.md#webhook-signature: without the trailing LF it fails
    assert not raw_verify(pem, sig, f"{ts}\n{nonce}\n".encode() + body)
    # \n -> \r\n in the signed string fails
    assert not raw_verify(pem, sig, f"{ts}\r\n{nonce}\r\n".encode() + body + b"\r\n")


# -- mutation catalogue against the real key: every entry must be rejected -----------------


def test_every_single_bit_flip_of_the_body_is_rejected(real_webhook: dict[str, Any]) -> None:
    body = real_webhook["body"]
    assert len(body) == 594
    accepted = []
    for index in range(len(body)):
        mutated = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
        try:
            verify(real_webhook, body=mutated)
        except SignatureError as exc:
            assert exc.reason == "bad_signature"
        else:
            accepted.append(index)
    assert accepted == []


def _reserialised(body: bytes, **dumps: Any) -> bytes:
    return json.dumps(json.loads(body), **dumps).encode()


def _catalogue(vector: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    ts, nonce, body, sig = (vector[k] for k in ("ts", "nonce", "body", "sig"))
    raw = base64.b64decode(sig)
    return [
        ("ts+1", {"timestamp": str(int(ts) + 1)}, "bad_signature"),
        ("ts-1", {"timestamp": str(int(ts) - 1)}, "bad_signature"),
        ("ts in seconds", {"timestamp": ts[:10]}, "bad_signature"),
        ("ts with leading zero", {"timestamp": "0" + ts}, "bad_signature"),
        ("ts with LF", {"timestamp": ts + "\n"}, "bad_timestamp"),
        ("ts empty", {"timestamp": ""}, "bad_timestamp"),
        ("ts negative", {"timestamp": "-" + ts}, "bad_timestamp"),
        ("nonce one char", {"nonce": "X" + nonce[1:]}, "bad_signature"),
        ("nonce lower case", {"nonce": nonce.lower()}, "bad_signature"),
        ("nonce 31 chars", {"nonce": nonce[:-1]}, "bad_signature"),
        ("nonce empty", {"nonce": ""}, "bad_nonce"),
        ("nonce with LF", {"nonce": nonce + "\n"}, "bad_nonce"),
        ("body + LF (trailing newline)", {"body": body + b"\n"}, "bad_signature"),
        ("body + CR (CRLF ending)", {"body": body + b"\r"}, "bad_signature"),
        ("body + space", {"body": body + b" "}, "bad_signature"),
        ("body truncated", {"body": body[:-1]}, "bad_signature"),
        ("body empty", {"body": b""}, "bad_signature"),
        ("body with BOM", {"body": b"\xef\xbb\xbf" + body}, "bad_signature"),
        ("json.dumps default separators", {"body": _reserialised(body)}, "bad_signature"),
        ("keys reordered", {"body": _reserialised(body, sort_keys=True)}, "bad_signature"),
        (
            "compact but keys reordered",
            {"body": _reserialised(body, sort_keys=True, separators=(",", ":"))},
            "bad_signature",
        ),
        ("signature truncated by 4", {"signature": sig[:-4]}, "bad_signature"),
        ("signature truncated by 1", {"signature": sig[:-1]}, "bad_base64"),
        ("signature missing padding", {"signature": sig.rstrip("=")}, "bad_base64"),
        ("signature padding bits", {"signature": sig[:-2] + "Z="}, "bad_base64"),
        (
            "signature url-safe alphabet",
            {"signature": base64.urlsafe_b64encode(raw).decode()},
            "bad_base64",
        ),
        ("signature not base64", {"signature": "not base64!"}, "bad_base64"),
        ("signature with newline", {"signature": sig[:64] + "\n" + sig[64:]}, "bad_base64"),
        ("signature with space", {"signature": sig[:100] + " " + sig[100:]}, "bad_base64"),
        ("signature trailing newline", {"signature": sig + "\n"}, "bad_base64"),
        ("signature empty", {"signature": ""}, "missing_signature"),
        ("signature hex", {"signature": raw.hex()}, "bad_signature"),
        ("signature 1 MB", {"signature": "A" * 1_000_000}, "bad_signature"),
        ("signature non-ascii", {"signature": sig[:-3] + "é=="}, "bad_base64"),
        (
            "signature bit flipped",
            {"signature": base64.b64encode(bytes([raw[0] ^ 1]) + raw[1:]).decode()},
            "bad_signature",
        ),
        (
            "signature zero bytes",
            {"signature": base64.b64encode(bytes(512)).decode()},
            "bad_signature",
        ),
    ]


@pytest.mark.parametrize("index", range(36))
def test_mutation_catalogue_is_rejected(real_webhook: dict[str, Any], index: int) -> None:
    name, changes, reason = _catalogue(real_webhook)[index]
    with pytest.raises(SignatureError) as caught:
        verify(real_webhook, **changes)
    assert caught.value.reason == reason, name


def test_catalogue_size_matches_parametrisation(real_webhook: dict[str, Any]) -> None:
    assert len(_catalogue(real_webhook)) == 36


def test_compact_redump_of_this_payload_is_byte_identical(real_webhook: dict[str, Any]) -> None:
    # docs/binance-pay.md#webhook-signature note: a compact re-dump happens to reproduce these
    # bytes; do not rely on it.
    assert _reserialised(real_webhook["body"], separators=(",", ":")) == real_webhook["body"]


def test_another_key_is_rejected(real_webhook: dict[str, Any], rsa_key: Any) -> None:
    forged = base64.b64encode(
        rsa_key.sign(
            signature_payload(real_webhook["ts"], real_webhook["nonce"], real_webhook["body"])
        )
    ).decode()
    with pytest.raises(SignatureError, match="bad_signature"):
        verify(real_webhook, signature=forged)
    with pytest.raises(SignatureError, match="bad_signature"):
        verify(real_webhook, public_key_pem=rsa_key.pem)


def test_unknown_serial_is_rejected(real_webhook: dict[str, Any]) -> None:
    certificates = {real_webhook["serial"]: real_webhook["pem"]}
    for serial in ("", real_webhook["serial"].lower(), "0" * 32, real_webhook["serial"] + " "):
        with pytest.raises(SignatureError) as caught:
            verify_with_certificates(
                certificates=certificates,
                serial=serial,
                timestamp=real_webhook["ts"],
                nonce=real_webhook["nonce"],
                body=real_webhook["body"],
                signature=real_webhook["sig"],
            )
        assert caught.value.reason == "unknown_certificate"


@pytest.mark.parametrize(
    "pem",
    [
        "",
        "not a pem",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        "-----BEGIN PUBLIC KEY-----\nMIICIjANBgkqhkiG9w0BAQEFAAOCAg8A\n-----END PUBLIC KEY-----",
    ],
)
def test_malformed_key_is_rejected(real_webhook: dict[str, Any], pem: str) -> None:
    with pytest.raises(SignatureError) as caught:
        verify(real_webhook, public_key_pem=pem)
    assert caught.value.reason == "malformed_key"


def test_non_rsa_and_weak_keys_are_rejected(real_webhook: dict[str, Any]) -> None:
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(SignatureError, match="malformed_key"):
        verify(real_webhook, public_key_pem=ec_pem)
    weak_pem = (
        rsa.RSAPublicNumbers(65537, (1 << 1023) + 1)  # a 1024-bit modulus; primes not needed
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(SignatureError, match="weak_key"):
        verify(real_webhook, public_key_pem=weak_pem)


def test_body_must_be_bytes(real_webhook: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        verify(real_webhook, body=real_webhook["body"].decode())


# -- generated key: round trip, payload variants, property test ----------------------------


def _signed(key: Any, ts: str, nonce: str, body: bytes) -> str:
    return base64.b64encode(key.sign(signature_payload(ts, nonce, body))).decode()


def test_round_trip_with_generated_key(rsa_key: Any) -> None:
    body = b'{"bizType":"PAY","data":"{}","bizIdStr":"1","bizId":1,"bizStatus":"PAY_SUCCESS"}'
    signature = _signed(rsa_key, "1700000000000", "a" * 32, body)
    verify_signature(
        public_key_pem=rsa_key.pem,
        timestamp="1700000000000",
        nonce="a" * 32,
        body=body,
        signature=signature,
    )


@pytest.mark.parametrize(
    "payload",
    [
        b"1700000000000\nNONCE\nBODY",  # trailing LF missing (Binance's broken Node example)
        b"1700000000000\r\nNONCE\r\nBODY\r\n",  # CRLF
        b"1700000000000\nNONCE\nBODY\n\n",  # extra LF
        b"1700000000000NONCEBODY",  # no separators
        b"1700000000000\nNONCE\nOTHER\n",  # signature of a different body
    ],
)
def test_signatures_over_other_payloads_are_rejected(rsa_key: Any, payload: bytes) -> None:
    signature = base64.b64encode(rsa_key.sign(payload)).decode()
    with pytest.raises(SignatureError, match="bad_signature"):
        verify_signature(
            public_key_pem=rsa_key.pem,
            timestamp="1700000000000",
            nonce="NONCE",
            body=b"BODY",
            signature=signature,
        )


timestamps = st.integers(min_value=0, max_value=10**15).map(str)
nonces = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    min_size=32,
    max_size=32,
)
bodies = st.binary(min_size=0, max_size=400)


def _mutate_text(data: st.DataObject, value: str, alphabet: str) -> str:
    op = data.draw(st.sampled_from(["replace", "insert", "delete", "append", "swapcase"]))
    if op == "swapcase" or not value:
        return value.swapcase() if value.swapcase() != value else value + "0"
    index = data.draw(st.integers(0, len(value) - 1))
    char = data.draw(st.sampled_from(alphabet))
    if op == "replace":
        return value[:index] + char + value[index + 1 :]
    if op == "insert":
        return value[:index] + char + value[index:]
    if op == "delete":
        return value[:index] + value[index + 1 :]
    return value + char


def _mutate_bytes(data: st.DataObject, value: bytes) -> bytes:
    op = data.draw(st.sampled_from(["flip", "insert", "delete", "append"]))
    if not value:
        return data.draw(st.binary(min_size=1, max_size=4))
    index = data.draw(st.integers(0, len(value) - 1))
    if op == "flip":
        mask = data.draw(st.integers(1, 255))
        return value[:index] + bytes([value[index] ^ mask]) + value[index + 1 :]
    byte = bytes([data.draw(st.integers(0, 255))])
    if op == "insert":
        return value[:index] + byte + value[index:]
    if op == "delete":
        return value[:index] + value[index + 1 :]
    return value + byte


B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n"


@settings(
    max_examples=PROPERTY_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ts=timestamps, nonce=nonces, body=bodies, data=st.data())
def test_any_mutation_is_rejected(
    rsa_key: Any, ts: str, nonce: str, body: bytes, data: st.DataObject
) -> None:
    # docs/reliability.md#35-signature-fuzz: 0 false accepts; and the unmutated original is always
    # accepted.
    signature = _signed(rsa_key, ts, nonce, body)
    good = {"timestamp": ts, "nonce": nonce, "body": body, "signature": signature}
    verify_signature(public_key_pem=rsa_key.pem, **good)
    target = data.draw(st.sampled_from(["timestamp", "nonce", "body", "signature", "several"]))
    bad = dict(good)
    targets = ["timestamp", "nonce", "body", "signature"] if target == "several" else [target]
    for name in targets:
        if name == "timestamp":
            bad[name] = _mutate_text(data, ts, "0123456789 -+\n")
        elif name == "nonce":
            bad[name] = _mutate_text(data, nonce, "aZ09!\n ")
        elif name == "body":
            bad[name] = _mutate_bytes(data, body)
        else:
            bad[name] = _mutate_text(data, signature, B64_ALPHABET)
    if bad == good:
        event("no-op mutation")
        return  # e.g. a character replaced by itself: not a forgery
    with pytest.raises(SignatureError) as caught:
        verify_signature(public_key_pem=rsa_key.pem, **bad)
    event(f"{target} -> {caught.value.reason}")


@settings(max_examples=200, deadline=None)
@given(ts=timestamps, nonce=nonces, body=bodies)
def test_valid_signatures_always_verify(rsa_key: Any, ts: str, nonce: str, body: bytes) -> None:
    signature = _signed(rsa_key, ts, nonce, body)
    verify_signature(
        public_key_pem=rsa_key.pem, timestamp=ts, nonce=nonce, body=body, signature=signature
    )


# -- parse_notification ----------------------------------------------------------------------


def test_parse_real_pay_success(real_webhook: dict[str, Any]) -> None:
    notification = parse_notification(real_webhook["body"])
    assert notification.biz_type == "PAY"
    assert notification.biz_status == "PAY_SUCCESS"
    assert notification.biz_id_str == "219129167241265152"
    assert notification.biz_id == 219129167241265152
    assert isinstance(notification.raw_data, str)
    pay = notification.pay_data()
    assert pay.merchant_trade_no == real_webhook["expect"]["merchantTradeNo"] == "870687"
    assert pay.total_fee == Decimal(real_webhook["expect"]["totalFee"]) == Decimal("3.58")
    assert isinstance(pay.total_fee, Decimal)
    assert pay.currency == "USDT"
    assert pay.open_user_id == "f36fae12c2b40cdbc9ee6ed5402638e0"
    assert pay.transact_time == 1679876794282
    assert pay.trade_type == "WEB"
    assert pay.transaction_id == "M_P_219129203579346945"
    assert pay.commission == Decimal(0)
    assert pay.payment_info is not None
    assert pay.payment_info["payerId"] == 158292251
    assert type(pay.payment_info["payerId"]) is int
    instruction = pay.payment_info["paymentInstructions"][0]
    assert instruction == {
        "currency": "LTC",
        "amount": Decimal("0.03869345"),
        "price": Decimal("92.52211938"),
    }
    # docs/binance-pay.md#query-order: amount x price = the order amount (to the cent)
    assert (instruction["amount"] * instruction["price"]).quantize(Decimal("0.01")) == Decimal(
        "3.58"
    )


def test_parse_moniesto_scientific_total_fee(fixture_bytes: Any) -> None:
    notification = parse_notification(fixture_bytes("webhook_pay_success_moniesto.body"))
    pay = notification.pay_data()
    assert pay.total_fee == Decimal("1E-7")
    assert isinstance(pay.total_fee, Decimal)
    assert pay.open_user_id is None  # absent in this capture
    assert pay.payment_info is not None
    assert pay.payment_info["paymentInstructions"][0]["amount"] == Decimal("1E-7")
    assert notification.biz_id_str == "232103202548367360"


def test_parse_refund_without_biz_id_str_falls_back_to_biz_id(fixture_bytes: Any) -> None:
    notification = parse_notification(fixture_bytes("webhook_refund_success.body"))
    assert (notification.biz_type, notification.biz_status) == ("PAY_REFUND", "REFUND_SUCCESS")
    assert notification.biz_id_str == "123289163323899904"
    refund = notification.refund_data()
    assert refund.merchant_trade_no == "6177e6ae81ce6f001b4a6233"
    assert refund.total_fee == Decimal("0.01")
    assert refund.currency == "BUSD"
    assert refund.open_user_id == "b5ec36baaa5ab9a5cfb1c29c2057bd81"
    info = refund.refund_info
    assert info.refund_request_id == "68711039982968853"
    assert info.prepay_id == "123289163323899904"
    assert info.order_amount == info.refunded_amount == info.refund_amount == Decimal("0.01")
    assert info.remaining_attempts == 9
    assert info.payer_open_id == "9aa0a8bb21cf5fbf049aad7db35dc3d3"
    assert info.duplicate_request is False


def test_parse_share_account_id(fixture_bytes: Any) -> None:
    notification = parse_notification(fixture_bytes("webhook_share_account_id.body"))
    assert (notification.biz_type, notification.biz_status) == ("SHARE_ACCOUNT_ID", "SUCCESS")
    assert notification.biz_id_str == "219014596974616576"
    share = notification.share_account_data()
    assert share.request_id == "9109c2bd482ef6bccc819c45af104a78"
    assert share.user_binance_id == "100103397765"
    assert share.user_name == "xxx"


def test_parse_merchant_qr_code_with_object_data() -> None:
    body = (
        b'{"bizType":"MERCHANT_QR_CODE","data":{"qrContent":"https://app.binance.com/qr/x",'
        b'"referId":"300000000000000001","qrCodeType":"FIXED_AMOUNT"},'
        b'"bizIdStr":"300000000000000001","bizId":300000000000000001,'
        b'"bizStatus":"MERCHANT_QR_CODE_SCANED"}'
    )
    notification = parse_notification(body)
    assert notification.data == {
        "qrContent": "https://app.binance.com/qr/x",
        "referId": "300000000000000001",
        "qrCodeType": "FIXED_AMOUNT",
    }
    assert notification.raw_data == notification.data


def test_huge_biz_id_stays_exact() -> None:
    body = (
        b'{"bizType":"PAY","data":"{}","bizIdStr":"29383937493038367292",'
        b'"bizId":29383937493038367292,"bizStatus":"PAY_SUCCESS"}'
    )
    notification = parse_notification(body)
    assert notification.biz_id == 29383937493038367292 > 2**64
    assert notification.biz_id_str == "29383937493038367292"


def _envelope(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "bizType": "PAY",
        "data": json.dumps({"merchantTradeNo": "1", "totalFee": 1, "currency": "USDT"}),
        "bizIdStr": "219129167241265152",
        "bizId": 219129167241265152,
        "bizStatus": "PAY_SUCCESS",
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


DEEP = 10_000


@pytest.mark.parametrize(
    ("body", "reason", "field"),
    [
        (_envelope(bizId=219129167241265153), "id_mismatch", "bizId"),
        (_envelope(bizIdStr="0219129167241265152"), "id_mismatch", "bizId"),
        (_envelope(bizId="219129167241265152x"), "invalid_field", "bizId"),
        (
            b'{"bizType":"PAY","data":"{}","bizIdStr":"1","bizId":1.0,"bizStatus":"S"}',
            "invalid_field",
            "bizId",
        ),
        (
            b'{"bizType":"PAY","data":"{}","bizId":2.19E17,"bizStatus":"S"}',
            "invalid_field",
            "bizId",
        ),
        (_envelope(bizId=True), "invalid_field", "bizId"),
        (_envelope(bizIdStr=..., bizId=...), "missing_field", "bizIdStr"),
        (_envelope(bizIdStr=""), "invalid_field", "bizIdStr"),
        (_envelope(bizIdStr=12), "invalid_field", "bizIdStr"),
        (_envelope(bizType=...), "missing_field", "bizType"),
        (_envelope(bizType=""), "invalid_field", "bizType"),
        (_envelope(bizType=["PAY"]), "invalid_field", "bizType"),
        (_envelope(bizStatus=...), "missing_field", "bizStatus"),
        (_envelope(bizStatus=1), "invalid_field", "bizStatus"),
        (_envelope(data="not json"), "not_json", "data"),
        (_envelope(data=""), "not_json", "data"),
        (_envelope(data='"a string"'), "invalid_field", "data"),
        (_envelope(data="3.5"), "invalid_field", "data"),
        (_envelope(data=12), "invalid_field", "data"),
        (_envelope(data=True), "invalid_field", "data"),
        (_envelope(data='{"totalFee":NaN}'), "not_json", "data"),
        (_envelope(data='{"a":1,"a":2}'), "duplicate_key", "data"),
        (_envelope(data="[" * DEEP + "]" * DEEP), "too_deep", "data"),
        (
            b'{"bizType":"PAY","data":"{}","bizIdStr":"1","bizStatus":"PAY_CLOSED",'
            b'"bizStatus":"PAY_SUCCESS"}',
            "duplicate_key",
            "body",
        ),
        (b'{"bizType":"PAY","data":' + b"[" * DEEP + b"]" * DEEP + b"}", "too_deep", "body"),
        (b"[" * DEEP, "too_deep", "body"),
        (b'{"a":' * DEEP + b"1" + b"}" * DEEP, "too_deep", "body"),
        (b"[]", "not_object", "body"),
        (b"null", "not_object", "body"),
        (b'"PAY"', "not_object", "body"),
        (b"42", "not_object", "body"),
        (b"", "not_json", "body"),
        (b"{", "not_json", "body"),
        (b"\xef\xbb\xbf{}", "not_json", "body"),
        (b'{"bizType":"\xff"}', "not_utf8", "body"),
        (b'{"bizType":NaN}', "not_json", "body"),
        (b'{"x":Infinity}', "not_json", "body"),
        # Text that is not text: a lone surrogate or a NUL, in a value or a key, at any level.
        (_envelope(bizType="PAY\ud800"), "invalid_text", "bizType"),
        (_envelope(bizIdStr="\x00", bizId=...), "invalid_text", "bizIdStr"),
        (b'{"bizType":"PAY","\\udc00":1}', "invalid_text", "body"),
        (_envelope(data='{"merchantTradeNo":"\\u0000"}'), "invalid_text", "data.merchantTradeNo"),
        (_envelope(data='{"a":[{"b":"x\\ud83d"}]}'), "invalid_text", "data.a.0.b"),
        (_envelope(data='{"\\u0000":1}'), "invalid_text", "data"),
        (_envelope(data={"note": "\udfff"}), "invalid_text", "data.note"),
        (_envelope(data='{"a":"\ud800"}'), "invalid_text", "data"),  # in the outer text
    ],
)
def test_malformed_notifications_are_rejected(body: bytes, reason: str, field: str) -> None:
    with pytest.raises(MalformedNotification) as caught:
        parse_notification(body)
    assert (caught.value.reason, caught.value.field) == (reason, field)
    assert isinstance(caught.value, ValueError)


def test_surrogate_pairs_and_other_control_characters_are_text() -> None:
    """Only lone surrogates and NUL are refused: a pair is one character (an emoji), and other
    escaped control characters are valid, storable text."""
    data = '{"merchantTradeNo":"\\ud83d\\ude00","totalFee":1,"currency":"USDT","n":"\\u0001\\t"}'
    notification = parse_notification(_envelope(data=data))

    assert notification.data["merchantTradeNo"] == "\U0001f600"
    assert notification.data["n"] == "\x01\t"


def test_deep_nesting_does_not_recurse() -> None:
    # 10,000 levels inside strings are fine (not nesting); outside they are rejected cheaply.
    body = _envelope(data=json.dumps({"note": "[" * DEEP}))
    assert parse_notification(body).data == {"note": "[" * DEEP}


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        ("[" * 32 + "]" * 32, False),
        ("[" * 33 + "]" * 33, True),
        ('{"a":' * 33 + "1" + "}" * 33, True),
        ('["' + "[" * 100 + '"]', False),  # brackets inside a string do not nest
        ('["a\\"' + "[" * 40 + '",1]', False),  # an escaped quote does not end the string
        ('["a\\\\",' + "[" * 40 + "]" * 40 + "]", True),  # escaped backslash ends it
    ],
)
def test_depth_scan(text: str, too_deep: bool) -> None:
    json.loads(text)  # all valid JSON: only the depth differs
    assert exceeds_depth(text) is too_deep


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:\n'),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\a'), children, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=500)
@given(value=json_values, limit=st.integers(0, 8))
def test_depth_scan_agrees_with_real_nesting(value: Any, limit: int) -> None:
    assert exceeds_depth(json.dumps(value), limit) is (_depth(value) > limit)


@pytest.mark.parametrize(
    "text",
    [
        '"\\' * 1_000_000,  # escaped quotes after an unterminated one (was quadratic)
        '"' * 2_000_000,
        "[]" * 1_000_000,
        '"' + "\\\\" * 1_000_000,
    ],
)
def test_depth_scan_is_linear_on_adversarial_input(text: str) -> None:
    started = time.monotonic()
    exceeds_depth(text)
    assert time.monotonic() - started < 2.0


def test_biz_id_as_digit_string_is_accepted() -> None:
    # one doc page types bizId as a string
    notification = parse_notification(_envelope(bizId="219129167241265152"))
    assert notification.biz_id == 219129167241265152


def test_missing_data_is_none() -> None:
    notification = parse_notification(_envelope(data=None))
    assert notification.data is None
    with pytest.raises(MalformedNotification, match="data"):
        notification.pay_data()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"totalFee": 1, "currency": "USDT"}, "data.merchantTradeNo"),
        ({"merchantTradeNo": "1", "currency": "USDT"}, "data.totalFee"),
        ({"merchantTradeNo": "1", "totalFee": True, "currency": "USDT"}, "data.totalFee"),
        ({"merchantTradeNo": "1", "totalFee": "1,50", "currency": "USDT"}, "data.totalFee"),
        ({"merchantTradeNo": "1", "totalFee": "NaN", "currency": "USDT"}, "data.totalFee"),
        ({"merchantTradeNo": "1", "totalFee": 1}, "data.currency"),
        (
            {"merchantTradeNo": "1", "totalFee": 1, "currency": "USDT", "transactTime": 1.5},
            "data.transactTime",
        ),
    ],
)
def test_pay_data_field_errors_name_the_field(data: dict[str, Any], field: str) -> None:
    notification = parse_notification(_envelope(data=json.dumps(data)))
    with pytest.raises(MalformedNotification) as caught:
        notification.pay_data()
    assert caught.value.field == field


def test_pay_data_accepts_string_amounts_and_pay_closed_minimal_shape() -> None:
    data = {"merchantTradeNo": "A1", "totalFee": "3.58000000", "currency": "USDT"}
    pay = parse_notification(_envelope(data=json.dumps(data), bizStatus="PAY_CLOSED")).pay_data()
    assert pay.total_fee == Decimal("3.58")
    assert (pay.transact_time, pay.transaction_id, pay.commission) == (None, None, None)


def test_refund_data_requires_refund_info() -> None:
    data = {"merchantTradeNo": "1", "totalFee": 1, "currency": "USDT"}
    notification = parse_notification(_envelope(bizType="PAY_REFUND", data=json.dumps(data)))
    with pytest.raises(MalformedNotification) as caught:
        notification.refund_data()
    assert caught.value.field == "data.refundInfo"


def test_refund_info_as_json_string_is_accepted() -> None:
    info = {
        "refundRequestId": "r1",
        "prepayId": "1",
        "orderAmount": "1",
        "refundedAmount": "1",
        "refundAmount": "1",
        "duplicateRequest": "Y",
    }
    data = {
        "merchantTradeNo": "1",
        "totalFee": 1,
        "currency": "USDT",
        "refundInfo": json.dumps(info),
    }
    refund = parse_notification(_envelope(data=json.dumps(data))).refund_data()
    assert refund.refund_info.duplicate_request is True
    assert refund.refund_info.remaining_attempts is None
