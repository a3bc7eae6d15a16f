"""paysvc.dbhealth: the first query of a request is the connection's health check; a query
that fails on a connection that proves dead runs once more on a new one, and only then."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection, transaction

from paysvc.dbhealth import first_query_checks_health
from tests.live import terminate_backend

pytestmark = pytest.mark.django_db(transaction=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _as_at_the_start_of_a_request() -> None:
    connection.health_check_enabled = True
    connection.health_check_done = False


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the health check applies to the PostgreSQL connection")


@pytest.fixture
def checks(monkeypatch) -> list[bool]:
    """Each Django health check (``is_usable``) made, with its answer."""
    made: list[bool] = []
    real = connection.is_usable

    def is_usable() -> bool:
        made.append(real())
        return made[-1]

    monkeypatch.setattr(connection, "is_usable", is_usable)
    return made


def test_on_a_live_connection_the_query_runs_once_with_no_separate_check(checks):
    pid = _backend_pid()
    _as_at_the_start_of_a_request()
    calls = []

    assert first_query_checks_health(lambda: calls.append(1) or _backend_pid()) == pid
    assert calls == [1] and checks == []  # no SELECT 1 round trip
    assert connection.health_check_done


def test_a_dead_connection_is_replaced_and_the_query_run_again(checks):
    pid = _backend_pid()
    terminate_backend(pid)
    _as_at_the_start_of_a_request()
    calls = []

    assert first_query_checks_health(lambda: calls.append(1) or _backend_pid()) != pid
    assert calls == [1, 1] and checks == [False]


def test_a_failure_on_a_live_connection_is_not_repeated(checks):
    _backend_pid()
    _as_at_the_start_of_a_request()
    calls = []

    def failing() -> None:
        calls.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1/0")

    with pytest.raises(Exception, match="division by zero"):
        first_query_checks_health(failing)
    assert calls == [1]


def test_no_retry_when_the_caller_says_no(checks):
    pid = _backend_pid()
    terminate_backend(pid)
    _as_at_the_start_of_a_request()

    with pytest.raises(OperationalError):
        first_query_checks_health(_backend_pid, may_retry=lambda: False)
    assert checks == []  # not even asked: the caller ruled a retry out
    connection.close()  # as Django does at the end of a request that left it broken


def test_inside_a_transaction_nothing_is_skipped_or_retried(checks):
    _backend_pid()
    with transaction.atomic():
        _as_at_the_start_of_a_request()
        first_query_checks_health(_backend_pid)
    assert checks == [True]  # Django's own check ran, as without the helper
