"""The database itself stops a query at the server-side timeout (PostgreSQL and SQLite)."""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError, connection

from campaigns.dbtimeout import fetch_all_within

pytestmark = pytest.mark.django_db


def slow_query() -> str:
    if connection.vendor == "postgresql":
        return "SELECT pg_sleep(%s)"
    # SQLite has no sleep: count far enough to take seconds.
    return (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
        "SELECT count(*) FROM n WHERE %s > 0"
    )


def test_a_query_over_the_limit_is_stopped_by_the_database():
    started = time.monotonic()

    with pytest.raises(OperationalError):
        fetch_all_within(slow_query(), [5], seconds=0.2)

    assert time.monotonic() - started < 1.5


def test_a_query_within_the_limit_answers_and_the_limit_does_not_stay():
    assert fetch_all_within("SELECT %s", [7], seconds=1) == [(7,)]

    # The next query on the same connection runs without the limit.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone() == ("0",)
