"""The Celery tasks, the management command, the state gauges and the share notification."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orders.errors import BinanceUnavailable
from orders.models import AccountShare, OrderStatus
from orders.services.shares import account_share_complete
from tests.factories import ApplicationFactory, OrderFactory
from tests.webhooks.factories import pay_body
from webhooks import gauges, tasks
from webhooks.models import EventStatus, WebhookEvent
from webhooks.services import handlers, webhook_event_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(signer, post, certs_endpoint):
    def _stored(body: bytes) -> WebhookEvent:
        assert post(body, signer.headers(body)).status_code == 200
        return WebhookEvent.objects.order_by("-pk").first()

    return _stored


def test_the_task_retries_binance_outages_and_records_the_last_failure(stored, monkeypatch):
    def unavailable(**kwargs: Any) -> None:
        raise BinanceUnavailable("down", outcome_unknown=False, retrying=False)

    monkeypatch.setattr(handlers, "order_sync", unavailable)
    event = stored(pay_body(OrderFactory(), status="PAY_CLOSED"))

    # Eagerly, each retry runs at once: 1 try + MAX_RETRIES retries, then the row says failed.
    result = tasks.process_event.apply(args=(event.pk,))

    assert result.state == "SUCCESS"
    event.refresh_from_db()
    assert event.status == EventStatus.FAILED
    assert event.attempts == tasks.MAX_RETRIES + 1
    assert event.last_error == f"gave up after {tasks.MAX_RETRIES + 1} attempts: down"


def test_the_task_is_declared_for_at_least_once_delivery():
    task = tasks.process_event
    assert (task.name, task.acks_late, task.reject_on_worker_lost) == (
        "webhooks.process_event", True, True,
    )  # fmt: skip
    assert {e.__name__ for e in task.autoretry_for} == {"BinanceUnavailable"}
    assert task.retry_jitter and task.retry_backoff


def test_the_task_ignores_an_unknown_id():
    assert tasks.process_event.apply(args=(987654321,)).state == "SUCCESS"


def test_the_sweep_task_enqueues_what_waits(stored, broker):
    event = stored(pay_body())
    WebhookEvent.objects.update(received_at=timezone.now() - dt.timedelta(minutes=1))
    broker.published.clear()

    tasks.sweep.apply()

    assert broker.published == [event.pk]


def test_reprocess_command_runs_failed_events_again_with_a_progress_bar(stored, monkeypatch):
    order = OrderFactory()
    event = stored(pay_body(order))
    monkeypatch.setitem(handlers.HANDLERS, ("PAY", "PAY_SUCCESS"), _boom)
    webhook_event_process(event_id=event.pk)
    monkeypatch.undo()
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "webhooks_reprocess", "--status", "failed", "--since", "2020-01-01", stdout=out, stderr=err
    )

    assert out.getvalue().strip() == "1 events: processed=1"
    assert "webhook events [" in err.getvalue() and "1/1" in err.getvalue()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    call_command("webhooks_reprocess", "--id", str(event.pk), stdout=out, stderr=err)
    assert "already final=1" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("webhooks_reprocess")


def test_state_gauges_count_waiting_failed_and_stuck_events(stored):
    fresh = stored(pay_body())
    stuck = stored(pay_body())
    failed = stored(pay_body())
    WebhookEvent.objects.filter(pk=stuck.pk).update(
        received_at=timezone.now() - dt.timedelta(minutes=6)
    )
    WebhookEvent.objects.filter(pk=failed.pk).update(status=EventStatus.FAILED)

    values = {name: value for name, _help, value in gauges.webhook_gauges()}

    assert values["paysvc_webhook_events_waiting"] == 2
    assert values["paysvc_webhook_events_oldest_waiting_seconds"] >= 360
    assert values["paysvc_webhook_events_failed"] == 1
    assert values["paysvc_webhook_events_received_stuck"] == 1
    assert fresh.status == EventStatus.RECEIVED


def test_a_completed_share_notifies_the_merchant_once(monkeypatch):
    from orders.services import shares

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(shares, "account_share_event_emit", lambda **kwargs: sent.append(kwargs))
    share = AccountShare.objects.create(
        application=ApplicationFactory(), customer_ref="c", request_id=uuid.uuid4().hex
    )

    for _ in range(2):
        account_share_complete(
            request_id=share.request_id, user_binance_id="100", share_id="77", source="webhook"
        )

    share.refresh_from_db()
    assert (share.status, share.user_binance_id, share.share_id) == ("SHARED", "100", "77")
    assert [k["share"].pk for k in sent] == [share.pk]


def _boom(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("a bug, fixed since")
