# ruff: noqa: F811 - the fixtures are imported from tests/backoffice/fixtures.py by name
"""The orders admin: a read-only ledger with badges, filters, exact-id search, a streaming CSV
export, an order page with the merged timeline, and actions that call the orders services."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Event, Notification, NotificationAttempt
from orders.errors import InvalidOrderState
from orders.models import (
    CreateState,
    EventKind,
    EventSource,
    Order,
    OrderEvent,
    OrderStatus,
    Refund,
    RefundStatus,
)
from orders.selectors import order_closable
from orders.services import order_close, order_create, order_event_record, order_sync
from tests.backoffice.factories import paid_order
from tests.backoffice.fixtures import (  # noqa: F401 - fixtures
    _clean_cache,
    _fast_password_hasher,
    finance,
    finance_user,
    root,
    superuser,
    support,
    support_user,
)
from tests.factories import AccountShareFactory, ApplicationFactory, OrderFactory
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

LIST = reverse("admin:orders_order_changelist")
EXPORT = reverse("admin:orders_order_export_csv")


def change_url(order: Order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def refund_url(order: Order) -> str:
    return reverse("admin:orders_order_refund", args=[order.pk])


def listed(response) -> set[str]:
    """merchantTradeNos shown on a changelist page."""
    assert response.status_code == 200, response.content[:500]
    return {o.merchant_trade_no for o in response.context["cl"].result_list}


# -- changelist --------------------------------------------------------------------------------
def test_the_list_shows_badges_amounts_with_fiat_customer_and_times(support):
    crypto = paid_order(customer_ref="alice")
    fiat = OrderFactory(
        fiat_amount=Decimal("10.00"),
        fiat_currency="USD",
        order_amount=None,
        total_fee=None,
        currency="",
        customer_ref="bob",
    )

    page = support.get(LIST).content.decode()

    assert '<span class="bo-badge s-PAID">PAID</span>' in page
    assert '<span class="bo-badge s-INITIAL">INITIAL</span>' in page
    assert "25.17 USDT" in page
    assert "10 USD" in page
    assert "alice" in page and "bob" in page
    assert crypto.merchant_trade_no in page and fiat.merchant_trade_no in page
    assert timezone.localtime(crypto.paid_at).strftime("%Y") in page


def test_the_list_costs_the_same_queries_for_5_and_50_orders(
    support, django_assert_max_num_queries
):
    application = ApplicationFactory(name="busy")
    for _ in range(5):
        paid_order(application=application)
    support.get(LIST)  # fills the cached currency list
    with CaptureQueriesContext(connection) as five:
        assert support.get(LIST).status_code == 200
    for _ in range(45):
        paid_order(application=application, fiat_amount=Decimal("9"), fiat_currency="EUR")
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as fifty:
        assert support.get(LIST).status_code == 200

    assert len(fifty) == len(five)


def test_no_full_table_count_and_no_big_json_columns_in_the_list(support):
    paid_order()
    with CaptureQueriesContext(connection) as queries:
        support.get(LIST)
    sql = [q["sql"] for q in queries if '"orders_order"' in q["sql"]]
    page_query = next(s for s in sql if "JOIN" in s and "COUNT" not in s)
    assert "request_payload" not in page_query and "payment_info" not in page_query
    assert '"clients_clientapplication"' in page_query  # application joined, not N+1
    assert "notification_secret" not in page_query
    counts = [s for s in sql if "COUNT(" in s.upper()]
    assert len(counts) <= 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status__exact": "PAID"}, {"paid", "polled", "old"}),
        ({"currency": "BTC"}, {"btc"}),
        ({"priced_in": "fiat"}, {"fiat"}),
        ({"priced_in": "crypto"}, {"paid", "btc", "app", "flagged", "polled", "old"}),
        ({"terminal_type": "APP"}, {"app"}),
        ({"flagged__exact": "1"}, {"flagged"}),
        ({"paid_found_by": "polling"}, {"polled"}),
        ({"paid_found_by": "other"}, {"paid", "old"}),
        ({"created_at__from": "2024-01-01", "created_at__to": "2024-01-31"}, {"old"}),
        ({"paid_at__from": "2024-02-10", "paid_at__to": "2024-02-10"}, {"old"}),
        ({"created_at__from": "2024-02-01"}, {"paid", "btc", "fiat", "app", "flagged", "polled"}),
    ],
)
def test_filters(support, query, expected):
    names = {}
    names["paid"] = paid_order()
    names["btc"] = OrderFactory(currency="BTC", order_amount=Decimal("0.001"), total_fee=None)
    names["fiat"] = OrderFactory(
        fiat_amount=Decimal("5"), fiat_currency="USD", order_amount=None, currency="USDT"
    )
    names["app"] = OrderFactory(terminal_type="APP", env={"terminalType": "APP"})
    names["flagged"] = OrderFactory(flagged=True, flag_reason="amount mismatch")
    names["polled"] = paid_order(source=EventSource.RECONCILIATION)
    names["old"] = paid_order(paid_at=dt.datetime(2024, 2, 10, 23, 59, tzinfo=dt.UTC))
    Order.objects.filter(pk=names["old"].pk).update(
        created_at=dt.datetime(2024, 1, 31, 23, 0, tzinfo=dt.UTC)
    )
    by_no = {o.merchant_trade_no: name for name, o in names.items()}

    response = support.get(LIST, query)

    assert {by_no[no] for no in listed(response)} == expected


def test_search_matches_every_id_exactly_and_the_shared_binance_id(support):
    order = paid_order(customer_ref="cust-7")
    other = paid_order(customer_ref="cust-8")
    AccountShareFactory(
        application=order.application, customer_ref=order.customer_ref, user_binance_id="354937868"
    )
    # Same customerRef in another application: its Binance ID is not this order's customer.
    stranger = OrderFactory(customer_ref="cust-7")
    AccountShareFactory(
        application=stranger.application,
        customer_ref=stranger.customer_ref,
        user_binance_id="999999999",
    )

    for term in (
        order.merchant_trade_no,
        order.prepay_id,
        order.transaction_id,
        order.open_user_id,
        "354937868",
    ):
        assert listed(support.get(LIST, {"q": term})) == {order.merchant_trade_no}, term
    assert listed(support.get(LIST, {"q": "cust-7"})) == {
        order.merchant_trade_no,
        stranger.merchant_trade_no,
    }
    assert listed(support.get(LIST, {"q": "999999999"})) == {stranger.merchant_trade_no}
    assert listed(support.get(LIST, {"q": order.prepay_id[:-1]})) == set()  # exact only
    assert other.merchant_trade_no not in listed(support.get(LIST, {"q": " " + order.prepay_id}))


def test_export_streams_every_filtered_row_with_exact_amounts(support):
    application = ApplicationFactory(name="exported")
    for _ in range(60):  # more than one changelist page
        paid_order(application=application, total_fee=Decimal("0.10000000"))
    OrderFactory(application=application)  # INITIAL: filtered out
    risky = paid_order(customer_ref='=HYPERLINK("http://evil")', total_fee=Decimal("1.5"))

    response = support.get(EXPORT, {"status__exact": "PAID", "o": "1"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 61
    assert {r["status"] for r in rows} == {"PAID"}
    assert {r["totalFee"] for r in rows} == {"0.1", "1.5"}
    mine = next(r for r in rows if r["merchantTradeNo"] == risky.merchant_trade_no)
    assert mine["customerRef"].startswith("'=")
    assert mine["paidAt"].endswith("Z")


def test_export_link_keeps_the_current_filters(support):
    paid_order()
    page = support.get(LIST, {"status__exact": "PAID", "q": "x", "p": "2"})
    link = page.context["export_url"]
    assert link.startswith(EXPORT) and "status__exact=PAID" in link and "q=x" in link
    assert "p=2" not in link


# -- order page ---------------------------------------------------------------------------------
def _history(order: Order) -> None:
    """One of each thing the timeline merges, at known times."""
    base = timezone.now() - dt.timedelta(hours=1)
    order_event_record(
        order=order,
        kind=EventKind.BINANCE_CALL,
        source=EventSource.API,
        actor="key:psk_abc",
        summary="POST /v2/order -> HTTP 200 (12 ms)",
        detail={
            "request": {"merchantTradeNo": order.merchant_trade_no, "orderAmount": "25.17"},
            "response": {"status": "SUCCESS", "data": {"prepayId": order.prepay_id}},
            "httpStatus": 200,
        },
    )
    OrderEvent.objects.filter(order=order, kind=EventKind.BINANCE_CALL).update(created_at=base)
    WebhookEvent.objects.create(
        received_at=base + dt.timedelta(minutes=10),
        body=b'{"bizType":"PAY","bizStatus":"PAY_SUCCESS","data":"{}"}',
        headers={"BinancePay-Signature": "c2lnbmF0dXJl" * 20, "Content-Type": "application/json"},
        cert_serial="ABC",
        biz_type="PAY",
        biz_id_str=order.prepay_id,
        biz_status="PAY_SUCCESS",
        merchant_trade_no=order.merchant_trade_no,
        dedupe_key=f"PAY:{order.prepay_id}:PAY_SUCCESS",
        status="processed",
    )
    event = Event.objects.create(
        public_id=f"evt_{uuid.uuid4().hex}",
        application=order.application,
        order=order,
        event_type="order.paid",
        payload={"type": "order.paid", "data": {"merchantTradeNo": order.merchant_trade_no}},
        delivery_status="delivered",
        created_at=base + dt.timedelta(minutes=20),
    )
    notification = Notification.objects.create(
        public_id=f"dlv_{uuid.uuid4().hex}",
        event=event,
        url="https://shop.example.com/hook",
        status="delivered",
        retry_started_at=base,
        created_at=base + dt.timedelta(minutes=20),
    )
    NotificationAttempt.objects.create(
        notification=notification,
        attempted_at=base + dt.timedelta(minutes=21),
        url=notification.url,
        status_code=200,
        duration_ms=35,
        by="system",
    )


def test_order_page_groups_every_field_shows_the_qr_and_the_merged_timeline(support):
    order = paid_order(
        shipping={"shippingName": {"firstName": "Ann"}},
        buyer={"buyerName": {"firstName": "Bob"}},
    )
    _history(order)

    response = support.get(change_url(order))

    assert response.status_code == 200
    page = response.content.decode()
    for title in (
        "Amounts",
        "Goods",
        "Environment",
        "Shipping",
        "Buyer",
        "Checkout links",
        "Binance",
        "Timeline",
    ):
        assert title in page, title
    assert order.checkout_url in page
    assert '<div class="bo-qr"><svg' in page
    assert "Ice Cream" in page and "Ann" in page and "Bob" in page
    kinds = [entry.kind for entry in response.context["timeline"]]
    assert kinds[:4] == ["binance_call", "webhook", "callback", "callback_attempt"]
    assert "status_change" in kinds  # the payment (now), after the older history
    times = [entry.at for entry in response.context["timeline"]]
    assert times == sorted(times)
    assert "<details><summary>details</summary>" in page
    assert "&quot;prepayId&quot;" in page  # Binance's answer, pretty-printed
    assert "source: webhook" in page
    assert "c2lnbmF0dXJl" not in page  # the signature is not on the order page


def test_order_page_queries_do_not_grow_with_history(support, django_assert_max_num_queries):
    order = paid_order()
    _history(order)
    with CaptureQueriesContext(connection) as small:
        assert support.get(change_url(order)).status_code == 200
    for i in range(30):
        order_event_record(
            order=order, kind=EventKind.NOTE, source=EventSource.SYSTEM, summary=f"note {i}"
        )
    with django_assert_max_num_queries(20), CaptureQueriesContext(connection) as big:
        assert support.get(change_url(order)).status_code == 200
    assert len(big) == len(small)


def test_nothing_financial_can_be_added_changed_or_deleted_even_by_a_superuser(root):
    order = paid_order()
    page = root.get(change_url(order)).content.decode()
    assert 'name="total_fee"' not in page and 'name="status"' not in page
    assert 'name="_save"' not in page

    root.post(change_url(order), {"status": "INITIAL", "total_fee": "1"})
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.total_fee == Decimal("25.17")
    assert root.get(reverse("admin:orders_order_add")).status_code == 403
    assert (
        root.post(
            reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Order.objects.filter(pk=order.pk).exists()
    for model in ("refund", "accountshare"):
        assert root.get(reverse(f"admin:orders_{model}_add")).status_code == 403


# -- permissions ------------------------------------------------------------------------------
def test_support_is_offered_sync_only_and_refused_close_and_refund_server_side(support):
    order = paid_order()
    page = support.get(LIST).content.decode()
    assert 'value="sync_with_binance"' in page
    assert 'value="refund"' not in page and 'value="close_at_binance"' not in page
    detail = support.get(change_url(order)).content.decode()
    assert 'id="order-sync"' in detail and 'id="order-refund"' not in detail

    assert support.get(refund_url(order)).status_code == 403
    refused = support.post(
        refund_url(order),
        {"refund_amount": "1", "refund_reason": "x", "refund_request_id": uuid.uuid4().hex},
    )
    assert refused.status_code == 403
    assert support.post(reverse("admin:orders_order_close", args=[order.pk])).status_code == 403
    support.post(LIST, {"action": "refund", "_selected_action": [order.pk]})
    support.post(LIST, {"action": "close_at_binance", "_selected_action": [order.pk]})
    assert not Refund.objects.filter(order=order).exists()
    assert not OrderEvent.objects.filter(order=order, source=EventSource.STAFF).exists()


def test_finance_is_offered_every_action_in_the_list(finance):
    paid_order()
    page = finance.get(LIST).content.decode()
    for action in ("sync_with_binance", "close_at_binance", "refund"):
        assert f'value="{action}"' in page


def _fully_refunded() -> Order:
    order = paid_order(total_fee=Decimal("10"))
    Refund.objects.create(
        order=order,
        refund_request_id=uuid.uuid4().hex,
        refund_amount=Decimal("10"),
        status=RefundStatus.SUCCESS,
    )
    return order


@pytest.mark.parametrize(
    ("make", "offered"),
    [
        (lambda: OrderFactory(), {"sync", "close"}),  # INITIAL, created at Binance
        (lambda: OrderFactory(status=OrderStatus.PENDING), {"sync", "close"}),
        (lambda: OrderFactory(create_state=CreateState.PENDING, prepay_id=None), {"sync"}),
        (lambda: OrderFactory(create_state=CreateState.UNKNOWN, prepay_id=None), {"sync"}),
        (lambda: paid_order(), {"sync", "refund"}),
        (lambda: OrderFactory(status=OrderStatus.EXPIRED), {"sync"}),
        (_fully_refunded, {"sync"}),  # PAID, but nothing remains to refund
    ],
    ids=["initial", "pending", "not-sent", "create-unknown", "paid", "expired", "refunded"],
)
def test_the_order_page_offers_only_the_actions_the_order_allows(finance, make, offered):
    order = make()
    detail = finance.get(change_url(order)).content.decode()
    shown = {name for name in ("sync", "close", "refund") if f'id="order-{name}"' in detail}
    assert shown == offered


def test_hidden_actions_are_still_refused_server_side(finance):
    paid = paid_order()
    closed = finance.post(reverse("admin:orders_order_close", args=[paid.pk]), follow=True)
    assert "only an unpaid order" in closed.content.decode()
    refunded = _fully_refunded()
    response = finance.post(
        refund_url(refunded),
        {"refund_amount": "1", "refund_reason": "", "refund_request_id": uuid.uuid4().hex},
    )
    assert response.status_code == 200 and 'id="not-refundable"' in response.content.decode()
    assert refunded.refunds.count() == 1
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID


class _ReachedBinance(Exception):
    pass


@pytest.mark.parametrize("create_state", CreateState.values)
@pytest.mark.parametrize("status", OrderStatus.values)
def test_close_is_offered_exactly_when_order_close_would_call_binance(
    monkeypatch, status, create_state
):
    """orders.selectors.order_closable is order_close's own check."""

    def close_order(self, **kwargs):
        raise _ReachedBinance

    monkeypatch.setattr("orders.services.orders.BinanceGateway.close_order", close_order)
    order = OrderFactory(status=status, create_state=create_state)
    try:
        order_close(order=order, source=EventSource.STAFF, actor="staff:test")
    except _ReachedBinance:
        reached = True
    except InvalidOrderState:
        reached = False
    assert order_closable(order) is reached


def test_refund_page_shows_what_remains_and_the_attempt_rules(finance):
    order = paid_order(total_fee=Decimal("10"))
    for i in range(9):
        Refund.objects.create(
            order=order,
            refund_request_id=f"r{i}-{uuid.uuid4().hex[:8]}",
            refund_amount=Decimal("0.5"),
            status=RefundStatus.SUCCESS,
            remaining_attempts=9 - i,
        )

    page = finance.get(refund_url(order))

    text = page.content.decode()
    assert page.status_code == 200
    assert "5.5 USDT" in text  # remaining refundable
    assert "9 of 10" in text
    assert 'id="last-attempt"' in text
    assert page.context["form"].initial["refund_amount"] == "5.5"  # as Binance writes it
    assert 'name="refund_amount" value="5.5"' in text
    assert len(page.context["form"].initial["refund_request_id"]) == 32


def test_a_refund_above_what_remains_is_refused_with_the_services_message(finance):
    order = paid_order(total_fee=Decimal("10"))
    response = finance.post(
        refund_url(order),
        {"refund_amount": "10.01", "refund_reason": "", "refund_request_id": uuid.uuid4().hex},
    )
    assert response.status_code == 200
    assert "more than what remains refundable" in response.content.decode()
    assert not Refund.objects.filter(order=order).exists()


def test_the_refund_action_sends_one_order_to_its_confirmation_page(finance):
    first, second = paid_order(), paid_order()
    one = finance.post(LIST, {"action": "refund", "_selected_action": [first.pk]})
    assert one.status_code == 302 and one["Location"] == refund_url(first)
    two = finance.post(LIST, {"action": "refund", "_selected_action": [first.pk, second.pk]})
    assert two.status_code == 302 and two["Location"] != refund_url(first)


# -- against the live sandbox -----------------------------------------------------------------
def _sandbox_order(sandbox, *, pay: bool) -> Order:
    order = order_create(
        application=ApplicationFactory(name=f"shop-{uuid.uuid4().hex[:6]}"),
        data={
            "env": {"terminalType": "WEB"},
            "orderAmount": Decimal("10"),
            "currency": "USDT",
            "goods": {
                "goodsType": "02",
                "goodsCategory": "Z000",
                "referenceGoodsId": "sku1",
                "goodsName": "Ice Cream",
            },
        },
        actor="test",
    )
    if pay:
        sandbox.pay(order.merchant_trade_no)
    return order


@pytest.mark.live
def test_support_syncs_an_order_with_binance_and_the_timeline_says_who(support, sandbox):
    order = _sandbox_order(sandbox, pay=True)

    response = support.post(reverse("admin:orders_order_sync", args=[order.pk]))

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    change = order.events.get(kind=EventKind.STATUS_CHANGE, to_status=OrderStatus.PAID)
    assert (change.source, change.actor) == (EventSource.STAFF, "staff:support")
    log = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Order), object_id=str(order.pk)
    )
    assert log.user.username == "support" and log.action_flag == CHANGE
    timeline = support.get(change_url(order)).context["timeline"]
    assert any(e.kind == "staff" and e.actor == "staff:support" for e in timeline)


@pytest.mark.live
def test_finance_closes_an_unpaid_order_and_refunds_a_paid_one(finance, sandbox):
    unpaid = _sandbox_order(sandbox, pay=False)
    finance.post(LIST, {"action": "close_at_binance", "_selected_action": [unpaid.pk]})
    unpaid.refresh_from_db()
    assert unpaid.status == OrderStatus.CANCELED

    paid = _sandbox_order(sandbox, pay=True)
    order_sync(order=paid, source=EventSource.API)
    request_id = uuid.uuid4().hex
    form = {"refund_amount": "4", "refund_reason": "damaged", "refund_request_id": request_id}
    first = finance.post(refund_url(paid), form)
    again = finance.post(refund_url(paid), form)  # double submit: the same refundRequestId

    assert first.status_code == again.status_code == 302
    refund = Refund.objects.get(order=paid)
    assert refund.refund_request_id == request_id
    assert refund.requested_by == "staff:finance"
    assert refund.status in (RefundStatus.PENDING, RefundStatus.SUCCESS)
    remote = sandbox.order(paid.merchant_trade_no)
    assert remote is not None
    closed = finance.post(reverse("admin:orders_order_close", args=[paid.pk]), follow=True)
    assert "only an unpaid order" in closed.content.decode()


def test_the_refund_and_account_share_pages_are_read_only(root):
    order = paid_order()
    refund = Refund.objects.create(
        order=order,
        refund_request_id=uuid.uuid4().hex,
        refund_amount=Decimal("1"),
        status=RefundStatus.SUCCESS,
    )
    share = AccountShareFactory(
        application=order.application, customer_ref=order.customer_ref, user_binance_id="1234"
    )
    for url in (
        reverse("admin:orders_refund_changelist"),
        reverse("admin:orders_refund_change", args=[refund.pk]),
        reverse("admin:orders_accountshare_changelist"),
        reverse("admin:orders_accountshare_change", args=[share.pk]),
    ):
        response = root.get(url)
        assert response.status_code == 200, url
        assert 'name="_save"' not in response.content.decode()
    assert listed_refunds(
        root.get(reverse("admin:orders_refund_changelist"), {"q": order.merchant_trade_no})
    ) == {refund.pk}


def listed_refunds(response) -> set[int]:
    return {r.pk for r in response.context["cl"].result_list}


def test_an_unfiltered_big_table_is_not_counted_on_postgresql(support, monkeypatch):
    for _ in range(3):
        paid_order()
    monkeypatch.setattr("backoffice.paginator.ESTIMATE_ABOVE_ROWS", 0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE orders_order")
    with CaptureQueriesContext(connection) as queries:
        response = support.get(LIST)
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert response.context["cl"].result_count == 3
    if connection.vendor == "postgresql":
        assert counts == []  # pg_class.reltuples, not COUNT(*)
    else:
        assert len(counts) == 1
    filtered = support.get(LIST, {"status__exact": "PAID"})
    assert filtered.context["cl"].result_count == 3  # filtered lists are counted exactly
