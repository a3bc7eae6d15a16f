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
    header = signature_header(body=BODY, secret=SECRET)

    assert verify(BODY, header, SECRET) is True
    assert verify(BODY.decode(), header, SECRET) is True


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    header = signature_header(body=BODY, secret=SECRET, timestamp=1700000000)

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert compute_signature(timestamp=1700000000, body=BODY, secret=SECRET) == expected
    assert SIGNATURE_HEADER == "Paysvc-Signature"


def test_the_header_is_signed_now():
    before = int(time.time())
    header = signature_header(body=BODY, secret=SECRET)
    after = int(time.time())

    t = int(header.split(",")[0].removeprefix("t="))
    assert before <= t <= after


def test_a_non_ascii_secret_and_body_are_signed_as_utf8():
    body = '{"goodsName":"Crème brûlée"}'.encode()
    header = signature_header(body=body, secret="sécret", timestamp=1700000000)

    expected = hmac.new("sécret".encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header.endswith(f"v1={expected}")
    assert verify(body, header, "sécret", now=1700000000)


def test_another_secret_or_a_changed_body_is_refused():
    header = signature_header(body=BODY, secret=SECRET)

    with pytest.raises(NoMatchingSignatureError):
        verify(BODY, header, SECRET + "x")
    with pytest.raises(NoMatchingSignatureError):
        verify(BODY.replace(b"PAID", b"PAIX"), header, SECRET)


def test_an_old_signature_is_refused_by_the_default_tolerance():
    header = signature_header(body=BODY, secret=SECRET, timestamp=int(time.time()) - 301)

    with pytest.raises(TimestampOutsideToleranceError):
        verify(BODY, header, SECRET)
    assert verify(BODY, header, SECRET, tolerance=None)
