"""paysvc.dbhealth: a request's first read is its connection's health check."""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError, connection, transaction

from paysvc.dbhealth import health_check_taken_over, read_as_health_check

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="CONN_HEALTH_CHECKS is on for PostgreSQL only"
)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def kill_connection() -> int:
    """Terminate this connection's backend from another connection (the database restarted, a
    proxy dropped it), then mark the check pending as at the start of a request."""
    old_pid = backend_pid()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [old_pid])
    connection.health_check_enabled = True
    connection.health_check_done = False
    return old_pid


@pytest.mark.django_db(transaction=True)
def test_the_read_is_the_check_no_select_1_is_sent(monkeypatch):
    connection.ensure_connection()
    connection.health_check_enabled = True
    connection.health_check_done = False
    checks = []
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or True)

    assert read_as_health_check(backend_pid) > 0

    assert checks == []  # no separate round trip
    assert connection.health_check_done


@pytest.mark.django_db(transaction=True)
def test_a_dead_connection_is_replaced_and_the_read_sent_again():
    old_pid = kill_connection()
    sent = []

    def read() -> int:
        sent.append(1)
        return backend_pid()

    assert read_as_health_check(read) != old_pid
    assert len(sent) == 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_read_on_a_live_connection_is_raised_and_not_sent_again():
    connection.ensure_connection()
    connection.health_check_enabled = True
    connection.health_check_done = False
    sent = []

    def read() -> None:
        sent.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 1; SELECT pg_sleep(1)")

    with pytest.raises(OperationalError):
        read_as_health_check(read)
    assert len(sent) == 1


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_check_is_left_to_django():
    connection.ensure_connection()
    connection.health_check_enabled = True
    with transaction.atomic():
        connection.health_check_done = False
        taken_over, still_pending = health_check_taken_over(), not connection.health_check_done
        connection.health_check_done = True  # no check in the middle of this transaction
    assert taken_over is False
    assert still_pending
