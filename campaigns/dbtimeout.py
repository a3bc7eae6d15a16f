"""Run one read query that the database itself gives up on after a time limit.

The Web3 spec asks for a hard server-side timeout of 3 s (docs/web3.md#timeouts-and-overload). A
deadline checked in Python cannot interrupt a query that is already running, so the database
enforces it:

- PostgreSQL: ``SET LOCAL statement_timeout`` sent in the same simple-protocol message as the
  query. A multi-statement message runs as one implicit transaction, so the setting covers the
  query and ends with it, and it costs no extra round trip (Django's psycopg 3 cursors bind
  parameters client-side by default). With server-side binding configured, the same thing is done
  in an explicit transaction (three more round trips).
- SQLite: a progress handler aborts the statement once the time is up.

A query stopped this way raises django.db.OperationalError, like any other database that cannot
answer in time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.db import InterfaceError, OperationalError, connection, transaction

from paysvc.dbhealth import health_check_taken_over, replaced_if_dead


def fetch_all_within(sql: str, params: Sequence[Any], *, seconds: float) -> list[tuple[Any, ...]]:
    """Rows of `sql` (with %s placeholders), or OperationalError after `seconds`.

    With ``CONN_HEALTH_CHECKS``, Django checks a reused connection with its own round trip
    (``SELECT 1``) before the first query of each request. Here the query is the check: the
    separate one is skipped and, when the query fails on a connection that then proves dead (the
    database restarted, a proxy dropped it), the connection is replaced and the query, a read,
    sent once more within the same time (paysvc.dbhealth). A query stopped by the timeout is not
    repeated (the connection is alive).
    """
    deadline = time.monotonic() + seconds
    if connection.vendor == "postgresql":
        taken_over = health_check_taken_over()
        try:
            return _postgresql(sql, params, max(1, int(seconds * 1000)))
        except (OperationalError, InterfaceError):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not replaced_if_dead(taken_over):
                raise
        return _postgresql(sql, params, max(1, int(remaining * 1000)))
    if connection.vendor == "sqlite":
        return _sqlite(sql, params, seconds)
    with connection.cursor() as cursor:  # other databases: the Python deadline check only
        cursor.execute(sql, params)
        return cursor.fetchall()


def _postgresql(sql: str, params: Sequence[Any], timeout_ms: int) -> list[tuple[Any, ...]]:
    import psycopg

    with connection.cursor() as cursor:
        if isinstance(cursor.cursor, psycopg.ClientCursor):
            cursor.execute(f"SET LOCAL statement_timeout = {timeout_ms}; {sql}", params)
            cursor.nextset()  # the first result is SET's
            return cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _sqlite(sql: str, params: Sequence[Any], seconds: float) -> list[tuple[Any, ...]]:
    deadline = time.monotonic() + seconds
    connection.ensure_connection()
    raw = connection.connection

    def past_deadline() -> int:
        return 1 if time.monotonic() > deadline else 0  # non-zero interrupts the statement

    raw.set_progress_handler(past_deadline, 10_000)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        raw.set_progress_handler(None, 0)
