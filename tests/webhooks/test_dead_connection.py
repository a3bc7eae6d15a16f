"""A delivery arriving on a kept database connection that died (PostgreSQL restarted) is stored
once, with no separate health check before the INSERT (paysvc.dbhealth)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.live import terminate_backend
from tests.webhooks.factories import meta, pay_body
from webhooks.models import WebhookEvent
from webhooks.services import webhook_event_store
from webhooks.verification import verify_delivery

pytestmark = pytest.mark.django_db(transaction=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


@pytest.fixture
def checks(monkeypatch) -> list[bool]:
    """Each Django health check (``is_usable``) made, with its answer."""
    if connection.vendor != "postgresql":
        pytest.skip("the health check applies to the PostgreSQL connection")
    made: list[bool] = []
    real = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: made.append(real()) or made[-1])
    return made


def _delivery(signer):
    body = pay_body()
    return verify_delivery({**meta(signer.headers(body)), "CONTENT_TYPE": "application/json"}, body)


def _as_at_the_start_of_a_request() -> None:
    connection.health_check_enabled = True
    connection.health_check_done = False


def test_on_a_live_connection_the_insert_is_the_only_round_trip(signer, certs_endpoint, checks):
    delivery = _delivery(signer)
    _backend_pid()
    _as_at_the_start_of_a_request()

    assert webhook_event_store(delivery=delivery) is not None
    assert checks == []


def test_a_webhook_after_a_database_restart_is_stored_once(signer, certs_endpoint, checks):
    delivery = _delivery(signer)
    terminate_backend(_backend_pid())
    _as_at_the_start_of_a_request()

    event = webhook_event_store(delivery=delivery)

    assert event is not None and checks == [False]
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [event.pk]
