"""notifications/signing.py: the header paysvc sends, checked by hand and by paysvc_webhooks."""

import hashlib
import hmac
import time

import pytest
from paysvc_webhooks import NoMatchingSignatureError, TimestampOutsideToleranceError, verify

from notifications.signing import SIGNATURE_HEADER, compute_signature, signature_header

SECRET = "whsec-test-0123456789"
BODY = b'{"data":{"status":"PAID"},"id":"evt_1","type":"order.paid"}'


def test_a_fresh_signature_verifies_with_the_merchant_sdk():
    header = signature_header(body=BODY, secrets=[SECRET])

    assert verify(BODY, header, SECRET) is True
    assert verify(BODY.decode(), header, SECRET) is True


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    header = signature_header(body=BODY, secrets=[SECRET], timestamp=1700000000)

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert compute_signature(timestamp=1700000000, body=BODY, secret=SECRET) == expected
    assert SIGNATURE_HEADER == "Paysvc-Signature"


def test_the_header_is_signed_now():
    before = int(time.time())
    header = signature_header(body=BODY, secrets=[SECRET])
    after = int(time.time())

    t = int(header.split(",")[0].removeprefix("t="))
    assert before <= t <= after


def test_a_non_ascii_secret_and_body_are_signed_as_utf8():
    body = '{"goodsName":"Crème brûlée"}'.encode()
    header = signature_header(body=body, secrets=["sécret"], timestamp=1700000000)

    expected = hmac.new("sécret".encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header.endswith(f"v1={expected}")
    assert verify(body, header, "sécret", now=1700000000)


def test_another_secret_or_a_changed_body_is_refused():
    header = signature_header(body=BODY, secrets=[SECRET])

    with pytest.raises(NoMatchingSignatureError):
        verify(BODY, header, SECRET + "x")
    with pytest.raises(NoMatchingSignatureError):
        verify(BODY.replace(b"PAID", b"PAIX"), header, SECRET)


def test_an_old_signature_is_refused_by_the_default_tolerance():
    header = signature_header(body=BODY, secrets=[SECRET], timestamp=int(time.time()) - 301)

    with pytest.raises(TimestampOutsideToleranceError):
        verify(BODY, header, SECRET)
    assert verify(BODY, header, SECRET, tolerance=None)


def test_during_a_rotation_each_secret_signs_and_either_verifies():
    header = signature_header(body=BODY, secrets=["new-secret", "old-secret"], timestamp=1700000000)

    t, first, second = header.split(",")
    assert t == "t=1700000000"
    assert first == "v1=" + compute_signature(timestamp=1700000000, body=BODY, secret="new-secret")
    assert second == "v1=" + compute_signature(timestamp=1700000000, body=BODY, secret="old-secret")
    for secret in ("new-secret", "old-secret"):
        assert verify(BODY, header, secret, tolerance=None)
    with pytest.raises(NoMatchingSignatureError):
        verify(BODY, header, "another-secret", tolerance=None)


def test_no_secret_is_a_programming_error():
    with pytest.raises(ValueError, match="at least one secret"):
        signature_header(body=BODY, secrets=[])
