"""Processing races inside one process (docs/reliability.md#10-concurrent-duplicates): threads
process the same events at once (a redelivered task and the sweeper's copy running together).
Concurrent *deliveries* are tested over real HTTP against gunicorn in
tests/webhooks/test_live.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from orders.models import OrderEvent
from tests.factories import OrderFactory
from tests.webhooks.factories import pay_body
from webhooks.models import EventStatus, WebhookEvent
from webhooks.services import webhook_event_process

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(func: Any, items: list[Any], threads: int) -> list[Any]:
    """Run ``func`` over ``items`` on ``threads`` threads; item i goes to thread i % threads,
    so neighbouring items (the copies of one delivery) run at the same time. Each thread
    closes its own database connection when done."""

    def run(chunk: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        try:
            return [(index, func(item)) for index, item in chunk]
        finally:
            connection.close()

    chunks = [list(enumerate(items))[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        done = [pair for chunk in pool.map(run, chunks) for pair in chunk]
    return [result for _index, result in sorted(done, key=lambda pair: pair[0])]


def test_processing_each_event_from_several_threads_at_once_has_one_effect(
    signer, certs_endpoint, broker, post
):
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite has no row locks (select_for_update is a no-op), so concurrent processing "
            "cannot be serialised there; the dev worker runs one task at a time instead."
        )
    orders = [OrderFactory() for _ in range(100)]
    for order in orders:
        body = pay_body(order)
        post(body, signer.headers(body))
    ids = [pk for pk in WebhookEvent.objects.values_list("pk", flat=True) for _ in range(4)]

    outcomes = _in_threads(lambda pk: webhook_event_process(event_id=pk), ids, threads=20)

    assert outcomes.count(EventStatus.PROCESSED) >= 100
    assert set(outcomes) <= {EventStatus.PROCESSED, None}
    assert WebhookEvent.objects.filter(status=EventStatus.PROCESSED).count() == 100
    assert OrderEvent.objects.filter(kind="status_change", to_status="PAID").count() == 100
