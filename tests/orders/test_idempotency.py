"""Idempotency-Key leases (orders/services/idempotency.py, orders/services/order_intake.py):
a request that died mid-way is taken over once its lease lapses and answered as it would have
been, without a second Binance order; a live lease is a 409 at once; old keys expire.

"Died" is simulated by what a killed process leaves: an in-progress record whose lease lapsed,
tied (by merchantTradeNo) to the order it stored, in each create state, with or without the
order at Binance (the sandbox). tests/orders/test_idempotency_live.py kills a real gunicorn
worker in the middle of the call.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from binance_pay import CreateOrderRequest
from orders.models import CreateState, IdempotencyRecord, Order, OrderEvent, OrderStatus
from orders.services.idempotency import idempotency_records_prune, request_fingerprint
from orders.services.orders import binance_payload, jsonable
from orders.validation import CreateOrderSerializer
from paysvc.integrations import binance_client
from tests.factories import ApplicationFactory, OrderFactory, api_key_factory, order_body
from tests.orders.test_apis import api

pytestmark = [pytest.mark.live]

PATH = "/api/v1/orders"


def post(client: Any, body: dict[str, Any], key: str) -> Any:
    return client.post(PATH, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def binance_calls(trade_no: str) -> list[str]:
    """The Binance paths called for an order, in order (its timeline)."""
    events = OrderEvent.objects.filter(
        order__merchant_trade_no=trade_no, kind="binance_call"
    ).order_by("id")
    return [e.detail["path"].rsplit("/openapi", 1)[1] for e in events]


def dead_request(
    application: Any,
    body: dict[str, Any],
    key: str,
    *,
    state: str | None,
    at_binance: bool = False,
    lease_left: float = -1.0,
) -> str:
    """What a request killed mid-way leaves behind; returns its merchantTradeNo.

    The record (lease lapsed ``-lease_left`` s ago, or live for ``lease_left`` s) holds the
    merchantTradeNo fixed before the order was stored; ``state`` None: it died before storing
    the order; else the order it stored, in that create state. ``at_binance``: its Create
    Order call reached Binance before the process died.
    """
    trade_no = uuid.uuid4().hex
    IdempotencyRecord.objects.create(
        application=application,
        key=key,
        request_hash=request_fingerprint(method="POST", path=PATH, data=body),
        locked_until=timezone.now() + dt.timedelta(seconds=lease_left),
        lease_token="dead" * 8,
        resource_ref=trade_no,
    )
    if state is None:
        return trade_no
    validated = CreateOrderSerializer(data=body)
    validated.is_valid(raise_exception=True)
    payload = jsonable(binance_payload(validated.validated_data, trade_no))
    fields: dict[str, Any] = {"create_state": state, "request_payload": payload}
    if state in (CreateState.PENDING, CreateState.UNKNOWN):
        fields.update(prepay_id=None, total_fee=None, checkout_url="", qr_content="")
        fields.update(expire_time=None)
    if state == CreateState.REJECTED:
        fields.update(prepay_id=None, checkout_url="", status=OrderStatus.ERROR)
        fields.update(failure_code="400003", failure_message="orderAmount is too small")
    if state == CreateState.LINKS_LOST:
        fields.update(checkout_url="", status=OrderStatus.CANCELED)
    OrderFactory(application=application, merchant_trade_no=trade_no, **fields)
    if at_binance:
        binance_client().create_order(CreateOrderRequest.from_dict(payload))
    return trade_no


@pytest.fixture
def shop(db) -> tuple[Any, Any]:
    key, raw = api_key_factory(application=ApplicationFactory(order_api_version="v2"))
    return key.application, api(raw)


# -- a request killed mid-way: the next retry takes over -----------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "at_binance", "status", "calls"),
    [
        # Died before storing the order: created now, with the merchantTradeNo it had fixed.
        (None, False, 201, ["/v2/order"]),
        # Died during Create Order: Binance is asked first; it never got the call -> create.
        (CreateState.PENDING, False, 201, ["/v2/order/query", "/v2/order"]),
        # ... it did get the call: the order exists, but its checkout links died with the
        # process: closed at Binance, reported failed (never a second order).
        (CreateState.PENDING, True, 502, ["/v2/order/query", "/order/close"]),
        (CreateState.UNKNOWN, False, 201, ["/v2/order/query", "/v2/order"]),
        (CreateState.UNKNOWN, True, 502, ["/v2/order/query", "/order/close"]),
        # Died after the answer was stored, before the record was: answered from the order.
        (CreateState.CREATED, False, 201, []),
        (CreateState.REJECTED, False, 502, []),
        (CreateState.LINKS_LOST, False, 502, []),
    ],
    ids=[
        "no-order",
        "pending",
        "pending-at-binance",
        "unknown",
        "unknown-at-binance",
        "created",
        "rejected",
        "links-lost",
    ],
)
def test_a_retry_after_the_lease_lapsed_answers_what_the_dead_request_should_have(
    shop, sandbox, state, at_binance, status, calls
):
    application, client = shop
    body = order_body()
    trade_no = dead_request(application, body, "checkout-1", state=state, at_binance=at_binance)
    before = OrderEvent.objects.filter(order__merchant_trade_no=trade_no).count()

    response = post(client, body, "checkout-1")

    assert response.status_code == status, response.json()
    assert "Idempotent-Replayed" not in response
    answer = response.json()
    order = Order.objects.get()  # one order, the dead request's: never a second
    assert order.merchant_trade_no == trade_no
    remote = sandbox.order(trade_no)
    if status == 201:
        assert answer["merchantTradeNo"] == trade_no
        assert order.create_state == CreateState.CREATED
        if calls:  # created by this retry: the sandbox's order is the one answered
            assert answer["prepayId"] == remote["prepayId"] == order.prepay_id
            assert answer["checkoutUrl"].startswith(sandbox.url)
        else:
            assert answer["prepayId"] == order.prepay_id and remote is None
    elif state == CreateState.REJECTED:
        assert answer["error"]["code"] == "upstream_error"
        assert answer["error"]["binanceCode"] == "400003"
        assert "orderAmount is too small" in answer["error"]["message"]
    else:
        assert answer["error"]["binanceCode"] == "links_lost"
        assert order.create_state == CreateState.LINKS_LOST
        if at_binance:
            assert remote["status"] == "CANCELED"  # nobody can pay what we cannot show
    calls_made = binance_calls(trade_no)
    assert calls_made[len(calls_made) - len(calls) :] == calls
    if not calls:
        assert OrderEvent.objects.filter(order__merchant_trade_no=trade_no).count() == before
    record = IdempotencyRecord.objects.get()
    assert record.completed_at is not None and record.locked_until is None
    # Every later repeat replays that answer.
    again = post(client, body, "checkout-1")
    assert (again.status_code, again.json()) == (status, answer)
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_an_order_stored_before_the_key_was_used_is_not_taken_for_the_dead_requests(shop, sandbox):
    """A takeover resumes only an order stored after the key's first use: an older order with
    the merchant's merchantTradeNo is another request's, and the answer is the usual 409."""
    application, client = shop
    trade_no = uuid.uuid4().hex
    OrderFactory(application=application, merchant_trade_no=trade_no)
    body = order_body(merchantTradeNo=trade_no)
    IdempotencyRecord.objects.create(
        application=application,
        key="checkout-1",
        request_hash=request_fingerprint(method="POST", path=PATH, data=body),
        locked_until=timezone.now() - dt.timedelta(seconds=1),
        lease_token="dead" * 8,
    )

    response = post(client, body, "checkout-1")

    assert response.status_code == 409, response.json()
    assert "already used" in response.json()["error"]["message"]
    assert sandbox.order(trade_no) is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_after_a_lapsed_lease_take_over_once(sandbox):
    """10 clients retry at once (each again after Retry-After while told to wait): exactly one
    takes over, Binance is asked and called once, and all end with the same 201."""
    key, raw = api_key_factory(application=ApplicationFactory(order_api_version="v2"))
    body = order_body()
    trade_no = dead_request(key.application, body, "checkout-1", state=CreateState.PENDING)

    def retry_until_answered(_: int) -> tuple[list[int], Any]:
        seen = []
        try:
            for _attempt in range(30):
                response = post(api(raw), body, "checkout-1")
                seen.append(response.status_code)
                if response.status_code != 409:
                    return seen, response.json()
                assert response.json()["error"]["code"] == "request_in_progress"
                time.sleep(int(response["Retry-After"]))
            return seen, None
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(retry_until_answered, range(10)))

    answers = [answer for _, answer in results]
    assert all(answer == answers[0] for answer in answers), results
    assert answers[0]["merchantTradeNo"] == trade_no
    assert [seen[-1] for seen, _ in results] == [201] * 10
    assert Order.objects.count() == 1
    assert binance_calls(trade_no) == ["/v2/order/query", "/v2/order"]
    assert sandbox.order(trade_no)["prepayId"] == answers[0]["prepayId"]


# -- a live lease: 409 at once -------------------------------------------------------------------
@pytest.mark.django_db
def test_while_the_lease_is_live_a_repeat_is_409_at_once_with_retry_after(shop, sandbox, settings):
    application, client = shop
    settings.PAYSVC_IDEMPOTENCY_RETRY_AFTER_SECONDS = 2
    body = order_body()
    trade_no = dead_request(
        application, body, "checkout-1", state=CreateState.PENDING, lease_left=60
    )

    started = time.monotonic()
    response = post(client, body, "checkout-1")
    elapsed = time.monotonic() - started

    # Not held for the old 30 s wait: answered while the first request still has ~60 s.
    assert elapsed < 5
    assert response.status_code == 409
    assert response["Retry-After"] == "2"
    assert response.json() == {
        "error": {
            "code": "request_in_progress",
            "message": "a request with this Idempotency-Key is still being processed; send it "
            "again after 2 s",
            "retryAfter": 2,
        }
    }
    record = IdempotencyRecord.objects.get()
    assert record.lease_token == "dead" * 8 and record.completed_at is None  # left alone
    assert binance_calls(trade_no) == []
    # Another body with the key is still a plain conflict.
    other = post(client, order_body(orderAmount="1"), "checkout-1")
    assert other.status_code == 409 and other.json()["error"]["code"] == "conflict"


@pytest.mark.django_db
def test_retry_after_is_no_longer_than_the_lease_has_left(shop, sandbox, settings):
    application, client = shop
    settings.PAYSVC_IDEMPOTENCY_RETRY_AFTER_SECONDS = 30
    dead_request(application, order_body(), "k", state=None, lease_left=0.5)

    response = post(client, order_body(), "k")

    assert response.status_code == 409
    assert response["Retry-After"] == "1"


@pytest.mark.django_db(transaction=True)
def test_the_lease_is_renewed_while_the_first_request_is_still_computing(sandbox, settings):
    """Binance holds Create Order 2 s, four times the 0.5 s lease: renewed every third of it,
    the lease stays live, so a repeat meanwhile is told to wait instead of taking over."""
    settings.PAYSVC_IDEMPOTENCY_LEASE_SECONDS = 0.5
    sandbox.fault(mode="delay", seconds=2, count=1, path="/v2/order")
    _key, raw = api_key_factory(application=ApplicationFactory(order_api_version="v2"))
    body = order_body()
    first: list[Any] = []

    def send_first() -> None:
        try:
            first.append(post(api(raw), body, "checkout-1"))
        finally:
            connection.close()

    thread = threading.Thread(target=send_first)
    thread.start()
    assert wait_for(lambda: Order.objects.exists())
    time.sleep(1.2)  # past two leases of the first request
    repeat = post(api(raw), body, "checkout-1")
    thread.join()

    assert repeat.status_code == 409, repeat.json()
    assert repeat.json()["error"]["code"] == "request_in_progress"
    assert first[0].status_code == 201
    trade_no = first[0].json()["merchantTradeNo"]
    assert binance_calls(trade_no) == ["/v2/order"]  # no takeover queried or created again
    assert post(api(raw), body, "checkout-1").json() == first[0].json()


def wait_for(predicate: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.django_db
def test_an_unexpected_failure_gives_the_lease_back_and_the_retry_resumes(
    shop, sandbox, monkeypatch
):
    """The record (with its merchantTradeNo) stays; the retry takes over at once, no 409."""
    from orders.services import order_intake

    _application, client = shop
    body = order_body()
    real_create = order_intake.order_create

    def crash(**kwargs: Any) -> Order:
        raise RuntimeError("bug")

    monkeypatch.setattr(order_intake, "order_create", crash)
    with pytest.raises(RuntimeError):
        post(client, body, "checkout-1")
    record = IdempotencyRecord.objects.get()
    assert record.completed_at is None and record.locked_until is None and record.resource_ref

    monkeypatch.setattr(order_intake, "order_create", real_create)
    response = post(client, body, "checkout-1")

    assert response.status_code == 201, response.json()
    assert response.json()["merchantTradeNo"] == record.resource_ref


@pytest.mark.django_db
def test_a_record_from_before_leases_is_taken_over_only_after_the_old_60_s(shop, sandbox):
    """No lease and no token: written by the code before leases (say, during a rolling deploy),
    whose request could still be running for up to 60 s."""
    application, client = shop
    body = order_body()
    IdempotencyRecord.objects.create(
        application=application,
        key="legacy",
        request_hash=request_fingerprint(method="POST", path=PATH, data=body),
    )

    fresh = post(client, body, "legacy")
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(seconds=61))
    old = post(client, body, "legacy")

    assert fresh.status_code == 409 and fresh.json()["error"]["code"] == "request_in_progress"
    assert old.status_code == 201, old.json()


# -- expiry --------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_keys_expire_after_the_ttl(shop, sandbox, settings):
    application, client = shop
    settings.PAYSVC_IDEMPOTENCY_KEY_TTL_HOURS = 24
    first = post(client, order_body(), "old")
    post(client, order_body(), "recent")
    dead_request(application, order_body(), "old-but-leased", state=None, lease_left=60)
    day_ago = timezone.now() - dt.timedelta(hours=24, minutes=1)
    IdempotencyRecord.objects.exclude(key="recent").update(created_at=day_ago)

    # Before beat runs: an expired key is a new key (another body is no conflict any more).
    reused = post(client, order_body(orderAmount="1"), "old")
    assert first.status_code == reused.status_code == 201
    assert reused.json()["merchantTradeNo"] != first.json()["merchantTradeNo"]
    IdempotencyRecord.objects.filter(key="old").update(created_at=day_ago)

    assert idempotency_records_prune() == 1  # "old"; the leased one is still running

    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == [
        "old-but-leased",
        "recent",
    ]


def test_beat_prunes_idempotency_keys_hourly(settings):
    from paysvc.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["orders-prune-idempotency-keys"]
    assert entry["task"] == "orders.prune_idempotency_keys"
    assert entry["schedule"] == 3600.0
    app.loader.import_default_modules()
    assert "orders.prune_idempotency_keys" in app.tasks


# -- the merchantTradeNo fixed by the record's INSERT ---------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("own_trade_no", [False, True])
def test_a_new_key_fixes_the_merchant_trade_no_in_its_insert_and_replays(
    shop, sandbox, own_trade_no
):
    """No UPDATE notes the merchantTradeNo: the record's INSERT holds it already."""
    from django.test.utils import CaptureQueriesContext

    _application, client = shop
    body = order_body(**({"merchantTradeNo": uuid.uuid4().hex} if own_trade_no else {}))

    with CaptureQueriesContext(connection) as queries:
        first = post(client, body, "fixed-1")
    again = post(client, body, "fixed-1")

    assert first.status_code == 201, first.json()
    trade_no = first.json()["merchantTradeNo"]
    if own_trade_no:
        assert trade_no == body["merchantTradeNo"]
    record = IdempotencyRecord.objects.get()
    assert record.resource_ref == trade_no
    assert not [
        q
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and "resource_ref" in q["sql"]
    ]
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"merchantTradeNo": "abc123"}, "abc123"),
        ({"merchantTradeNo": "x" * 33}, ""),  # refused by validation; nothing to fix
        ({"merchantTradeNo": ""}, ""),
        ({"merchantTradeNo": 12}, ""),
        (["not", "an", "object"], ""),
    ],
)
def test_order_resource_ref_takes_a_plausible_own_trade_no_only(body, expected):
    from orders.services.order_intake import order_resource_ref

    assert order_resource_ref(body) == expected


def test_order_resource_ref_makes_one_when_the_body_names_none():
    from orders.services.order_intake import order_resource_ref

    made = order_resource_ref({"merchantTradeNo": None})
    assert len(made) == 32 and made.isalnum() and made != order_resource_ref({})
