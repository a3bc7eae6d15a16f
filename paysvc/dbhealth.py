"""The first query of a request as the database connection's health check (issue 9).

With ``CONN_HEALTH_CHECKS`` Django checks a reused connection before the first query of each
request with a round trip of its own (``SELECT 1``): on the hot, one-query paths (the webhook
intake, the Web3 answer) that was a second round trip per request, and a tenth of their CPU.
`first_query_checks_health` skips it and lets the query be the check: when the query fails on a
connection that then proves dead (PostgreSQL restarted, a proxy dropped an idle connection),
the connection is replaced and the query run once more, which is what the health check would
have led to. A query that fails on a live connection (a constraint, a timeout) is not repeated.

Only outside a transaction: inside one, a repeated statement would not see what the failed
connection's transaction did. The query must be safe to run twice: a read, or a write whose
repetition is a no-op (``INSERT ... ON CONFLICT DO NOTHING``), because the first try may have
been committed before the connection broke.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

T = TypeVar("T")


def first_query_checks_health(
    query: Callable[[], T],
    *,
    may_retry: Callable[[], bool] = lambda: True,
    using: str = DEFAULT_DB_ALIAS,
) -> T:
    """``query()``, with Django's pending health check replaced by the query itself.

    ``may_retry`` is asked after a failure on a connection that was not checked yet (say, a
    deadline left); if it agrees and the connection is dead, ``query()`` runs again on a new
    connection. Everything else behaves as ``query()`` alone.
    """
    db = connections[using]
    unchecked = (
        db.connection is not None
        and db.health_check_enabled
        and not db.health_check_done
        and not db.in_atomic_block
    )
    if unchecked:
        db.health_check_done = True
    try:
        return query()
    except (OperationalError, InterfaceError):
        if not unchecked or not may_retry() or db.is_usable():
            raise
    db.close()
    return query()
