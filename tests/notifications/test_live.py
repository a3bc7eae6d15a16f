"""Delivery through a real Celery worker process: publish on commit -> broker -> worker -> merchant.

Runs on whatever broker the settings name: the embedded filesystem broker by default, Redis when
CELERY_BROKER_URL is set.
"""

import re
from collections.abc import Iterator

import pytest
from django.utils import timezone
from paysvc_webhooks import verify

from notifications.models import Notification, NotificationStatus
from notifications.tasks import dispatch_due
from orders.models import OrderStatus
from orders.services import order_status_apply
from paysvc.celery import app as celery_app
from tests.factories import OrderFactory
from tests.live import celery_worker_argv, child_env, running, wait_until
from tests.notifications.conftest import Reply

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

BROKER_FOLDERS = ("queue", "processed", "control")


def _reset_producers() -> None:
    # Celery caches its connection and producer pools; drop them so the next publish uses
    # the broker configured now (the same thing Celery does after a fork).
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def private_broker(tmp_path) -> Iterator[dict[str, str]]:
    """A broker (folder or Redis database) that only this test and its worker use.

    The shared one may hold other runs' tasks, and other runs' workers (without this app) would
    take ours and discard them. Yields the environment that points the worker at it.
    """
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options
    if conf.broker_url.startswith("filesystem://"):
        var_dir = tmp_path / "var"
        folders = {name: var_dir / "broker" / name for name in BROKER_FOLDERS}
        for folder in folders.values():
            folder.mkdir(parents=True)
        conf.broker_transport_options = {
            **saved[1],
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
        }
        env = {"PAYSVC_VAR_DIR": str(var_dir)}  # the worker's settings derive the same folders
    else:
        conf.broker_url = re.sub(r"(/\d*)?$", "/14", conf.broker_url.rstrip("/"), count=1)
        env = {"CELERY_BROKER_URL": conf.broker_url}
    _reset_producers()
    yield env
    conf.broker_url, conf.broker_transport_options = saved
    _reset_producers()


def test_a_real_worker_delivers_retries_durably_and_signs(tmp_path, receiver, private_broker):
    log = tmp_path / "worker.log"
    receiver.reply(Reply(500, b"try later"))
    order = OrderFactory(notify_url=receiver.url)
    env = child_env({"PAYSVC_ALLOW_PRIVATE_URLS": "true", **private_broker})

    with running(celery_worker_argv(), env, log):
        order_status_apply(order_id=order.pk, status=OrderStatus.PAID, source="webhook")
        notification = Notification.objects.get()
        first = wait_until(
            lambda: Notification.objects.filter(pk=notification.pk, attempts=1).exists(),
            timeout=60,
        )
        assert first, log.read_text()[-3000:]
        notification.refresh_from_db()
        assert notification.status == NotificationStatus.PENDING
        assert notification.last_status_code == 500
        # The retry is due in ~30 s; pretend that time has passed and let the beat task (run by
        # the worker) find it in the database and enqueue it.
        Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
        dispatch_due.delay()
        delivered = wait_until(
            lambda: Notification.objects.filter(
                pk=notification.pk, status=NotificationStatus.DELIVERED
            ).exists(),
            timeout=60,
        )

    assert delivered, log.read_text()[-3000:]
    notification.refresh_from_db()
    assert notification.attempts == 2
    assert [a.status_code for a in notification.attempt_log.all()] == [500, 200]
    assert len(receiver.requests) == 2
    secret = order.application.notification_secret
    for request in receiver.requests:
        assert verify(request.body, request.headers["Paysvc-Signature"], secret)
        assert request.json() == notification.event.payload
        assert request.headers["Paysvc-Event-Id"] == notification.event.public_id
    assert secret not in log.read_text()
    assert "v1=" not in log.read_text()
