"""paysvc_webhooks.verify and construct_event, against a signer written here from the spec."""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import sys
import time
from pathlib import Path

import pytest

import paysvc_webhooks
from paysvc_webhooks import (
    InvalidPayloadError,
    MalformedHeaderError,
    MissingHeaderError,
    MissingSignatureError,
    MissingTimestampError,
    NoMatchingSignatureError,
    SignatureVerificationError,
    TimestampOutsideToleranceError,
    construct_event,
    verify,
)

SECRET = "whsec_test_0123456789abcdef"
OLD_SECRET = "whsec_old_fedcba9876543210"
BODY = (
    b'{"data":{"merchantTradeNo":"9825382937292","status":"PAID"},"id":"evt_1","type":"order.paid"}'
)
T = 1_700_000_000


def sign(body: bytes, secret: str = SECRET, t: int | str = T) -> str:
    """The v1 value as the scheme defines it: hex HMAC-SHA256(secret, f"{t}." + body)."""
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def header(body: bytes = BODY, *secrets: str, t: int = T) -> str:
    values = ",".join(f"v1={sign(body, s, t)}" for s in (secrets or (SECRET,)))
    return f"t={t},{values}"


# -- accepted --------------------------------------------------------------------------------------
def test_a_known_answer_vector_verifies():
    # Computed once with Python's hmac module and pinned: changing the scheme breaks merchants.
    vector = "t=1700000000,v1=bab6990db7d5b062f5dee99441438ebc4f4e6390f1164523093c3ea693024f34"

    assert verify(b'{"id":"evt_vector"}', vector, "whsec_vector", now=T) is True
    with pytest.raises(NoMatchingSignatureError):
        verify(b'{"id":"evt_vector"}', vector, "whsec_vectoR", now=T)


@pytest.mark.parametrize("payload", [BODY, BODY.decode(), bytearray(BODY), memoryview(BODY)])
def test_a_valid_signature_verifies_whatever_the_payload_type(payload):
    assert verify(payload, header(), SECRET, now=T) is True


def test_a_non_ascii_body_is_signed_as_its_utf8_bytes():
    body = '{"goodsName":"Crème brûlée ☕"}'.encode()

    assert verify(body, header(body), SECRET, now=T)
    assert verify(body.decode(), header(body), SECRET, now=T)


def test_the_current_time_is_used_by_default():
    now = int(time.time())

    assert verify(BODY, header(t=now), SECRET)
    with pytest.raises(TimestampOutsideToleranceError):
        verify(BODY, header(t=now - 3600), SECRET)


@pytest.mark.parametrize(
    "secrets",
    [[SECRET], [OLD_SECRET, SECRET], (SECRET, OLD_SECRET), iter([OLD_SECRET, SECRET])],
    ids=["list", "right-second", "tuple", "iterator"],
)
def test_any_of_several_secrets_may_match(secrets):
    assert verify(BODY, header(), secrets, now=T)


def test_any_of_several_v1_values_may_match():
    good = sign(BODY)

    assert verify(BODY, f"t={T},v1={'0' * 64},v1={good}", SECRET, now=T)
    assert verify(BODY, f"t={T},v1={good},v1={'0' * 64}", SECRET, now=T)


def test_a_rotation_header_verifies_with_either_secret_alone_or_both():
    both = header(BODY, SECRET, OLD_SECRET)

    assert verify(BODY, both, SECRET, now=T)
    assert verify(BODY, both, OLD_SECRET, now=T)
    assert verify(BODY, both, [OLD_SECRET, SECRET], now=T)
    with pytest.raises(NoMatchingSignatureError):
        verify(BODY, both, "whsec_someone_else", now=T)


def test_unknown_schemes_and_spaces_after_commas_are_tolerated():
    assert verify(BODY, f"t={T}, v2=anything, v1={sign(BODY)}", SECRET, now=T)


# -- refused: signature ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        BODY[:-1],
        BODY + b"\n",
        BODY.replace(b"PAID", b"PAIX"),
        BODY.replace(b",", b", "),
        json.dumps(json.loads(BODY)).encode(),  # parsed and re-serialised
        b"",
    ],
    ids=["truncated", "newline", "changed", "spaced", "reserialised", "empty"],
)
def test_any_change_to_the_body_is_refused(body):
    with pytest.raises(NoMatchingSignatureError, match="no v1 signature matches"):
        verify(body, header(), SECRET, now=T)


def test_another_secret_is_refused_and_the_message_counts_the_secrets():
    with pytest.raises(NoMatchingSignatureError, match=r"with the secret$"):
        verify(BODY, header(), OLD_SECRET, now=T)
    with pytest.raises(NoMatchingSignatureError, match="any of the 2 secrets"):
        verify(BODY, header(), [OLD_SECRET, SECRET + "x"], now=T)


def test_a_signature_made_for_another_timestamp_is_refused():
    forged = f"t={T + 1},v1={sign(BODY, t=T)}"

    with pytest.raises(NoMatchingSignatureError):
        verify(BODY, forged, SECRET, now=T)


def test_the_timestamp_digits_are_signed_as_sent():
    # "01700000000" is the same number but not the same signed string.
    with pytest.raises(NoMatchingSignatureError):
        verify(BODY, f"t=0{T},v1={sign(BODY, t=T)}", SECRET, now=T)
    assert verify(BODY, f"t=0{T},v1={sign(BODY, t=f'0{T}')}", SECRET, now=T)


def test_upper_case_hex_is_not_paysvcs_signature():
    with pytest.raises(NoMatchingSignatureError):
        verify(BODY, f"t={T},v1={sign(BODY).upper()}", SECRET, now=T)


def test_comparisons_are_constant_time_and_do_not_stop_at_the_first_match(monkeypatch):
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(paysvc_webhooks.hmac, "compare_digest", spy)
    rotation = f"t={T},v1={sign(BODY)},v1={'f' * 64},v1={'e' * 64}"

    assert verify(BODY, rotation, [SECRET, OLD_SECRET], now=T)
    assert len(calls) == 2 * 3  # every secret against every v1, although the first matched
    assert all(isinstance(a, bytes) and isinstance(b, bytes) for a, b in calls)


# -- refused: time ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("age", "word"), [(301, "old"), (-301, "in the future"), (86400, "old")])
def test_a_timestamp_outside_the_tolerance_is_refused(age, word):
    now = T + age

    with pytest.raises(TimestampOutsideToleranceError, match=word) as caught:
        verify(BODY, header(), SECRET, now=now)
    assert (caught.value.timestamp, caught.value.now, caught.value.tolerance) == (T, now, 300)
    assert verify(BODY, header(), SECRET, tolerance=None, now=now)


@pytest.mark.parametrize("age", [0, 300, -300, 299.9])
def test_inside_the_tolerance_either_way_passes(age):
    assert verify(BODY, header(), SECRET, now=T + age)


def test_a_custom_tolerance_applies():
    assert verify(BODY, header(), SECRET, tolerance=10, now=T + 10)
    with pytest.raises(TimestampOutsideToleranceError, match="tolerance 10 s"):
        verify(BODY, header(), SECRET, tolerance=10, now=T + 11)


def test_the_time_is_checked_only_for_a_genuine_signature():
    # A forged old request says "no match", not "too old": a tolerance error means authentic.
    with pytest.raises(NoMatchingSignatureError):
        verify(BODY, header(), OLD_SECRET, now=T + 86400)


# -- refused: header shape -------------------------------------------------------------------------
@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_header_is_refused(value):
    with pytest.raises(MissingHeaderError, match="no Paysvc-Signature header"):
        verify(BODY, value, SECRET, now=T)


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        f"t={T},,v1=abc",
        f"t={T},v1=",
        "t=,v1=abc",
        "=abc,t=1",
        "t=abc,v1=abc",
        "t=-5,v1=abc",
        "t=1.5,v1=abc",
        "t=1234567890123,v1=abc",
        "t=\uff11\uff17\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff10,v1=abc",  # full-width
        f"t={T},v1=\u00e9",
        f"t={T},v1=ab cd",
        f"t={T},v1=ab\x00cd",
        f"t={T},t={T},v1=abc",
        f"t={T},v1=" + "a" * 5000,
    ],
)
def test_a_malformed_header_is_refused_without_crashing(value):
    with pytest.raises(MalformedHeaderError):
        verify(BODY, value, SECRET, now=T)


@pytest.mark.parametrize("value", [f"v1={sign(BODY)}", "v1=abc,v2=def"])
def test_a_header_without_timestamp_is_refused(value):
    with pytest.raises(MissingTimestampError, match=r"no timestamp \(t=\)"):
        verify(BODY, value, SECRET, now=T)


@pytest.mark.parametrize("value", [f"t={T}", f"t={T},v0={sign(BODY)}", f"t={T},V1={sign(BODY)}"])
def test_a_header_without_v1_is_refused(value):
    with pytest.raises(MissingSignatureError, match="no v1= signature"):
        verify(BODY, value, SECRET, now=T)


def test_every_failure_has_its_own_class_under_one_base():
    classes = [
        MissingHeaderError,
        MalformedHeaderError,
        MissingTimestampError,
        MissingSignatureError,
        NoMatchingSignatureError,
        TimestampOutsideToleranceError,
    ]

    assert len(set(classes)) == 6
    for cls in classes:
        assert issubclass(cls, SignatureVerificationError)
        assert not any(issubclass(cls, other) for other in classes if other is not cls)
    assert issubclass(SignatureVerificationError, ValueError)
    assert not issubclass(InvalidPayloadError, SignatureVerificationError)


# -- programming errors ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("secret", "error"),
    [([], ValueError), ("", ValueError), ([SECRET, ""], ValueError), ([b"bytes"], TypeError)],
)
def test_a_missing_or_wrong_secret_is_a_programming_error(secret, error):
    with pytest.raises(error) as caught:
        verify(BODY, header(), secret, now=T)
    assert not isinstance(caught.value, SignatureVerificationError)


def test_a_parsed_payload_or_a_negative_tolerance_is_a_programming_error():
    with pytest.raises(TypeError, match="raw body"):
        verify(json.loads(BODY), header(), SECRET, now=T)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tolerance") as caught:
        verify(BODY, header(), SECRET, tolerance=-1, now=T)
    assert not isinstance(caught.value, SignatureVerificationError)


# -- construct_event -------------------------------------------------------------------------------
def test_construct_event_returns_the_verified_event():
    event = construct_event(BODY, header(), [OLD_SECRET, SECRET], now=T)

    assert event == json.loads(BODY)
    assert event["type"] == "order.paid"
    assert event["data"]["merchantTradeNo"] == "9825382937292"


def test_construct_event_verifies_first():
    with pytest.raises(NoMatchingSignatureError):
        construct_event(BODY.replace(b"PAID", b"PAIX"), header(), SECRET, now=T)
    with pytest.raises(TimestampOutsideToleranceError):
        construct_event(BODY, header(), SECRET, now=T + 301)
    assert construct_event(BODY, header(), SECRET, tolerance=None, now=T + 301)["id"] == "evt_1"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe{}"])
def test_construct_event_refuses_a_verified_body_that_is_not_a_json_object(body):
    with pytest.raises(InvalidPayloadError):
        construct_event(body, header(body), SECRET, now=T)


# -- packaging -------------------------------------------------------------------------------------
def test_the_module_parses_as_python_3_9_and_imports_only_the_standard_library():
    source = Path(paysvc_webhooks.__file__).read_text(encoding="utf-8")

    tree = ast.parse(source, feature_version=(3, 9))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    top_level = {name.partition(".")[0] for name in imported}
    assert top_level <= set(sys.stdlib_module_names) | {"__future__"}, top_level


def test_everything_exported_exists():
    for name in paysvc_webhooks.__all__:
        assert hasattr(paysvc_webhooks, name), name
    assert paysvc_webhooks.SIGNATURE_HEADER == "Paysvc-Signature"
    assert paysvc_webhooks.DEFAULT_TOLERANCE == 300
