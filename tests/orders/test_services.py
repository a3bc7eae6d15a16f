"""orders.services against the live sandbox: refund rules, unknown outcomes resolved later,
status moves under the transition table."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from orders.errors import BinanceUnavailable, RefundNotAllowed
from orders.models import CreateState, EventSource, Order, OrderStatus, Refund
from orders.services import order_create, order_status_apply, order_sync, refund_create
from orders.tasks import resolve_order_creation
from tests.factories import ApplicationFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db]


def order_data(amount: str = "10", **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "env": {"terminalType": "WEB"},
        "orderAmount": Decimal(amount),
        "currency": "USDT",
        "goods": {
            "goodsType": "02",
            "goodsCategory": "Z000",
            "referenceGoodsId": "sku001",
            "goodsName": "Ice Cream",
        },
    }
    data.update(extra)
    return data


def paid_order(sandbox, amount: str = "10") -> Order:
    order = order_create(application=ApplicationFactory(), data=order_data(amount), actor="t")
    sandbox.pay(order.merchant_trade_no)
    return order_sync(order=order, source=EventSource.API)


def test_the_last_refund_attempt_must_refund_everything_that_remains(sandbox):
    # Binance: 10 refunds per order; when remainingAttempts is 1, the next refund ignores the
    # requested amount and refunds everything remaining (docs/binance-pay.md#refund-order).
    order = paid_order(sandbox)
    assert order.status == OrderStatus.PAID
    for _ in range(9):
        refund_create(order=order, refund_amount=Decimal("0.5"), source=EventSource.API)

    with pytest.raises(RefundNotAllowed, match="last refund attempt") as refused:
        refund_create(order=order, refund_amount=Decimal("0.5"), source=EventSource.API)

    assert "5.5" in refused.value.message
    last = refund_create(order=order, refund_amount=Decimal("5.5"), source=EventSource.API)
    assert last.status in ("REFUND_PENDING", "REFUND_SUCCESS")
    assert Refund.objects.filter(order=order).count() == 10
    with pytest.raises(RefundNotAllowed):
        refund_create(order=order, refund_amount=Decimal("0.01"), source=EventSource.API)


def test_an_unknown_creation_is_resolved_by_the_background_task(sandbox):
    trade_no = uuid.uuid4().hex
    sandbox.fault(mode="timeout", count=4, seconds=30)
    with pytest.raises(BinanceUnavailable) as unknown:
        order_create(
            application=ApplicationFactory(),
            data=order_data(merchantTradeNo=trade_no),
            actor="t",
        )
    assert unknown.value.outcome_unknown
    sandbox.clear_faults()

    # The task the API scheduled; run here in-process with the same arguments.
    resolve_order_creation.run(Order.objects.get(merchant_trade_no=trade_no).pk)

    order = Order.objects.get(merchant_trade_no=trade_no)
    # The timeouts swallowed the answers, so either Binance never saw the order (created now,
    # with links) or it did (links lost: closed). Never two Binance orders.
    assert order.create_state in (CreateState.CREATED, CreateState.LINKS_LOST)
    remote = sandbox.order(trade_no)
    assert remote is not None
    if order.create_state == CreateState.CREATED:
        assert remote["prepayId"] == order.prepay_id


def test_status_never_moves_backwards(sandbox):
    order = paid_order(sandbox)

    stale = order_status_apply(order_id=order.pk, status="INITIAL", source=EventSource.WEBHOOK)
    closed = order_status_apply(order_id=order.pk, status="CANCELED", source=EventSource.WEBHOOK)

    assert stale.status == closed.status == OrderStatus.PAID
    notes = order.events.filter(summary__startswith="ignored stale status")
    assert notes.count() == 2


def test_a_payment_after_close_is_kept_and_flagged(sandbox):
    order = order_create(application=ApplicationFactory(), data=order_data(), actor="t")
    order_status_apply(order_id=order.pk, status="CANCELED", source=EventSource.API)

    paid = order_status_apply(order_id=order.pk, status="PAID", source=EventSource.WEBHOOK)

    assert paid.status == OrderStatus.PAID_AFTER_CLOSE
    assert paid.flagged
    assert "CANCELED" in paid.flag_reason
