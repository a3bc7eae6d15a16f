"""Reads for the Web3 API and the merchant identifiers API.

The completion endpoint is Binance-facing and hot (target >= 1,500 answers/s on two cores), so
each answer costs one SQL statement (`completion_facts`; on PostgreSQL a function call whose
plan is cached per connection) plus, at most every
`PAYSVC_WEB3_TASK_CACHE_SECONDS`, one read of the task definitions. No result is cached: an
answer given right after a payment lands already counts it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from campaigns.dbtimeout import fetch_all_within
from campaigns.models import CustomerIdentifier, Task, identifier_normalise
from orders.models import (
    PAID_STATUSES,
    REFUND_HOLDING_STATUSES,
    AccountShare,
    AccountShareStatus,
    Order,
    Refund,
)

DEFAULT_TASK_CACHE_SECONDS = 5.0


# -- task definitions ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskSpec:
    """An immutable copy of an active `Task`, safe to share between threads."""

    task_id: str
    application_id: int
    kind: str
    threshold: Decimal | None
    currency: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None

    @classmethod
    def of(cls, task: Task) -> TaskSpec:
        return cls(
            task_id=task.task_id,
            application_id=task.application_id,
            kind=task.kind,
            threshold=task.threshold,
            currency=task.currency,
            starts_at=task.starts_at,
            ends_at=task.ends_at,
        )

    def in_window(self, at: dt.datetime | None) -> bool:
        """Whether an event at `at` counts. Without a time it counts only for an open window:
        an event we cannot place is not assumed to be inside."""
        if self.starts_at is None and self.ends_at is None:
            return True
        if at is None:
            return False
        return (self.starts_at is None or at >= self.starts_at) and (
            self.ends_at is None or at < self.ends_at
        )


class _TaskCache:
    """Active tasks by id, re-read at most every `PAYSVC_WEB3_TASK_CACHE_SECONDS` per process.

    Staff edits therefore reach Binance's answers within that time; `clear()` (called by the
    services that write tasks) makes them immediate in the writing process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[str, TaskSpec] | None = None
        self._loaded_at = 0.0

    def get(self) -> dict[str, TaskSpec]:
        ttl = float(getattr(settings, "PAYSVC_WEB3_TASK_CACHE_SECONDS", DEFAULT_TASK_CACHE_SECONDS))
        tasks, loaded_at = self._tasks, self._loaded_at
        if tasks is not None and time.monotonic() - loaded_at < ttl:
            return tasks
        with self._lock:
            if self._tasks is None or time.monotonic() - self._loaded_at >= ttl:
                fresh = {t.task_id: TaskSpec.of(t) for t in Task.objects.filter(is_active=True)}
                self._tasks, self._loaded_at = fresh, time.monotonic()
            return self._tasks

    def clear(self) -> None:
        with self._lock:
            self._tasks = None


_task_cache = _TaskCache()


def tasks_active() -> dict[str, TaskSpec]:
    """The active tasks by `task_id` (see `_TaskCache` for how fresh)."""
    return _task_cache.get()


def task_cache_clear() -> None:
    _task_cache.clear()


# -- facts about the customers behind a unified id ----------------------------------------------
@dataclass(frozen=True)
class PaidOrder:
    """A paid order as the tasks see it: what was paid minus refunds that hold money."""

    currency: str
    paid_at: dt.datetime | None
    net_amount: Decimal


@dataclass
class CustomerFacts:
    """What counts for tasks, for one customer (application + customer_ref)."""

    application_id: int
    customer_ref: str
    orders: list[PaidOrder] = field(default_factory=list)
    shared_at: list[dt.datetime | None] = field(default_factory=list)


def _sql() -> dict[str, str]:
    """The statement behind `completion_facts`, in two variants (with/without shares), as text:
    what SQLite runs, and the body of PostgreSQL's ``paysvc_web3_facts`` (keep them the same).

    `who` resolves the unified id to customers through every identifier paysvc knows: ids
    merchants registered (normalised), Binance IDs from SHARED account shares, payers'
    openUserIds. Each branch is an equality lookup on an indexed column. Then one row per paid
    order of those customers (with the refunds that hold money), one per SHARED account share
    when asked, and one per customer (so that "known, nothing done" shows in the logs).
    """
    ident = CustomerIdentifier._meta.db_table
    order = Order._meta.db_table
    refund = Refund._meta.db_table
    share = AccountShare._meta.db_table
    # Only table names (from the models) are formatted in; every value is a %s parameter.
    who = f"""
WITH who (application_id, customer_ref) AS (
    SELECT application_id, customer_ref FROM {ident}
     WHERE value = %s AND application_id IN ({{apps}})
    UNION
    SELECT application_id, customer_ref FROM {share}
     WHERE user_binance_id = %s AND status = %s AND customer_ref <> ''
       AND application_id IN ({{apps}})
    UNION
    SELECT application_id, customer_ref FROM {order}
     WHERE open_user_id = %s AND customer_ref <> '' AND application_id IN ({{apps}})
)"""  # noqa: S608  # nosec B608
    orders = f"""
SELECT 'o', who.application_id, who.customer_ref, o.currency, o.paid_at,
       COALESCE(o.total_fee, o.order_amount),
       (SELECT SUM(r.refund_amount) FROM {refund} r
         WHERE r.order_id = o.id AND r.status IN ({{held}}))
  FROM who JOIN {order} o
    ON o.application_id = who.application_id AND o.customer_ref = who.customer_ref
 WHERE o.status IN ({{paid}})"""  # noqa: S608  # nosec B608
    shares = f"""
SELECT 's', who.application_id, who.customer_ref, NULL, s.shared_at, NULL, NULL
  FROM who JOIN {share} s
    ON s.application_id = who.application_id AND s.customer_ref = who.customer_ref
 WHERE s.status = %s"""  # noqa: S608  # nosec B608
    customers = "SELECT 'c', application_id, customer_ref, NULL, NULL, NULL, NULL FROM who"
    return {
        "without_shares": f"{who}\n{orders}\nUNION ALL\n{customers}",
        "with_shares": f"{who}\n{orders}\nUNION ALL\n{shares}\nUNION ALL\n{customers}",
    }


_SQL: dict[str, str] | None = None
_PAID = sorted(str(s) for s in PAID_STATUSES)
_HELD = sorted(str(s) for s in REFUND_HOLDING_STATUSES)
# Status values are [A-Z_]: array literals need no quoting.
_PAID_ARRAY = "{" + ",".join(_PAID) + "}"
_HELD_ARRAY = "{" + ",".join(_HELD) + "}"


# PostgreSQL runs the same statement as a function whose plan stays cached per connection
# (campaigns/migrations/0002_web3_facts_function.py: planning cost 7x running it).
_FUNCTION_CALL = (
    "SELECT source, application_id, customer_ref, currency, at, amount, held "
    "FROM paysvc_web3_facts(%s, %s, %s::bigint[], %s, %s::text[], %s::text[], %s)"
)


def completion_statement(
    *, unified_id: str, application_ids: Iterable[int], with_shares: bool, vendor: str = ""
) -> tuple[str, list[Any]]:
    """(sql, params) of the one statement behind `completion_facts` (also run by the
    benchmark's floor): on PostgreSQL a call of ``paysvc_web3_facts``, elsewhere the statement
    itself (`_sql`). `vendor` defaults to the default connection's."""
    apps = sorted(set(application_ids))
    raw = unified_id.strip()
    if (vendor or connection.vendor) == "postgresql":
        # Arrays as literals ("{1,2}"): quoting one string costs less than adapting a list.
        return _FUNCTION_CALL, [
            identifier_normalise(raw),
            raw,
            "{" + ",".join(str(int(a)) for a in apps) + "}",
            str(AccountShareStatus.SHARED),
            _HELD_ARRAY,
            _PAID_ARRAY,
            with_shares,
        ]
    return inline_statement(unified_id=unified_id, application_ids=apps, with_shares=with_shares)


def inline_statement(
    *, unified_id: str, application_ids: Iterable[int], with_shares: bool
) -> tuple[str, list[Any]]:
    """(sql, params) of the statement as text (SQLite; and what the function runs)."""
    global _SQL
    if _SQL is None:
        _SQL = _sql()
    apps = sorted(set(application_ids))
    marks = ", ".join(["%s"] * len(apps))
    sql = _SQL["with_shares" if with_shares else "without_shares"].format(
        apps=marks, paid=", ".join(["%s"] * len(_PAID)), held=", ".join(["%s"] * len(_HELD))
    )
    raw = unified_id.strip()
    params: list[Any] = [identifier_normalise(raw), *apps]
    params += [raw, AccountShareStatus.SHARED, *apps]
    params += [raw, *apps]
    params += [*_HELD, *_PAID]
    if with_shares:
        params.append(AccountShareStatus.SHARED)
    return sql, params


def completion_facts(
    *, unified_id: str, application_ids: Iterable[int], with_shares: bool, timeout: float
) -> list[CustomerFacts]:
    """Facts about every customer of `application_ids` that `unified_id` resolves to.

    One SQL statement, stopped by the database after `timeout` seconds (OperationalError).
    """
    if not application_ids:
        return []
    sql, params = completion_statement(
        unified_id=unified_id, application_ids=application_ids, with_shares=with_shares
    )
    rows = fetch_all_within(sql, params, seconds=timeout)

    facts: dict[tuple[int, str], CustomerFacts] = {}
    for source, app_id, ref, currency, at, amount, held in rows:
        customer = facts.setdefault((app_id, ref), CustomerFacts(app_id, ref))
        if source == "o":
            paid = _decimal(amount)
            # No amount recorded: nothing we can count (inconclusive is not complete).
            net = max(Decimal(0), paid - (_decimal(held) or 0)) if paid is not None else Decimal(0)
            customer.orders.append(PaidOrder(currency or "", _datetime(at), net))
        elif source == "s":
            customer.shared_at.append(_datetime(at))
    return list(facts.values())


def _decimal(value: Any) -> Decimal | None:
    """A money value from a raw row: Decimal on PostgreSQL; a float (or str) on SQLite, whose
    DECIMAL columns keep 15 significant digits, rounded back to the 8 places Binance uses."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(Decimal("0.00000001"))


def _datetime(value: Any) -> dt.datetime | None:
    """An aware datetime from a raw row (PostgreSQL gives one; SQLite gives naive UTC text)."""
    if value is not None and not isinstance(value, dt.datetime):
        value = parse_datetime(str(value))
    if value is None:
        return None
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


# -- merchant API ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class KnownIdentifier:
    """One id paysvc knows for a customer, wherever it comes from."""

    kind: str  # wallet | other | binance_id | open_user_id
    value: str
    source: str  # registered | account_share | order
    chain: str = ""
    created_at: dt.datetime | None = None


MAX_DERIVED_IDENTIFIERS = 100


def identifier_list(*, application: Any, customer_ref: str) -> list[KnownIdentifier]:
    """Every id that resolves to this customer of `application`: the ones the merchant
    registered, Binance IDs of its SHARED account shares, openUserIds of its paid orders."""
    registered: QuerySet[CustomerIdentifier] = CustomerIdentifier.objects.filter(
        application=application, customer_ref=customer_ref
    )
    known = [
        KnownIdentifier(i.kind, i.value, "registered", i.chain, i.created_at) for i in registered
    ]
    binance_ids = (
        AccountShare.objects.filter(
            application=application, customer_ref=customer_ref, status=AccountShareStatus.SHARED
        )
        .exclude(user_binance_id="")
        .order_by("user_binance_id")
        .values_list("user_binance_id", flat=True)
        .distinct()[:MAX_DERIVED_IDENTIFIERS]
    )
    known += [KnownIdentifier("binance_id", v, "account_share") for v in binance_ids]
    open_user_ids = (
        Order.objects.filter(application=application, customer_ref=customer_ref)
        .exclude(open_user_id="")
        .order_by("open_user_id")
        .values_list("open_user_id", flat=True)
        .distinct()[:MAX_DERIVED_IDENTIFIERS]
    )
    known += [KnownIdentifier("open_user_id", v, "order") for v in open_user_ids]
    return known


__all__ = [
    "CustomerFacts",
    "KnownIdentifier",
    "PaidOrder",
    "TaskSpec",
    "completion_facts",
    "completion_statement",
    "identifier_list",
    "inline_statement",
    "task_cache_clear",
    "tasks_active",
]
