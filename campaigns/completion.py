"""Whether a unified id completed tasks: the read behind GET {prefix}/v1/task/completion.

Judging rules (campaigns/README.md, "Task kinds"):

- a paid order is one in `orders.models.PAID_STATUSES` (PAID, PAID_AFTER_CLOSE, REFUNDING,
  REFUNDED = partly refunded); its amount is `total_fee` (else `order_amount`) minus every refund
  that holds money (requested, pending or done). FULL_REFUNDED orders and orders whose refunds
  take everything back do not count; neither do unpaid or unresolved ones (INITIAL, PENDING,
  ERROR, ...);
- only events inside the task's window count; an event without a time counts only for a task
  without a window;
- numeric thresholds use Binance's 95% rule: complete iff value >= threshold * 0.95, in Decimal;
- a unified id can resolve to several customers of one application: a task is complete when one
  of them completes it (activity of different customer accounts is never added up).

Correct rather than optimistic: whatever cannot be confirmed counts as not done, and when the
facts cannot be read in time the answer is an error (000002), never a guessed true or false.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal

from django.db import InterfaceError, OperationalError

from campaigns.errors import InvalidArgument, SystemBusy
from campaigns.models import TaskKind
from campaigns.selectors import CustomerFacts, TaskSpec, completion_facts, tasks_active

# "Use 95% of the original criteria" (docs/web3.md#95-percent-rule)
THRESHOLD_RATIO = Decimal("0.95")
# Time kept for answering after the query: the database's limit is the deadline minus this.
ANSWER_MARGIN_SECONDS = 0.05


def threshold_met(value: Decimal, threshold: Decimal) -> bool:
    """Binance's 95% rule: a 10 USDT task is complete at 9.5 USDT (and not at 9.4999)."""
    return value >= threshold * THRESHOLD_RATIO


def customer_completed(task: TaskSpec, customer: CustomerFacts) -> bool:
    """Whether one customer completed `task` (the customer is of the task's application)."""
    if task.kind == TaskKind.ACCOUNT_SHARED:
        return any(task.in_window(at) for at in customer.shared_at)
    counted = [
        order
        for order in customer.orders
        if order.net_amount > 0
        and task.in_window(order.paid_at)
        and (not task.currency or order.currency == task.currency)
    ]
    if task.threshold is None:  # excluded by a DB constraint; never complete by default
        return False
    if task.kind == TaskKind.PAID_ORDER_COUNT:
        return threshold_met(Decimal(len(counted)), task.threshold)
    if task.kind == TaskKind.PAID_AMOUNT_TOTAL:
        return threshold_met(sum((o.net_amount for o in counted), Decimal(0)), task.threshold)
    return False  # a kind this code does not know is never complete


def task_completed(task: TaskSpec, customers: Sequence[CustomerFacts]) -> bool:
    return any(
        customer_completed(task, c) for c in customers if c.application_id == task.application_id
    )


def task_completion(
    *, unified_id: str, task_ids: Sequence[str], deadline: float
) -> tuple[dict[str, bool], int]:
    """({task_id: completed}, number of customers the id resolved to) for `task_ids` (all
    active tasks when empty), answered before `deadline` (time.monotonic()).

    Raises InvalidArgument for a task that is not defined or not active, SystemBusy when the
    database is unreachable or the deadline passes.
    """
    try:
        active = tasks_active()
    except (OperationalError, InterfaceError) as exc:
        raise SystemBusy(f"database: {type(exc.__cause__ or exc).__name__}: {exc}") from exc
    if task_ids:
        unknown = [t for t in task_ids if t not in active]
        if unknown:
            raise InvalidArgument(f"unknown task(s): {', '.join(unknown[:5])}")
        tasks = [active[t] for t in task_ids]
    else:
        tasks = sorted(active.values(), key=lambda t: t.task_id)
    if not tasks:
        return {}, 0

    remaining = deadline - time.monotonic() - ANSWER_MARGIN_SECONDS
    if remaining <= 0:
        raise SystemBusy("deadline passed before the query")
    try:
        customers = completion_facts(
            unified_id=unified_id,
            application_ids={t.application_id for t in tasks},
            with_shares=any(t.kind == TaskKind.ACCOUNT_SHARED for t in tasks),
            timeout=remaining,
        )
    except (OperationalError, InterfaceError) as exc:
        # Statement timeout, connection refused, too many connections: busy, not an answer.
        raise SystemBusy(f"database: {type(exc.__cause__ or exc).__name__}: {exc}") from exc
    if time.monotonic() > deadline:
        raise SystemBusy("deadline passed during the query")
    return {t.task_id: task_completed(t, customers) for t in tasks}, len(customers)
