"""Processing stored events (docs/reliability.md#b2-duplicates-and-races): the handler table,
ordering and races, orphans, failures recorded on the row, the sweeper. Events are stored through
the real receiver."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from binance_pay import OrderResult
from orders.errors import BinanceUnavailable
from orders.gateway import BinanceGateway
from orders.models import AccountShare, CreateState, Order, OrderEvent, OrderStatus
from orders.services.orders import _attach_result
from tests.factories import ApplicationFactory, OrderFactory
from tests.webhooks.factories import pay_body, share_body
from webhooks.models import EventStatus, WebhookEvent
from webhooks.services import (
    handlers,
    webhook_event_process,
    webhook_event_reprocess,
    webhook_events_sweep,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def deliver(signer, post, certs_endpoint):
    """Store one signed delivery through the receiver; returns its event (None if duplicate)."""

    def _deliver(body: bytes) -> WebhookEvent | None:
        before = set(WebhookEvent.objects.values_list("pk", flat=True))
        response = post(body, signer.headers(body))
        assert response.status_code == 200, response.content
        new = WebhookEvent.objects.exclude(pk__in=before)
        return new.get() if new.exists() else None

    return _deliver


def paid_transitions(order: Order) -> int:
    return OrderEvent.objects.filter(
        order=order, kind="status_change", to_status__in=["PAID", "PAID_AFTER_CLOSE"]
    ).count()


def test_pay_success_marks_the_order_paid_once_with_binance_facts(deliver):
    order = OrderFactory()
    event = deliver(pay_body(order, transact_time=1_700_000_123_456))

    assert webhook_event_process(event_id=event.pk) == EventStatus.PROCESSED
    assert webhook_event_process(event_id=event.pk) is None  # final: skipped

    order.refresh_from_db()
    event.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.paid_at == dt.datetime(2023, 11, 14, 22, 15, 23, 456000, tzinfo=dt.UTC)
    assert order.open_user_id == "f36fae12c2b40cdbc9ee6ed5402638e0"
    assert order.commission == Decimal(0)
    assert paid_transitions(order) == 1
    assert event.status == EventStatus.PROCESSED
    assert event.attempts == 1
    assert event.processed_at is not None


@pytest.mark.parametrize(
    ("total_fee", "currency"), [("25.16000000", "USDT"), ("25.17000000", "usdt"), ("0", "USDT")]
)
def test_an_amount_or_currency_mismatch_flags_the_order_and_never_pays_it(
    deliver, total_fee, currency
):
    """docs/reliability.md#47-amount-mismatch."""
    order = OrderFactory()
    event = deliver(pay_body(order, total_fee=total_fee, currency=currency))

    assert webhook_event_process(event_id=event.pk) == EventStatus.FLAGGED

    order.refresh_from_db()
    assert order.status == OrderStatus.INITIAL
    assert order.flagged
    assert "PAY_SUCCESS webhook reports" in order.flag_reason
    assert paid_transitions(order) == 0
    assert OrderEvent.objects.filter(order=order, summary__startswith="flagged:").count() == 1


def test_pay_closed_after_pay_success_leaves_the_order_paid(deliver, monkeypatch):
    """docs/reliability.md#12-closed-after-paid: no backward transition, and no need to ask
    Binance."""
    monkeypatch.setattr(handlers, "order_sync", _must_not_be_called)
    order = OrderFactory()
    paid = deliver(pay_body(order))
    closed = deliver(pay_body(order, status="PAY_CLOSED"))

    webhook_event_process(event_id=paid.pk)
    assert webhook_event_process(event_id=closed.pk) == EventStatus.PROCESSED

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert not OrderEvent.objects.filter(order=order, from_status="PAID").exists()


@pytest.mark.parametrize("closed_status", [OrderStatus.EXPIRED, OrderStatus.CANCELED])
def test_pay_success_after_local_close_is_paid_after_close_and_flagged(deliver, closed_status):
    """docs/reliability.md#13-paid-after-close: the money arrived; it is never dropped."""
    order = OrderFactory(status=closed_status)
    event = deliver(pay_body(order))

    assert webhook_event_process(event_id=event.pk) == EventStatus.PROCESSED

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID_AFTER_CLOSE
    assert order.flagged
    assert paid_transitions(order) == 1


def test_a_webhook_before_create_returned_wins_and_the_create_answer_keeps_it(deliver):
    """docs/reliability.md#14-webhook-before-create-answer (unit level; tests/webhooks/test_live.py
    does it with processes)."""
    order = OrderFactory(
        prepay_id=None, total_fee=None, create_state=CreateState.PENDING, expire_time=None
    )
    prepay_id = "219129167241265152"
    event = deliver(pay_body(order, prepay_id=prepay_id, total_fee="25.17000000"))

    assert webhook_event_process(event_id=event.pk) == EventStatus.PROCESSED
    order.refresh_from_db()
    assert (order.status, order.prepay_id) == (OrderStatus.PAID, prepay_id)

    _attach_result(
        order=order,
        result=OrderResult(
            prepay_id=prepay_id,
            terminal_type="WEB",
            expire_time=1_700_003_600_000,
            qrcode_link=None,
            qr_content=None,
            checkout_url="https://pay.binance.com/en/checkout/x",
            deeplink=None,
            universal_url=None,
            currency="USDT",
            total_fee=Decimal("25.17"),
        ),
        gateway=BinanceGateway(source="api", order=order),
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.create_state == CreateState.CREATED
    assert paid_transitions(order) == 1


def test_a_fiat_order_whose_amount_is_not_known_yet_is_retried_not_failed(deliver):
    order = OrderFactory(
        order_amount=None, currency="", total_fee=None, fiat_amount="10", fiat_currency="USD"
    )
    event = deliver(pay_body(order, total_fee="10.00000000", currency="USDT"))

    assert webhook_event_process(event_id=event.pk) == EventStatus.RECEIVED

    event.refresh_from_db()
    assert event.next_attempt_at > timezone.now()
    Order.objects.filter(pk=order.pk).update(total_fee=Decimal("10"), currency="USDT")
    assert webhook_event_process(event_id=event.pk) == EventStatus.PROCESSED


def test_an_unknown_merchant_trade_no_is_an_orphan_until_the_order_appears(deliver, broker):
    """docs/reliability.md#15-unknown-merchanttradeno: stored with 200, ORPHAN, retried by the
    sweeper, 0 dropped."""
    trade_no = uuid.uuid4().hex
    event = deliver(pay_body(merchant_trade_no=trade_no))

    assert webhook_event_process(event_id=event.pk) == EventStatus.ORPHAN
    event.refresh_from_db()
    assert event.next_attempt_at - timezone.now() == pytest.approx(
        dt.timedelta(seconds=30), abs=dt.timedelta(seconds=2)
    )
    broker.published.clear()
    assert webhook_events_sweep() == 0  # not due yet

    order = OrderFactory(merchant_trade_no=trade_no)
    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
    assert webhook_events_sweep() == 1
    assert broker.published == [event.pk]
    assert webhook_event_process(event_id=event.pk) == EventStatus.PROCESSED
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_orphans_back_off_alert_after_15_minutes_and_give_up_after_a_day(deliver, caplog):
    event = deliver(pay_body())
    gaps = []
    for _ in range(7):
        webhook_event_process(event_id=event.pk)
        event.refresh_from_db()
        gaps.append(round((event.next_attempt_at - timezone.now()).total_seconds() / 30) * 30)
    assert gaps == [30, 60, 120, 300, 600, 900, 900]
    assert "ALERT" not in caplog.text

    WebhookEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - dt.timedelta(minutes=16)
    )
    webhook_event_process(event_id=event.pk)
    assert "ALERT webhook event" in caplog.text

    WebhookEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - dt.timedelta(days=1, minutes=1)
    )
    assert webhook_event_process(event_id=event.pk) == EventStatus.FAILED
    event.refresh_from_db()
    assert "still waiting" in event.last_error


def test_unknown_types_and_statuses_are_ignored_never_errors(deliver):
    order = OrderFactory()
    lower = deliver(pay_body(order, status="pay_success"))
    event = deliver(pay_body(order, status="PAY_PENDING"))

    assert webhook_event_process(event_id=lower.pk) == EventStatus.IGNORED
    assert webhook_event_process(event_id=event.pk) == EventStatus.IGNORED
    order.refresh_from_db()
    assert order.status == OrderStatus.INITIAL


def test_a_notification_missing_its_data_fails_visibly(deliver, signer):
    from tests.webhooks.factories import envelope

    event = deliver(envelope("PAY", "219129167241265152", "PAY_SUCCESS", '{"productType":"02"}'))

    assert webhook_event_process(event_id=event.pk) == EventStatus.FAILED
    event.refresh_from_db()
    assert "merchantTradeNo" in event.last_error


def test_binance_unavailable_is_retried_then_failed_on_the_last_attempt(deliver, monkeypatch):
    def unavailable(**kwargs: Any) -> None:
        raise BinanceUnavailable("down", outcome_unknown=False, retrying=False)

    monkeypatch.setattr(handlers, "order_sync", unavailable)
    order = OrderFactory()
    event = deliver(pay_body(order, status="PAY_CLOSED"))

    with pytest.raises(BinanceUnavailable):
        webhook_event_process(event_id=event.pk)
    event.refresh_from_db()
    assert event.status == EventStatus.RECEIVED
    assert "retrying" in event.last_error
    assert event.next_attempt_at > timezone.now() + dt.timedelta(minutes=10)  # the task retries

    assert webhook_event_process(event_id=event.pk, final_attempt=True) == EventStatus.FAILED
    event.refresh_from_db()
    assert "gave up after 2 attempts" in event.last_error


def test_a_failed_event_can_be_reprocessed_once_fixed(deliver, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    order = OrderFactory()
    event = deliver(pay_body(order))
    monkeypatch.setitem(handlers.HANDLERS, ("PAY", "PAY_SUCCESS"), broken)
    assert webhook_event_process(event_id=event.pk) == EventStatus.FAILED
    monkeypatch.undo()

    assert webhook_event_reprocess(event_id=event.pk) == EventStatus.PROCESSED
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_share_account_success_shares_the_binance_id_once(deliver):
    share = AccountShare.objects.create(
        application=ApplicationFactory(),
        customer_ref="c1",
        request_id=uuid.uuid4().hex,
        status="PENDING",
        share_id="219014596974616576",
    )
    body = share_body(request_id=share.request_id, share_id=share.share_id)
    event = deliver(body)

    assert webhook_event_process(event_id=event.pk) == EventStatus.PROCESSED
    share.refresh_from_db()
    assert (share.status, share.user_binance_id, share.user_name) == (
        "SHARED",
        "100103397765",
        "xxx",
    )
    assert share.shared_at is not None

    orphan = deliver(share_body(request_id=uuid.uuid4().hex, share_id="1"))
    assert webhook_event_process(event_id=orphan.pk) == EventStatus.ORPHAN


def test_an_unknown_refund_request_id_is_an_orphan(deliver):
    from tests.webhooks.factories import refund_body

    event = deliver(refund_body(merchant_trade_no="m", prepay_id="1", refund_request_id="nope"))

    assert webhook_event_process(event_id=event.pk) == EventStatus.ORPHAN


def _must_not_be_called(**kwargs: Any) -> None:
    raise AssertionError("Binance must not be asked")


# -- handlers that ask Binance (live sandbox) ----------------------------------------------------
@pytest.mark.live
def test_pay_closed_asks_binance_and_applies_its_status(deliver, sandbox):
    from tests.webhooks.factories import api_order, merchant_api

    created = api_order(merchant_api())
    status, _ = sandbox.control("POST", f"/orders/{created['merchantTradeNo']}/expire", {})
    assert status == 200
    order = Order.objects.get(merchant_trade_no=created["merchantTradeNo"])
    event = deliver(pay_body(order, status="PAY_CLOSED"))

    assert webhook_event_process(event_id=event.pk) == EventStatus.PROCESSED

    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert OrderEvent.objects.get(order=order, to_status="EXPIRED").source == "webhook"


@pytest.mark.live
def test_refund_success_completes_the_refund_and_the_order_follows_binance(deliver, sandbox):
    from orders.models import Refund, RefundStatus
    from tests.webhooks.factories import api_order, merchant_api, refund_body

    client = merchant_api()
    trade_no = api_order(client)["merchantTradeNo"]
    sandbox.pay(trade_no)
    client.post(f"/api/v1/orders/{trade_no}/sync")
    response = client.post(
        f"/api/v1/orders/{trade_no}/refunds", {"refundAmount": "25.17"}, format="json"
    )
    assert response.status_code == 202, response.content
    refund = Refund.objects.get()
    Refund.objects.filter(pk=refund.pk).update(status=RefundStatus.PENDING)
    order = refund.order
    from tests.live import wait_until

    assert wait_until(lambda: sandbox.order(trade_no)["status"] == "FULL_REFUNDED", timeout=5)
    event = deliver(
        refund_body(
            merchant_trade_no=trade_no,
            prepay_id=order.prepay_id,
            refund_request_id=refund.refund_request_id,
            refund_amount="25.17000000",
            refunded_amount="25.17000000",
        )
    )

    assert webhook_event_process(event_id=event.pk) == EventStatus.PROCESSED

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == RefundStatus.SUCCESS
    assert refund.completed_at is not None
    assert order.status == OrderStatus.FULL_REFUNDED
