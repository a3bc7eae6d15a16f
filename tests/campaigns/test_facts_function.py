"""PostgreSQL runs the completion statement as the function `paysvc_web3_facts` (migration 0002),
SQLite as text (`campaigns.selectors._sql`): both must give the same rows. And the one query is
also the connection's health check (campaigns/dbtimeout.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from campaigns.dbtimeout import fetch_all_within
from campaigns.selectors import completion_statement, inline_statement
from campaigns.services import identifier_register
from orders.models import AccountShareStatus, OrderStatus, RefundStatus
from tests.factories import AccountShareFactory, ApplicationFactory, OrderFactory, RefundFactory
from tests.live import terminate_backend

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the function exists on PostgreSQL only"
)

WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"


def rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(cursor.fetchall(), key=repr)


@pytest.mark.django_db
@pytest.mark.parametrize("with_shares", [True, False])
@pytest.mark.parametrize("asked", [WALLET, WALLET.lower(), "355421788", "ou-7", "nobody"])
def test_the_function_gives_the_statements_rows(with_shares, asked):
    shop, other = ApplicationFactory(name="shop"), ApplicationFactory(name="other")
    identifier_register(application=shop, customer_ref="c1", kind="wallet", value=WALLET)
    identifier_register(application=other, customer_ref="c9", kind="wallet", value=WALLET)
    paid = OrderFactory(paid=True, application=shop, customer_ref="c1", amount="12")
    RefundFactory(order=paid, amount="3", status=RefundStatus.SUCCESS)
    RefundFactory(order=paid, amount="1", status=RefundStatus.REJECTED)  # holds nothing
    OrderFactory(paid=True, application=shop, customer_ref="c1", currency="BNB", total_fee=None)
    OrderFactory(application=shop, customer_ref="c1", status=OrderStatus.EXPIRED)
    OrderFactory(paid=True, application=shop, customer_ref="c2", open_user_id="ou-7")
    OrderFactory(paid=True, application=other, customer_ref="c9")
    AccountShareFactory(application=shop, customer_ref="c1", user_binance_id="355421788")
    AccountShareFactory(
        application=shop,
        customer_ref="c3",
        user_binance_id="355421788",
        status=AccountShareStatus.EXPIRED,
        shared_at=timezone.now() - dt.timedelta(days=1),
    )
    apps = [shop.pk, other.pk]

    function = rows(
        *completion_statement(unified_id=asked, application_ids=apps, with_shares=with_shares)
    )
    statement = rows(
        *inline_statement(unified_id=asked, application_ids=apps, with_shares=with_shares)
    )

    assert function == statement
    if asked.lower() == WALLET.lower():
        orders = [r for r in function if r[0] == "o" and r[2] == "c1"]
        assert sorted((r[5], r[6]) for r in orders) == [
            (Decimal("12"), Decimal("3")),
            (Decimal("25.17"), None),
        ]
        assert ("c", other.pk, "c9") in [r[:3] for r in function]


@pytest.mark.django_db(transaction=True)
def test_a_dead_connection_is_replaced_and_the_query_sent_again(settings):
    connection.ensure_connection()
    old_pid = connection.connection.info.backend_pid
    terminate_backend(old_pid)  # the database restarts, say
    connection.health_check_enabled = True
    connection.health_check_done = False  # as at the start of a request

    assert fetch_all_within("SELECT pg_backend_pid()", [], seconds=2) != [(old_pid,)]


@pytest.mark.django_db(transaction=True)
def test_the_query_is_the_health_check_and_a_timeout_is_not_sent_again():
    connection.ensure_connection()
    connection.health_check_enabled = True
    connection.health_check_done = False
    sent = []
    with (
        connection.execute_wrapper(
            lambda execute, sql, *args: sent.append(sql) or execute(sql, *args)
        ),
        pytest.raises(OperationalError),
    ):
        fetch_all_within("SELECT pg_sleep(%s)", [5], seconds=0.2)

    assert len(sent) == 1  # no SELECT 1 before it, no second try after the timeout
    assert connection.health_check_done
