"""orders.gateway against the live sandbox: every call recorded, every client error translated."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from orders.errors import BinanceNotConfigured, BinanceRefused, BinanceUnavailable
from orders.gateway import BinanceGateway
from orders.models import EventKind, EventSource, OrderEvent
from tests.factories import OrderFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db]


def calls_of(order) -> list[OrderEvent]:
    return list(OrderEvent.objects.filter(order=order, kind=EventKind.BINANCE_CALL))


def gateway_for(order, **options) -> BinanceGateway:
    return BinanceGateway(source=EventSource.API, actor="api:test", order=order, **options)


def test_a_refusal_becomes_binance_refused_and_the_call_is_recorded(sandbox):
    order = OrderFactory()

    with pytest.raises(BinanceRefused) as refused:
        gateway_for(order).query_order(merchant_trade_no=uuid.uuid4().hex)

    assert (refused.value.code, refused.value.name) == ("400202", "ORDER_NOT_FOUND")
    assert refused.value.binance_message
    [call] = calls_of(order)
    assert call.summary.startswith("POST /v2/order/query -> ApiError")
    assert call.detail["response"]["code"] == "400202"
    assert call.actor == "api:test"


@pytest.mark.parametrize(
    ("operation", "unknown"),
    [
        (lambda g: g.query_order(merchant_trade_no="abc"), False),
        (lambda g: g.close_order(merchant_trade_no="abc"), True),
        (lambda g: g.query_refund(refund_request_id="abc"), False),
    ],
    ids=["query is a known outcome", "close is unknown", "refund query is a known outcome"],
)
def test_a_5xx_is_unavailable_unknown_only_for_calls_that_change_something(
    sandbox, operation, unknown
):
    order = OrderFactory()
    sandbox.fault(mode="500", count=1)

    with pytest.raises(BinanceUnavailable) as unavailable:
        operation(gateway_for(order))

    assert unavailable.value.outcome_unknown is unknown
    assert not unavailable.value.retrying
    [call] = calls_of(order)
    assert "TransportError" in call.summary


def test_a_429_is_a_known_outcome_with_the_wait_binance_asked_for(sandbox):
    order = OrderFactory()
    sandbox.fault(mode="429", count=1, retryAfter=7)

    with pytest.raises(BinanceUnavailable) as limited:
        gateway_for(order).close_order(merchant_trade_no="abc")

    assert (limited.value.outcome_unknown, limited.value.retry_after) == (False, 7)
    assert "RateLimitError" in calls_of(order)[0].summary


def test_held_records_are_written_inside_the_callers_transaction(sandbox):
    order = OrderFactory()
    gateway = gateway_for(order)

    with gateway.holding_records():
        with pytest.raises(BinanceRefused):
            gateway.query_order(merchant_trade_no=uuid.uuid4().hex)
        assert calls_of(order) == []  # held
        with transaction.atomic():
            gateway.record_calls()
            assert len(calls_of(order)) == 1
        gateway.record_calls()  # nothing left: not written twice
    assert len(calls_of(order)) == 1


def test_held_records_are_written_when_the_block_fails(sandbox):
    order = OrderFactory()
    gateway = gateway_for(order)

    with pytest.raises(RuntimeError), gateway.holding_records():
        with pytest.raises(BinanceRefused):
            gateway.query_order(merchant_trade_no=uuid.uuid4().hex)
        raise RuntimeError("the caller failed after the call")

    assert len(calls_of(order)) == 1


def test_a_missing_setting_is_binance_not_configured_naming_it(settings):
    settings.BINANCE_PAY_API_KEY = "key"
    settings.BINANCE_PAY_SECRET_KEY = ""
    order = OrderFactory()

    with pytest.raises(BinanceNotConfigured, match="BINANCE_PAY_SECRET_KEY"):
        gateway_for(order).query_order(merchant_trade_no="abc")

    assert calls_of(order) == []
