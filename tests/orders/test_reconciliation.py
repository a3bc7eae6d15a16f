"""Reconciliation (docs/reliability.md#b4-reconciliation): polling Binance finds what webhooks did
not say.

Most tests run against the live sandbox, whose webhooks go nowhere here (no webhook URL), which
is exactly "all webhooks lost".
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders import reconciliation, tasks
from orders.models import CreateState, Order, OrderEvent, OrderStatus, Refund, RefundStatus
from orders.reconciliation import (
    order_reconcile,
    orders_claim_due,
    refund_reconcile,
    refunds_claim_due,
)
from tests.factories import OrderFactory
from tests.live import wait_until
from tests.webhooks.factories import api_order, merchant_api

pytestmark = pytest.mark.django_db


@pytest.fixture
def grace(settings: Any) -> dt.timedelta:
    settings.PAYSVC_RECONCILE_EXPIRY_GRACE_SECONDS = 600
    return dt.timedelta(seconds=600)


def polled_transitions(order: Order, to_status: str) -> int:
    return OrderEvent.objects.filter(
        order=order, kind="status_change", source="reconciliation", to_status=to_status
    ).count()


# -- the schedule and the claim -------------------------------------------------------------------
def test_the_schedule_backs_off_from_creation_then_repeats_every_ten_minutes():
    created = timezone.now()
    points = []
    now = created
    for _ in range(8):
        at = reconciliation._next_check(created, now)
        points.append(at)
        now = at
    offsets = [(p - created).total_seconds() for p in points]
    expected = [10, 30, 60, 120, 300, 900, 1500, 2100]
    for offset, planned in zip(offsets, expected, strict=True):
        assert planned <= offset < planned * 1.1 + 30  # + at most 10 % jitter of the wait


def test_the_check_just_after_expiry_comes_before_the_regular_one():
    created = timezone.now()
    expiry = created + dt.timedelta(seconds=200)

    at = reconciliation._next_check(created, created + dt.timedelta(seconds=130), extra=(expiry,))

    assert expiry <= at <= expiry + dt.timedelta(seconds=8)


def test_claiming_takes_due_open_rows_once_and_leases_them():
    old = timezone.now() - dt.timedelta(seconds=11)
    due_new = OrderFactory()
    due_scheduled = OrderFactory()
    fresh = OrderFactory()
    later = OrderFactory()
    final = OrderFactory(status=OrderStatus.PAID)
    Order.objects.filter(pk__in=[due_new.pk, final.pk]).update(created_at=old)
    Order.objects.filter(pk=due_scheduled.pk).update(next_reconcile_at=timezone.now())
    Order.objects.filter(pk=later.pk).update(
        created_at=old, next_reconcile_at=timezone.now() + dt.timedelta(minutes=1)
    )

    claimed = orders_claim_due()

    assert sorted(claimed) == sorted([due_new.pk, due_scheduled.pk])
    assert orders_claim_due() == []  # leased
    leased = Order.objects.get(pk=due_new.pk).next_reconcile_at
    assert leased - timezone.now() > dt.timedelta(seconds=100)
    assert fresh.pk not in claimed


def test_the_beat_task_enqueues_one_task_per_due_order_and_refund(monkeypatch):
    order = OrderFactory(status=OrderStatus.PAID)
    refund = Refund.objects.create(order=order, refund_request_id="r1", refund_amount=Decimal(1))
    other = OrderFactory()
    Order.objects.filter(pk=other.pk).update(next_reconcile_at=timezone.now())
    Refund.objects.filter(pk=refund.pk).update(next_reconcile_at=timezone.now())
    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(tasks.reconcile_order, "delay", lambda pk: sent.append(("order", pk)))
    monkeypatch.setattr(tasks.reconcile_refund, "delay", lambda pk: sent.append(("refund", pk)))

    tasks.reconcile_due()

    assert sent == [("order", other.pk), ("refund", refund.pk)]
    assert refunds_claim_due() == []


# -- against the sandbox --------------------------------------------------------------------------
pytest_live = pytest.mark.live


@pytest_live
def test_paid_orders_whose_webhooks_never_came_are_found_by_polling(sandbox, grace):
    """docs/reliability.md#29-all-webhooks-dropped (the sandbox has nowhere to send webhooks: 100 %
    dropped)."""
    client = merchant_api()
    trade_nos = [api_order(client)["merchantTradeNo"] for _ in range(5)]
    for trade_no in trade_nos:
        sandbox.pay(trade_no)

    outcomes = [order_reconcile(order_id=o.pk) for o in Order.objects.all()]

    assert outcomes == ["changed"] * 5
    for order in Order.objects.all():
        assert order.status == OrderStatus.PAID
        assert order.next_reconcile_at is None
        assert order.transaction_id
        assert polled_transitions(order, "PAID") == 1


@pytest_live
def test_an_order_binance_still_reports_open_past_expiry_and_grace_ends_expired(sandbox, grace):
    """docs/reliability.md#30-never-paid-orders: never paid -> EXPIRED by expiry + grace, with the
    reason."""
    order = Order.objects.get(merchant_trade_no=api_order(merchant_api())["merchantTradeNo"])
    Order.objects.filter(pk=order.pk).update(expire_time=timezone.now() - dt.timedelta(minutes=5))

    assert order_reconcile(order_id=order.pk) == "unchanged"  # within the grace
    order.refresh_from_db()
    assert order.status == OrderStatus.INITIAL
    assert order.next_reconcile_at <= order.expire_time + grace + dt.timedelta(seconds=1)

    Order.objects.filter(pk=order.pk).update(expire_time=timezone.now() - grace)
    assert order_reconcile(order_id=order.pk) == "changed"
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    event = OrderEvent.objects.get(order=order, to_status="EXPIRED")
    assert event.source == "reconciliation"
    assert "still reports it INITIAL" in event.summary


@pytest_live
def test_an_order_binance_expired_is_expired_on_the_next_check(sandbox, grace):
    trade_no = api_order(merchant_api())["merchantTradeNo"]
    status, _ = sandbox.control("POST", f"/orders/{trade_no}/expire", {})
    assert status == 200

    order = Order.objects.get(merchant_trade_no=trade_no)
    assert order_reconcile(order_id=order.pk) == "changed"
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert order.next_reconcile_at is None


@pytest_live
def test_a_binance_outage_is_an_error_that_waits_and_never_expires_an_order(sandbox, grace):
    order = Order.objects.get(merchant_trade_no=api_order(merchant_api())["merchantTradeNo"])
    Order.objects.filter(pk=order.pk).update(expire_time=timezone.now() - 2 * grace)
    sandbox.fault(mode="500", count=5, path="/v2/order/query")

    assert order_reconcile(order_id=order.pk) == "error"

    order.refresh_from_db()
    assert order.status == OrderStatus.INITIAL
    assert order.next_reconcile_at > timezone.now()
    assert order.reconcile_attempts == 1


@pytest_live
@pytest.mark.parametrize("version", ["v2", "v3"])
def test_an_order_whose_creation_is_unknown_is_queried_then_created_once(
    sandbox, monkeypatch, version
):
    from orders.services import orders as order_services

    monkeypatch.setattr(order_services, "_schedule_resolution", lambda *a, **k: None)
    sandbox.fault(mode="500", count=2, path=f"/{version}/order")
    client = merchant_api(version)
    trade_no = uuid.uuid4().hex
    from tests.factories import order_body

    response = client.post("/api/v1/orders", order_body(merchantTradeNo=trade_no), format="json")
    assert response.status_code in (503, 504), response.content
    order = Order.objects.get(merchant_trade_no=trade_no)
    assert order.create_state == CreateState.UNKNOWN
    assert sandbox.order(trade_no) is None

    assert order_reconcile(order_id=order.pk) == "unchanged"

    order.refresh_from_db()
    assert order.create_state == CreateState.CREATED
    assert order.checkout_url
    assert sandbox.order(trade_no)["prepayId"] == order.prepay_id


@pytest_live
def test_a_pending_create_is_left_to_its_request_then_queried_first(sandbox):
    order = OrderFactory(create_state=CreateState.PENDING, prepay_id=None, total_fee=None)
    from tests.factories import order_body

    payload = {**order_body(), "merchantTradeNo": order.merchant_trade_no}
    payload.pop("customerRef")
    Order.objects.filter(pk=order.pk).update(request_payload=payload)

    assert order_reconcile(order_id=order.pk) == "unchanged"
    order.refresh_from_db()
    assert order.create_state == CreateState.PENDING  # its API request may still be running

    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - dt.timedelta(minutes=2))
    order_reconcile(order_id=order.pk)
    order.refresh_from_db()
    assert order.create_state == CreateState.CREATED
    paths = list(
        OrderEvent.objects.filter(order=order, kind="binance_call").values_list(
            "detail__path", flat=True
        )
    )
    assert [p.rsplit("/openapi", 1)[1] for p in paths] == ["/v2/order/query", "/v2/order"]


@pytest_live
def test_a_pending_refund_is_completed_by_polling_and_the_order_follows(sandbox):
    client = merchant_api()
    trade_no = api_order(client)["merchantTradeNo"]
    sandbox.pay(trade_no)
    assert client.post(f"/api/v1/orders/{trade_no}/sync").status_code == 200
    Refund.objects.all().delete()
    response = client.post(
        f"/api/v1/orders/{trade_no}/refunds", {"refundAmount": "5"}, format="json"
    )
    assert response.status_code == 202, response.content
    refund = Refund.objects.get()
    assert wait_until(
        lambda: (
            sandbox.control("GET", f"/refunds/{refund.refund_request_id}")[1]["refundStatus"]
            == "REFUND_SUCCESS"
        ),
        timeout=5,
    )
    Refund.objects.filter(pk=refund.pk).update(status=RefundStatus.PENDING)

    assert refund_reconcile(refund_id=refund.pk) == "changed"

    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCESS
    assert refund.next_reconcile_at is None
    assert Order.objects.get(merchant_trade_no=trade_no).status == OrderStatus.REFUNDED


@pytest_live
def test_a_refund_binance_never_received_is_sent_again_with_its_id(sandbox):
    client = merchant_api()
    trade_no = api_order(client)["merchantTradeNo"]
    sandbox.pay(trade_no)
    client.post(f"/api/v1/orders/{trade_no}/sync")
    order = Order.objects.get(merchant_trade_no=trade_no)
    refund = Refund.objects.create(
        order=order, refund_request_id=uuid.uuid4().hex, refund_amount=Decimal(2)
    )

    assert refund_reconcile(refund_id=refund.pk) == "error"  # too fresh to resend: maybe in flight
    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - dt.timedelta(minutes=2))
    assert refund_reconcile(refund_id=refund.pk) == "changed"

    refund.refresh_from_db()
    assert refund.status in (RefundStatus.PENDING, RefundStatus.SUCCESS)
    remote = sandbox.control("GET", f"/refunds/{refund.refund_request_id}")[1]
    assert Decimal(remote["refundAmount"]) == Decimal(2)


@pytest_live
def test_reconcile_now_checks_every_open_order(sandbox, grace):
    client = merchant_api()
    paid, unpaid = (api_order(client)["merchantTradeNo"] for _ in range(2))
    sandbox.pay(paid)
    out, err = io.StringIO(), io.StringIO()

    call_command("reconcile_now", "--all-open", stdout=out, stderr=err)

    assert "orders: changed=1, unchanged=1" in out.getvalue()
    assert "orders [" in err.getvalue()
    assert Order.objects.get(merchant_trade_no=paid).status == OrderStatus.PAID
    assert Order.objects.get(merchant_trade_no=unpaid).status == OrderStatus.INITIAL
