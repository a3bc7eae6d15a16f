"""Letting a request's first query, a read, be its database connection's health check.

With ``CONN_HEALTH_CHECKS`` Django checks a reused connection with a round trip of its own
(``SELECT 1``, in ``is_usable()``) before the first query of every request. Where that first
query is a read that may be sent twice, it can be the check instead: the separate round trip is
skipped and, when the read fails on a connection that then proves dead (the database restarted,
a proxy dropped it), the connection is replaced and the read sent once more. A read that fails
on a live connection (a timeout, a bad statement) is not repeated. This is per connection and
per request: Django's own request signals (``close_old_connections``) still reset the check at
the start of each request, and everything after the first query is as before.

Used by the merchant API's key lookup (clients.selectors) and the Web3 read
(campaigns.dbtimeout).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

T = TypeVar("T")


def health_check_taken_over() -> bool:
    """Mark the connection's pending health check as done, to be replaced by the next query.

    True when a check was pending (a reused connection at the start of a request, outside any
    transaction): the caller must then handle a failure of that query with
    `replaced_if_dead`. False when there was nothing to skip (a new connection, checks off,
    already checked in this request, inside a transaction).
    """
    skipped = (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
    )
    if skipped:
        connection.health_check_done = True
    return skipped


def replaced_if_dead(taken_over: bool) -> bool:
    """After the query that replaced the check failed: True when the connection was dead and
    has been closed (the next query opens a new one), False when the failure was the query's own
    (it must be raised). Call it inside the ``except`` of that failure."""
    if not taken_over or connection.is_usable():
        return False
    connection.close()
    return True


def read_as_health_check(read: Callable[[], T]) -> T:
    """``read()`` (read-only, safe to send twice) with the connection's pending health check
    folded into it: one round trip instead of two; on a connection found dead, a new connection
    and a second try of ``read``."""
    taken_over = health_check_taken_over()
    try:
        return read()
    except (OperationalError, InterfaceError):
        if not replaced_if_dead(taken_over):
            raise
    return read()
