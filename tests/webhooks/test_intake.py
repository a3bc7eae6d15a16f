"""The receiver (docs/reliability.md#b1-authenticity): what is accepted, what is refused, and that a
refusal stores nothing. Deliveries go through Django's full middleware stack; the broker is a
recorder."""

from __future__ import annotations

import base64
import json
import random
import time
from typing import Any

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from orders.models import Order, OrderEvent
from paysvc import clock
from tests.factories import OrderFactory
from tests.webhooks.factories import (
    WEBHOOK_PATH,
    envelope,
    meta,
    new_nonce,
    pay_body,
    refund_body,
)
from webhooks import views
from webhooks.models import EventStatus, WebhookEvent
from webhooks.services import webhook_event_process

pytestmark = pytest.mark.django_db

SUCCESS = b'{"returnCode":"SUCCESS","returnMessage":null}'


def fail_reason(response: Any) -> str:
    body = json.loads(response.content)
    assert body["returnCode"] == "FAIL"
    return body["returnMessage"]


# -- accepted ------------------------------------------------------------------------------------
def test_the_real_production_webhook_is_accepted_and_pays_its_order(
    real_vector, pinned_clock, post, broker, certs_endpoint
):
    """docs/reliability.md#1-valid-delivery, with Binance's own signature and key
    (docs/binance-pay.md#webhook-signature)."""
    cert = real_vector["certificate"]
    headers = {k: v for k, v in real_vector["headers"].items() if k != "Content-Type"}
    certs_endpoint.served = []
    from webhooks.certificates import certificates_store

    certificates_store({cert["certSerial"]: cert["certPublic"]})
    pinned_clock(int(headers["BinancePay-Timestamp"]) + 30_000)
    order = OrderFactory(
        merchant_trade_no="870687", prepay_id=None, total_fee=None, order_amount="3.58"
    )

    response = post(real_vector["raw_body"].encode(), headers)

    assert response.status_code == 200
    assert response.content == SUCCESS
    assert response["Content-Type"] == "application/json"
    event = WebhookEvent.objects.get()
    assert event.dedupe_key == "PAY:219129167241265152:PAY_SUCCESS"
    assert event.merchant_trade_no == "870687"
    assert event.cert_serial == cert["certSerial"]
    assert bytes(event.body) == real_vector["raw_body"].encode()
    assert event.headers["BinancePay-Nonce"] == headers["BinancePay-Nonce"]
    assert event.headers["Content-Type"] == "application/json; charset=utf-8"
    assert event.status == EventStatus.RECEIVED
    assert broker.published == [event.pk]
    assert certs_endpoint.calls == 0

    assert webhook_event_process(event_id=event.pk) == EventStatus.PROCESSED

    order.refresh_from_db()
    assert order.status == "PAID"
    assert order.transaction_id == "M_P_219129203579346945"
    assert order.prepay_id == "219129167241265152"
    assert order.paid_at.timestamp() == 1679876794.282
    assert order.payment_info["paymentInstructions"][0] == {
        "currency": "LTC",
        "amount": "0.03869345",
        "price": "92.52211938",
    }
    assert OrderEvent.objects.filter(order=order, to_status="PAID", source="webhook").count() == 1


def test_the_url_without_the_trailing_slash_is_served_too(signer, post, certs_endpoint):
    body = pay_body()

    response = post(body, signer.headers(body), path=WEBHOOK_PATH.rstrip("/"))

    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_an_unknown_biz_type_is_stored_acknowledged_and_ignored(signer, post, certs_endpoint):
    body = envelope("PAYOUT", "1", "SUCCESS", '{"requestId":"r1"}')

    response = post(body, signer.headers(body))

    assert response.content == SUCCESS
    event = WebhookEvent.objects.get()
    assert webhook_event_process(event_id=event.pk) == EventStatus.IGNORED


def test_two_partial_refunds_of_one_order_are_two_events(signer, post, certs_endpoint):
    """bizId of PAY_REFUND is the order's prepayId (docs/binance-pay.md#biztype-and-bizstatus):
    refundRequestId tells them apart."""
    bodies = [
        refund_body(merchant_trade_no="m1", prepay_id="123289163323899904", refund_request_id=r)
        for r in ("refund-a", "refund-b")
    ]

    for body in bodies:
        assert post(body, signer.headers(body)).content == SUCCESS

    keys = sorted(WebhookEvent.objects.values_list("dedupe_key", flat=True))
    assert keys == [
        "PAY_REFUND:123289163323899904:REFUND_SUCCESS:refund-a",
        "PAY_REFUND:123289163323899904:REFUND_SUCCESS:refund-b",
    ]


# -- replays and duplicates ------------------------------------------------------------------------
def test_an_exact_replay_100_times_has_one_effect(signer, post, broker, certs_endpoint):
    """docs/reliability.md#3-exact-replay: 100 x the same bytes and headers -> 100 x SUCCESS, 1 row,
    1 PAID."""
    order = OrderFactory()
    body = pay_body(order)
    headers = signer.headers(body)

    responses = [post(body, headers) for _ in range(100)]

    assert [(r.status_code, r.content) for r in responses] == [(200, SUCCESS)] * 100
    assert WebhookEvent.objects.count() == 1
    for event_id in broker.published:
        webhook_event_process(event_id=event_id)
    assert OrderEvent.objects.filter(order=order, to_status="PAID").count() == 1


def test_the_same_event_resent_with_a_new_nonce_and_timestamp_is_one_event(
    signer, post, certs_endpoint
):
    """docs/reliability.md#11-binance-style-retry: Binance's retry style, dedupe on (bizType,
    bizIdStr, bizStatus)."""
    order = OrderFactory()
    body = pay_body(order)
    now = clock.now_ms()

    first = post(body, signer.headers(body, timestamp=now - 60_000))
    second = post(body, signer.headers(body, timestamp=now))

    assert (first.content, second.content) == (SUCCESS, SUCCESS)
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("offset_seconds", "accepted"),
    [(-301, False), (301, False), (-299, True), (299, True)],
)
def test_timestamps_outside_the_window_are_refused(
    signer, post, certs_endpoint, offset_seconds, accepted
):
    """docs/reliability.md#4-stale-and-future-timestamps with
    BINANCE_PAY_WEBHOOK_TOLERANCE_SECONDS = 300."""
    body = pay_body()

    response = post(body, signer.headers(body, timestamp=clock.now_ms() + offset_seconds * 1000))

    assert (response.status_code == 200) is accepted
    assert WebhookEvent.objects.count() == (1 if accepted else 0)
    if not accepted:
        assert response.status_code == 401
        assert "Timestamp" in fail_reason(response)


def test_a_nonce_reused_with_another_body_is_refused(signer, post, certs_endpoint):
    """docs/reliability.md#5-nonce-store: both deliveries validly signed, the second reuses the
    nonce."""
    nonce = new_nonce()
    first_body, second_body = pay_body(), pay_body()

    first = post(first_body, signer.headers(first_body, nonce=nonce))
    second = post(second_body, signer.headers(second_body, nonce=nonce))

    assert first.status_code == 200
    assert second.status_code == 400
    assert "Nonce" in fail_reason(second)
    assert WebhookEvent.objects.count() == 1


def test_the_nonce_is_remembered_for_twice_the_window(signer, post, certs_endpoint, monkeypatch):
    from django.core.cache import cache

    timeouts: dict[str, int] = {}
    real_add = cache.add

    def recording_add(key: str, value: Any, timeout: int) -> bool:
        timeouts[key] = timeout
        return real_add(key, value, timeout)

    monkeypatch.setattr(cache, "add", recording_add)
    body = pay_body()

    post(body, signer.headers(body))

    assert list(timeouts.values()) == [2 * 300]


# -- certificates ----------------------------------------------------------------------------------
def test_an_unknown_serial_triggers_one_refetch_and_a_rotated_key_is_accepted(
    signer, other_signer, post, certs_endpoint
):
    """docs/binance-pay.md#gotcha-certificate-rotation: Binance rotated its key; the new serial is
    fetched once, then cached."""
    certs_endpoint.served = [signer, other_signer]
    bodies = [pay_body() for _ in range(3)]

    responses = [post(body, other_signer.headers(body)) for body in bodies]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert certs_endpoint.calls == 1


def test_ten_thousand_random_serials_cost_one_certificates_call(signer, certs_endpoint):
    """docs/reliability.md#6-unknown-serial-flood: a refresh-amplification flood; <= 1 call per
    refetch interval."""
    body = pay_body()
    factory = RequestFactory()
    statuses = set()

    signed = signer.headers(body)  # a genuine signature: only the serial is made up
    for _ in range(10_000):
        headers = {**signed, "BinancePay-Certificate-SN": f"{random.getrandbits(128):032X}"}
        request = factory.post(
            WEBHOOK_PATH, data=body, content_type="application/json", **meta(headers)
        )
        statuses.add(views.binance_pay_webhook(request).status_code)

    assert statuses == {401}
    assert certs_endpoint.calls == 1
    assert WebhookEvent.objects.count() == 0


def test_certificates_endpoint_down_with_a_new_serial_is_503_then_accepted_after_recovery(
    signer, other_signer, post, certs_endpoint, settings
):
    """docs/reliability.md#7-certificates-endpoint-down: 5xx (Binance retries), nothing stored;
    accepted once it is back."""
    settings.BINANCE_PAY_CERT_REFETCH_SECONDS = 1
    certs_endpoint.served = [signer, other_signer]
    certs_endpoint.down = True
    body = pay_body()

    during = [post(body, other_signer.headers(body)) for _ in range(5)]
    known_body = pay_body()
    known_key = post(known_body, signer.headers(known_body))
    time.sleep(1.1)
    certs_endpoint.down = False
    after = post(body, other_signer.headers(body))

    assert [r.status_code for r in during] == [503] * 5
    assert during[0]["Retry-After"] == "30"
    assert certs_endpoint.calls == 2  # one failed try in the first interval, one after it
    assert known_key.status_code == 200  # the serials we know keep working meanwhile
    assert after.status_code == 200
    assert WebhookEvent.objects.filter(cert_serial=other_signer.serial).count() == 1


# -- storage and broker failures ------------------------------------------------------------------
def test_a_database_failure_answers_503_never_success(signer, post, certs_endpoint):
    from django.db import connection

    def broken(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if WebhookEvent._meta.db_table in sql:  # the event's INSERT, however it is written
            raise OperationalError("could not connect to server")
        return execute(sql, params, many, context)

    body = pay_body()
    with connection.execute_wrapper(broken):
        response = post(body, signer.headers(body))

    assert response.status_code == 503
    assert fail_reason(response)
    assert WebhookEvent.objects.count() == 0


def test_a_broker_failure_does_not_fail_the_delivery_and_the_sweeper_catches_up(
    signer, post, broker, certs_endpoint
):
    import datetime as dt

    from webhooks.services import webhook_events_sweep

    broker.fail = True
    body = pay_body()

    response = post(body, signer.headers(body))

    assert response.content == SUCCESS
    event = WebhookEvent.objects.get()
    assert event.status == EventStatus.RECEIVED and broker.published == []
    broker.fail = False
    assert webhook_events_sweep() == 0  # too fresh: its own publish may still be on the way
    WebhookEvent.objects.update(received_at=event.received_at - dt.timedelta(seconds=11))
    assert webhook_events_sweep() == 1
    assert broker.published == [event.pk]
    assert webhook_events_sweep() == 0  # leased: not enqueued again while it waits in the queue


# -- envelope refusals ----------------------------------------------------------------------------
def test_other_methods_are_405_with_allow(signer, post, certs_endpoint):
    body = pay_body()
    for method in ("GET", "PUT", "PATCH", "DELETE", "HEAD"):
        response = post(body, signer.headers(body), method=method)
        assert response.status_code == 405
        assert response["Allow"] == "POST"
    assert WebhookEvent.objects.count() == 0


def test_a_body_over_the_cap_is_413_before_anything_else(signer, post, certs_endpoint, settings):
    settings.BINANCE_PAY_WEBHOOK_MAX_BYTES = 1024
    body = pay_body()[:-1] + b" " * 2000 + b"}"

    response = post(body, signer.headers(body))

    assert response.status_code == 413
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-16",
        "",
        "application/json; x=\x00",  # stored with the event: PostgreSQL's jsonb takes no NUL
    ],
)
def test_a_body_that_is_not_utf8_json_is_415(signer, post, certs_endpoint, content_type):
    body = pay_body()

    response = post(body, signer.headers(body), content_type=content_type)

    assert response.status_code == 415
    assert WebhookEvent.objects.count() == 0


def test_an_empty_body_and_a_validly_signed_non_notification_are_400(signer, post, certs_endpoint):
    for body in (b"", b"[1,2]", b'{"bizType":"PAY"}', b"\xff\xfe{}"):
        response = post(body, signer.headers(body))
        assert response.status_code == 400, body
    assert WebhookEvent.objects.count() == 0


def _unstorable_bodies() -> list[tuple[str, bytes, str]]:
    """(label, validly shaped body, the problem the answer must name): a lone surrogate or a NUL
    in every place text reaches paysvc (envelope ids, data fields and keys, refundInfo's own
    JSON string). json.dumps writes them as \\ud800 and \\u0000 escapes, as a sender would."""

    def body(
        data: Any,
        *,
        biz_type: str = "PAY",
        biz_id: str = "219129167241265152",
        biz_status: str = "PAY_SUCCESS",
        data_as_text: bool = True,
    ) -> bytes:
        raw = json.dumps(data, separators=(",", ":")) if data_as_text else data
        return json.dumps(
            {"bizType": biz_type, "data": raw, "bizIdStr": biz_id, "bizStatus": biz_status},
            separators=(",", ":"),
        ).encode()

    def pay(**extra: Any) -> dict[str, Any]:
        return {"merchantTradeNo": "m1", "totalFee": "1.00", "currency": "USDT", **extra}

    refund = {"merchantTradeNo": "m1", "totalFee": "1", "currency": "USDT", "refundInfo": None}
    items = []
    for name, char, problem in (
        ("U+D800", "\ud800", "surrogate"),
        ("U+DFFF", "\udfff", "surrogate"),
        ("NUL", "\x00", "NUL"),
    ):
        refund_info = json.dumps({"refundRequestId": f"r{char}", "prepayId": "1"})
        items += [
            (f"bizType {name}", body(pay(), biz_type=f"PAY{char}"), problem),
            (f"bizIdStr {name}", body(pay(), biz_id=f"1{char}"), problem),
            (f"bizStatus {name}", body(pay(), biz_status=f"PAY_SUCCESS{char}"), problem),
            (f"merchantTradeNo {name}", body(pay(merchantTradeNo=f"m{char}")), problem),
            (f"passThroughInfo {name}", body(pay(passThroughInfo=char)), problem),
            (f"nested value {name}", body(pay(paymentInfo={"payMethod": [char]})), problem),
            (f"data key {name}", body({**pay(), char: 1}), problem),
            (f"data object {name}", body(pay(currency=char), data_as_text=False), problem),
            (
                f"data text itself {name}",  # the outer string holds the character
                body('{"merchantTradeNo":"' + char + '","totalFee":1,"currency":"USDT"}',
                     data_as_text=False),
                problem,
            ),
            (
                f"refundInfo text {name}",
                body({**refund, "refundInfo": refund_info}, biz_type="PAY_REFUND",
                     biz_status="REFUND_SUCCESS"),
                problem,
            ),
        ]  # fmt: skip
    return items


@pytest.mark.parametrize(
    ("label", "body", "problem"), _unstorable_bodies(), ids=[i[0] for i in _unstorable_bodies()]
)
def test_a_lone_surrogate_or_a_nul_anywhere_is_400_naming_it_and_nothing_is_stored(
    signer, post, broker, certs_endpoint, label, body, problem
):
    """Validly signed, so only the body can refuse it. A lone surrogate cannot be encoded for
    the database (was an HTML 500) and PostgreSQL stores no NUL in text or jsonb (was a 503,
    retried by Binance forever): both are a 400 FAIL naming the problem
    (docs/binance-pay.md#webhook-envelope)."""
    response = post(body, signer.headers(body))

    assert response.status_code == 400, (response.status_code, response.content[:200])
    assert response["Content-Type"] == "application/json"
    assert problem in fail_reason(response)
    assert WebhookEvent.objects.count() == 0
    assert broker.published == []


def chunked_request(body: bytes, headers: dict[str, str], *, terminated: bool = True) -> Any:
    """A request as gunicorn hands over a chunked delivery: no CONTENT_LENGTH, the
    Transfer-Encoding header, the decoded body on ``wsgi.input``, ``wsgi.input_terminated``."""
    import io

    from django.core.handlers.wsgi import WSGIRequest

    environ = dict(
        RequestFactory()
        .post(WEBHOOK_PATH, data=b"", content_type="application/json", **meta(headers))
        .environ
    )
    environ.pop("CONTENT_LENGTH", None)
    environ["CONTENT_TYPE"] = "application/json"
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.input_terminated"] = terminated
    return WSGIRequest(environ)


def test_a_chunked_body_is_read_up_to_the_cap(signer, certs_endpoint, settings):
    """No Content-Length: the body is read from the server's terminated input (it was refused
    as empty); past the cap it is 413; an input the server does not terminate is 411."""
    settings.BINANCE_PAY_WEBHOOK_MAX_BYTES = 4096
    body = pay_body()
    big = body[:-1] + b',"pad":"' + b"p" * 5000 + b'"}'

    accepted = views.binance_pay_webhook(chunked_request(body, signer.headers(body)))
    too_large = views.binance_pay_webhook(chunked_request(big, signer.headers(big)))
    unterminated = views.binance_pay_webhook(
        chunked_request(body, signer.headers(body), terminated=False)
    )
    empty = views.binance_pay_webhook(chunked_request(b"", signer.headers(b"")))

    assert (accepted.status_code, accepted.content) == (200, SUCCESS)
    assert bytes(WebhookEvent.objects.get().body) == body
    assert too_large.status_code == 413
    assert unterminated.status_code == 411
    assert empty.status_code == 400 and "empty" in fail_reason(empty)
    assert WebhookEvent.objects.count() == 1


def test_a_signature_is_never_logged(signer, post, certs_endpoint, caplog):
    caplog.set_level("DEBUG")
    body = pay_body()
    headers = signer.headers(body)

    post(body, headers)
    post(body + b" ", headers)

    assert headers["BinancePay-Signature"][:40] not in caplog.text
    assert "Ice Cream" not in caplog.text  # nor the raw body


# -- the forged catalogue --------------------------------------------------------------------------
def forged_catalogue(signer, other_signer, order: Order) -> list[tuple[str, bytes, dict, dict]]:
    """(label, body, headers, post options) for >= 1,000 deliveries that must all be refused
    (docs/reliability.md#2-forged-deliveries and the catalogue of
    docs/reliability.md#c1-webhook-bad-inputs)."""
    body = pay_body(order)
    good = signer.headers(body)
    ts, nonce, sig = (
        good[k] for k in ("BinancePay-Timestamp", "BinancePay-Nonce", "BinancePay-Signature")
    )
    items: list[tuple[str, bytes, dict, dict]] = []

    def add(label: str, b: bytes = body, h: dict | None = None, **options: Any) -> None:
        items.append((label, b, good if h is None else h, options))

    def with_(**changes: str) -> dict[str, str]:
        return {**good, **{k.replace("_", "-"): v for k, v in changes.items()}}

    for i in range(25):  # another key, claiming our serial or its own
        b = pay_body(order, transact_time=1_700_000_000_000 + i)
        add("wrong key, our serial", b, other_signer.headers(b, serial=signer.serial))
        add("wrong key, its serial", b, other_signer.headers(b))
    for i in range(len(body)):  # each byte of the body flipped in turn
        add(f"body byte {i} flipped", body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :])
    for i in range(len(sig) - 2):  # each signature character changed (not the padding)
        c = "A" if sig[i] != "A" else "B"
        add(f"signature char {i}", h=with_(BinancePay_Signature=sig[:i] + c + sig[i + 1 :]))
    for name in good:  # each header missing, empty, or whitespace
        add(f"{name} missing", h={k: v for k, v in good.items() if k != name})
        add(f"{name} empty", h={**good, name: ""})
        add(f"{name} blank", h={**good, name: " "})
    raw = base64.b64decode(sig)
    for label, value in [
        ("signature truncated to 100", sig[:100]),
        ("signature truncated by 4", sig[:-4]),
        ("signature without padding", sig.rstrip("=")),
        ("signature not base64", "!" * len(sig)),
        ("signature url-safe", base64.urlsafe_b64encode(raw).decode().replace("+", "-") + "-"),
        ("signature with newline", sig[:64] + "\n" + sig[64:]),
        ("signature with spaces", sig[:64] + " " + sig[64:]),
        ("signature 1 MB", "A" * 1_000_000),
        ("signature as hex", raw.hex()),
        ("signature of another body", signer.signature(ts, nonce, pay_body())),
        ("signature of another timestamp", signer.signature(str(int(ts) + 1), nonce, body)),
        ("signature of another nonce", signer.signature(ts, new_nonce(), body)),
        (
            "signature without the trailing LF",
            base64.b64encode(
                signer.key.sign(f"{ts}\n{nonce}\n".encode() + body, *_pkcs1())
            ).decode(),
        ),
    ]:
        add(label, h=with_(BinancePay_Signature=value))
    for _ in range(20):
        add("random serial", h=with_(BinancePay_Certificate_SN=f"{random.getrandbits(128):032X}"))
    for label, value in [
        ("serial 31 chars", signer.serial[:-1]),
        ("serial 33 chars", signer.serial + "0"),
        ("serial not hex", "Z" * 32),
        ("serial numeric long", "12345678901234567890"),
        ("serial of the other key", other_signer.serial),
    ]:
        add(label, h=with_(BinancePay_Certificate_SN=value))
    now = clock.now_ms()
    for label, value in [
        ("timestamp in seconds", str(now // 1000)),
        ("timestamp negative", str(-now)),
        ("timestamp float", f"{now}.5"),
        ("timestamp exponent", "1e13"),
        ("timestamp over 2^63", str(2**64)),
        ("timestamp non numeric", "yesterday"),
        ("timestamp unicode digits", "\u0661" * 13),
    ]:
        add(label, h=with_(BinancePay_Timestamp=value))
    for label, offset in [
        ("far past", -(10**9)),
        ("far future", 10**9),
        ("a day old", -86_400_000),
    ]:
        add(f"timestamp {label}, re-signed", h=signer.headers(body, timestamp=now + offset))
    for label, value in [
        ("nonce 31 chars", nonce[:-1]),
        ("nonce 33 chars", nonce + "a"),
        ("nonce with symbol", nonce[:-1] + "-"),
        ("nonce unicode", nonce[:-1] + "é"),
    ]:
        add(label, h=with_(BinancePay_Nonce=value))
    parsed = json.loads(body)
    for label, variant in [
        ("re-serialised with spaces", json.dumps(parsed).encode()),
        (
            "keys reordered",
            json.dumps(dict(reversed(list(parsed.items()))), separators=(",", ":")).encode(),
        ),
        ("pretty-printed", json.dumps(parsed, indent=2).encode()),
        ("pretty-printed CRLF", json.dumps(parsed, indent=2).replace("\n", "\r\n").encode()),
        ("trailing newline added", body + b"\n"),
        ("trailing CRLF added", body + b"\r\n"),
        ("trailing newline removed", body[:-1]),
        ("UTF-8 BOM", b"\xef\xbb\xbf" + body),
        ("unicode escapes", body.replace(b"Ice Cream", b"Ice\\u0020Cream")),
        ("truncated", body[: len(body) // 2]),
    ]:
        add(label, variant)
    body_nl = body + b"\n"
    signed_nl = signer.headers(body_nl)
    add("signed with trailing newline, sent without", body, signed_nl)
    for ct in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-16",
    ):
        add(f"content type {ct}", content_type=ct)
    for method in ("GET", "PUT", "HEAD", "DELETE", "PATCH", "OPTIONS"):
        add(f"method {method}", method=method)
    return items


def _pkcs1() -> tuple[Any, Any]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.PKCS1v15(), hashes.SHA256()


def test_a_thousand_forged_deliveries_are_all_refused_and_nothing_is_stored(
    signer, other_signer, post, broker, certs_endpoint
):
    """docs/reliability.md#2-forged-deliveries: 0 accepted, 0 rows, 0 state changes; every answer
    non-2xx; p99 of a refusal < 50 ms."""
    order = OrderFactory()
    catalogue = forged_catalogue(signer, other_signer, order)
    accepted, timings = [], []

    for label, body, headers, options in catalogue:
        started = time.perf_counter()
        response = post(body, headers, **options)
        timings.append(time.perf_counter() - started)
        if not 400 <= response.status_code < 500:
            accepted.append((label, response.status_code))

    assert len(catalogue) >= 1000
    assert accepted == []
    assert WebhookEvent.objects.count() == 0
    assert broker.published == []
    order.refresh_from_db()
    assert order.status == "INITIAL"
    assert not OrderEvent.objects.filter(order=order).exists()
    assert certs_endpoint.calls <= 1
    timings.sort()
    assert timings[int(len(timings) * 0.99)] < 0.05
