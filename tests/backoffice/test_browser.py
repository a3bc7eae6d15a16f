"""The back office in the system Chromium against a live server and the live sandbox: Support and
Finance log in, find an order by prepayId, read its timeline; Finance refunds it through the
confirmation page (the refund reaches the sandbox); Support is refused. Screenshots of the
dashboard and of an order page go to var/screenshots/ (every admin page, at 1280 and 900 px:
test_browser_pages.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import EventSource, Order, OrderStatus, Refund
from orders.services import order_create, order_sync
from tests.backoffice.browsing import assert_fits, log_in, shot
from tests.backoffice.factories import paid_order, staff_user
from tests.browser import MISSING_REASON, chromium_missing, launch_chromium
from tests.factories import ApplicationFactory, OrderFactory
from webhooks.models import WebhookEvent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.skipif(chromium_missing(), reason=MISSING_REASON),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as instance:
        yield instance


@pytest.fixture
def plain_http(settings):
    # The live server speaks plain HTTP: secure-only cookies would never come back.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def paid_sandbox_order(sandbox: Any) -> Order:
    order = order_create(
        application=ApplicationFactory(name=f"shop-{uuid.uuid4().hex[:6]}"),
        data={
            "env": {"terminalType": "WEB"},
            "orderAmount": Decimal("25.17"),
            "currency": "USDT",
            "goods": {
                "goodsType": "02",
                "goodsCategory": "Z000",
                "referenceGoodsId": "sku001",
                "goodsName": "Ice Cream",
            },
            "customerRef": "customer-42",
        },
        actor="key:browser-test",
    )
    sandbox.pay(order.merchant_trade_no)
    order = order_sync(order=order, source=EventSource.API, actor="key:browser-test")
    assert order.status == OrderStatus.PAID
    return order


def some_history() -> None:
    """A month of payments for the dashboard's chart, and a few things needing attention."""
    now = timezone.now()
    application = ApplicationFactory(name="demo-shop")
    for day in range(30):
        for _ in range(1 + (day * 7) % 4):
            paid_order(
                application=application,
                paid_at=now - dt.timedelta(days=day, hours=1),
                total_fee=Decimal(10 + (day * 13) % 40),
                source=EventSource.RECONCILIATION if day % 5 == 0 else EventSource.WEBHOOK,
            )
    OrderFactory(application=application, flagged=True, flag_reason="amount mismatch")
    OrderFactory(application=application, fiat_amount=Decimal("99"), fiat_currency="EUR")
    WebhookEvent.objects.create(
        body=b"{}",
        headers={},
        cert_serial="X",
        biz_type="PAY",
        biz_id_str="1",
        biz_status="PAY_SUCCESS",
        dedupe_key=uuid.uuid4().hex,
        status="failed",
        last_error="no such order",
    )


@pytest.mark.django_db(transaction=True)
def test_support_and_finance_in_the_browser(browser, live_server, sandbox, plain_http):
    staff_user("support", "Support")
    staff_user("finance", "Finance")
    some_history()
    order = paid_sandbox_order(sandbox)
    base = live_server.url
    order_page = base + reverse("admin:orders_order_change", args=[order.pk])
    refund_page = base + reverse("admin:orders_order_refund", args=[order.pk])

    # Support: the dashboard, the search by prepayId, the timeline; no refund.
    page = log_in(browser, base, "support")
    assert page.locator("#dash-volume").is_visible()
    assert page.locator("svg.bo-chart").count() >= 1
    assert_fits(page)
    shot(page, "admin-dashboard")
    page.goto(base + reverse("admin:orders_order_changelist"))
    shot(page, "admin-orders")
    page.fill("#searchbar", order.prepay_id)
    page.press("#searchbar", "Enter")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert order.merchant_trade_no in rows.first.inner_text()
    options = page.locator("select[name=action] option").evaluate_all(
        "els => els.map(e => e.value)"
    )
    assert "sync_with_binance" in options and "refund" not in options
    rows.first.locator("th a").click()
    page.wait_for_selector("#timeline")
    assert page.locator("#timeline li.bo-entry").count() >= 4
    assert "PAID" in page.locator("#timeline").inner_text()
    assert page.locator("#order-refund").count() == 0
    assert page.goto(refund_page).status == 403
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    refused = page.context.request.post(
        refund_page,
        form={"refund_amount": "1", "refund_reason": "x", "refund_request_id": uuid.uuid4().hex},
        headers={"X-CSRFToken": token, "Referer": refund_page},
    )
    assert refused.status == 403 and "CSRF" not in refused.text()
    assert not Refund.objects.filter(order=order).exists()
    page.context.close()

    # Finance: the same order, refunded through the confirmation page.
    page = log_in(browser, base, "finance")
    page.goto(order_page)
    page.wait_for_selector("#timeline")
    page.locator("#timeline details").first.evaluate("d => d.open = true")
    assert_fits(page)
    assert page.locator("#order-close").count() == 0  # PAID: nothing to close
    shot(page, "admin-order")
    page.click("#order-refund")
    page.wait_for_selector("#refund-form")
    assert page.locator("#remaining").inner_text() == "25.17 USDT"
    assert page.locator("#attempts").inner_text() == "0 of 10"
    page.fill("#id_refund_amount", "5")
    page.fill("#id_refund_reason", "damaged in transit")
    shot(page, "admin-refund-confirm")
    page.click("#confirm-refund")
    page.wait_for_selector("ul.messagelist")
    assert page.url == order_page
    message = page.locator("ul.messagelist").inner_text()
    assert "Refund" in message and "requested" in message

    refund = Refund.objects.get(order=order)
    assert refund.refund_amount == Decimal("5")
    assert refund.requested_by == "staff:finance"
    status, remote = sandbox.control("GET", f"/refunds/{refund.refund_request_id}")
    assert status == 200, remote
    timeline = page.locator("#timeline").inner_text()
    assert "staff:finance" in timeline and refund.refund_request_id in timeline
    page.context.close()
