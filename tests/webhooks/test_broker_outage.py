"""The receiver does not wait for the broker (docs/reliability.md#18-broker-down, one machine): a
private redis-server is the broker; it is stalled (SIGSTOP: connections hang) and then stopped."""

from __future__ import annotations

import signal
import time

import pytest

from tests.factories import OrderFactory
from tests.webhooks.factories import pay_body
from webhooks import publish
from webhooks.models import EventStatus, WebhookEvent
from webhooks.services import webhook_events_sweep

pytestmark = [pytest.mark.live, pytest.mark.django_db]

# private_redis (tests/webhooks/conftest.py): a redis-server of this test's own.
SUCCESS = b'{"returnCode":"SUCCESS","returnMessage":null}'


def test_deliveries_are_answered_fast_and_stored_while_the_broker_hangs_or_is_down(
    signer, post, broker, certs_endpoint, private_redis
):
    broker.real = True
    OrderFactory()

    def deliver() -> tuple[int, bytes, float]:
        body = pay_body()
        started = time.perf_counter()
        response = post(body, signer.headers(body))
        return response.status_code, response.content, time.perf_counter() - started

    healthy = [deliver() for _ in range(3)]
    assert private_redis.queued() == 3

    private_redis.signal(signal.SIGSTOP)  # accepts connections, answers nothing
    stalled = [deliver() for _ in range(10)]
    private_redis.signal(signal.SIGCONT)
    private_redis.stop()  # now refuses connections
    publish._paused_until = 0.0  # try again at once (normally: after a few seconds)
    down = [deliver() for _ in range(10)]

    for status, content, _ in healthy + stalled + down:
        assert (status, content) == (200, SUCCESS)
    latencies = sorted(seconds for *_, seconds in stalled + down)
    print(f"\nbroker stalled/down: max answer {latencies[-1] * 1000:.0f} ms")
    assert latencies[-1] < 1.0
    # One socket timeout while it hangs, then publishing pauses: the rest answer at once.
    assert sum(seconds for *_, seconds in stalled) < 1.0
    assert WebhookEvent.objects.filter(status=EventStatus.RECEIVED).count() == 23

    # Back (empty, as after a restart without persistence): the sweeper re-enqueues.
    private_redis.start()
    publish._paused_until = 0.0
    WebhookEvent.objects.update(
        received_at=WebhookEvent.objects.first().received_at.replace(year=2020)
    )
    assert webhook_events_sweep() == 23
    assert private_redis.queued() == 23
