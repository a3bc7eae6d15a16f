"""The asynchronous path end to end: publish -> broker -> a real Celery worker -> database.

Runs against whatever broker the settings name: the embedded filesystem broker by default,
Redis when CELERY_BROKER_URL is set (as on CI).
"""

import pytest

from paysvc.models import Heartbeat
from paysvc.tasks import WORKER_HEARTBEAT, heartbeat
from tests.live import celery_worker_argv, child_env, running, wait_until

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_consumes_a_published_task(tmp_path):
    assert not Heartbeat.objects.filter(name=WORKER_HEARTBEAT).exists()

    with running(celery_worker_argv(), child_env(), tmp_path / "worker.log"):
        heartbeat.delay()
        seen = wait_until(
            lambda: Heartbeat.objects.filter(name=WORKER_HEARTBEAT).exists(), timeout=60
        )

    assert seen, (tmp_path / "worker.log").read_text()[-3000:]
