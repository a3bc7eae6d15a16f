"""Order status under every ordering of its inputs (docs/reliability.md#12-closed-after-paid,
docs/reliability.md#13-paid-after-close, docs/reliability.md#16-racing-writers,
docs/reliability.md#17-state-machine).

A Hypothesis state machine drives one order through create answers, webhooks, polls, duplicates
and reordering; and threads race a webhook, a poll and a staff close on one order. Invariants:
status never moves backwards, amount and currency never change, at most one fulfilment (one
transition into PAID/PAID_AFTER_CLOSE), and a payment is never lost.

`PAYSVC_STATE_MACHINE_EXAMPLES` and `PAYSVC_RACE_ROUNDS` raise the counts (10,000 and 1,000 are
the figures of docs/reliability.md#summary; the suite runs fewer to stay quick); `make soak`
(PAYSVC_SOAK=1) runs the state machine's 10,000.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from orders.models import EventKind, EventSource, Order, OrderEvent, OrderStatus
from orders.services import order_status_apply
from tests.factories import ApplicationFactory
from tests.soak import record, size

S = OrderStatus
# Payment lifecycle ranks: a legal move never lowers the rank.
RANK = {
    S.INITIAL: 0,
    S.PENDING: 1,
    S.CANCELED: 2,
    S.EXPIRED: 2,
    S.ERROR: 2,
    S.PAID: 3,
    S.PAID_AFTER_CLOSE: 3,
}
PAID_LIKE = (S.PAID, S.PAID_AFTER_CLOSE)
REPORTS = [S.PENDING, S.PAID, S.CANCELED, S.EXPIRED, S.INITIAL]
SOURCES = [EventSource.WEBHOOK, EventSource.RECONCILIATION, EventSource.API, EventSource.STAFF]


def new_order(application) -> Order:
    return Order.objects.create(
        application=application,
        merchant_trade_no=uuid.uuid4().hex,
        terminal_type="WEB",
        order_amount=Decimal("25.17"),
        currency="USDT",
        goods={"goodsName": "Ice Cream"},
        env={"terminalType": "WEB"},
    )


def fulfilments(order: Order) -> int:
    return OrderEvent.objects.filter(
        order=order, kind=EventKind.STATUS_CHANGE, to_status__in=PAID_LIKE
    ).count()


class OrderLifecycle(RuleBasedStateMachine):
    """Reports about one order, in any order, any number of times."""

    def __init__(self) -> None:
        super().__init__()
        self.order = new_order(ApplicationFactory())
        self.rank = 0
        self.history: list[str] = []
        self.paid_reported = False

    def _apply(self, status: str, source: str) -> None:
        order = order_status_apply(order_id=self.order.pk, status=status, source=source)
        self.history.append(status)
        if status == S.PAID:
            self.paid_reported = True
        assert RANK[order.status] >= self.rank, (self.history, order.status)
        self.rank = RANK[order.status]

    @rule(status=st.sampled_from(REPORTS), source=st.sampled_from(SOURCES))
    def report(self, status: str, source: str) -> None:
        """A webhook, a poll result or a staff action reports a status."""
        self._apply(status, source)

    @rule()
    def duplicate(self) -> None:
        """Binance re-sends the last report."""
        if self.history:
            self._apply(self.history[-1], EventSource.WEBHOOK)

    @rule(data=st.data())
    def reorder(self, data: st.DataObject) -> None:
        """An older report arrives late."""
        if self.history:
            self._apply(data.draw(st.sampled_from(self.history)), EventSource.RECONCILIATION)

    @invariant()
    def money_is_immutable(self) -> None:
        order = Order.objects.get(pk=self.order.pk)
        assert (order.order_amount, order.currency) == (Decimal("25.17"), "USDT")

    @invariant()
    def at_most_one_fulfilment_and_no_lost_payment(self) -> None:
        order = Order.objects.get(pk=self.order.pk)
        assert fulfilments(order) <= 1
        if self.paid_reported:
            assert order.status in PAID_LIKE, self.history
        if order.status == S.PAID_AFTER_CLOSE:
            assert order.flagged


@pytest.mark.django_db
def test_status_invariants_hold_for_any_sequence_of_reports():
    examples = int(os.environ.get("PAYSVC_STATE_MACHINE_EXAMPLES", str(size(150, 10_000))))
    started = time.monotonic()
    run_state_machine_as_test(
        OrderLifecycle,
        settings=settings(
            max_examples=examples,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    record(
        "state machine (#17)",
        {"max_examples": examples, "violations": 0, "seconds": round(time.monotonic() - started)},
    )


@pytest.mark.django_db(transaction=True)
def test_webhook_poller_and_staff_close_racing_on_one_order_end_consistently():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are what is under test; SQLite serialises whole transactions")
    rounds = int(os.environ.get("PAYSVC_RACE_ROUNDS", "60"))
    application = ApplicationFactory()
    rng = random.Random(20261121)
    errors: list[BaseException] = []

    for _ in range(rounds):
        order = new_order(application)
        poll = rng.choice([S.PAID, S.PENDING, S.EXPIRED, S.INITIAL])
        actors = [
            (S.PAID, EventSource.WEBHOOK),
            (poll, EventSource.RECONCILIATION),
            (S.CANCELED, EventSource.STAFF),
        ]
        rng.shuffle(actors)
        barrier = threading.Barrier(len(actors))

        def act(
            status: str, source: str, order_id: int = order.pk, gate: threading.Barrier = barrier
        ) -> None:
            try:
                gate.wait(timeout=10)
                order_status_apply(order_id=order_id, status=status, source=source)
            except BaseException as exc:  # collected and reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=act, args=actor) for actor in actors]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        order.refresh_from_db()
        # The webhook's payment always lands: PAID, or PAID_AFTER_CLOSE (flagged) when the
        # close or an expiry won the race. Exactly one fulfilment.
        assert order.status in PAID_LIKE, order.status
        assert fulfilments(order) == 1
        assert order.flagged == (order.status == S.PAID_AFTER_CLOSE)

    assert errors == []
