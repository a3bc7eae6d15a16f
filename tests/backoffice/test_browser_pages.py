"""Every admin page in the system Chromium, at 1280 px and at a narrow width, with realistic data
(a month of payments, an order paid at the sandbox with its long links, partial refunds, account
shares, webhooks, merchant events and deliveries, keys, tasks, devices): none scrolls sideways,
and each page is saved to var/screenshots/pages-<width>-<page>.png. The defects fixed in the
admin's polish are asserted on the pages where they showed (labels, amounts, long URLs, the
actions offered, the daily chart, the app names, the header's links)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from backoffice.services import totp_device_create_confirmed
from campaigns.models import CustomerIdentifier, Task
from notifications.models import Event, Notification, NotificationAttempt
from notifications.services import webhook_endpoint_create
from orders.models import AccountShare, EventSource, Order, OrderStatus, Refund, RefundStatus
from orders.services import order_create, order_sync
from tests.backoffice.browsing import NARROW, WIDE, layout_problems, log_in, shot
from tests.backoffice.factories import paid_order, staff_user
from tests.browser import MISSING_REASON, chromium_missing, launch_chromium
from tests.factories import AccountShareFactory, ApplicationFactory, api_key_factory
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


@dataclass
class World:
    paid: Order
    open: Order
    refund: Refund
    share: AccountShare
    webhook: WebhookEvent
    event: Event
    delivery: Notification


def _sandbox_order(sandbox: Any, application: Any, *, pay: bool) -> Order:
    order = order_create(
        application=application,
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
            "returnUrl": "https://shop.example.com/orders/return?session=" + "r" * 80,
            "cancelUrl": "https://shop.example.com/orders/cancel",
        },
        actor="key:browser-test",
    )
    if pay:
        sandbox.pay(order.merchant_trade_no)
        order = order_sync(order=order, source=EventSource.API, actor="key:browser-test")
        assert order.status == OrderStatus.PAID
    return order


def a_month_of_payments(application: Any) -> None:
    now = timezone.now()
    for day in range(30):
        for _ in range(1 + (day * 7) % 4):
            paid_order(
                application=application,
                paid_at=now - dt.timedelta(days=day, hours=1),
                total_fee=Decimal(10 + (day * 13) % 40),
                source=EventSource.RECONCILIATION if day % 5 == 0 else EventSource.WEBHOOK,
            )


def build_world(sandbox: Any) -> World:
    application = ApplicationFactory(
        name="demo-shop-europe", default_notify_url="https://shop.example.com/paysvc/callbacks"
    )
    webhook_endpoint_create(
        application=application,
        url="https://hooks.shop.example.com/binance-pay/paysvc/events/receiver-endpoint-0001",
        event_types=["order.paid", "order.refunded", "refund.succeeded"],
        description="main receiver",
    )
    a_month_of_payments(application)
    paid = _sandbox_order(sandbox, application, pay=True)
    Order.objects.filter(pk=paid.pk).update(commission=Decimal("0.25170000"))
    paid.refresh_from_db()
    refund = Refund.objects.create(
        order=paid,
        refund_request_id=uuid.uuid4().hex,
        refund_id=str(uuid.uuid4().int)[:18],
        refund_amount=Decimal("5.00000000"),
        refunded_amount=Decimal("5.00000000"),
        remaining_attempts=9,
        refund_reason="damaged in transit",
        requested_by="staff:finance",
        status=RefundStatus.SUCCESS,
        completed_at=timezone.now(),
    )
    Refund.objects.create(
        order=paid,
        refund_request_id=uuid.uuid4().hex,
        refund_amount=Decimal("2.50000000"),
        refund_reason="late delivery",
        requested_by="staff:finance",
        status=RefundStatus.PENDING,
    )
    open_order = _sandbox_order(sandbox, application, pay=False)
    share = AccountShareFactory(
        application=application,
        customer_ref="customer-with-a-rather-long-reference-0042",
        user_name="Satoshi N.",
        qrcode_content="https://app.binance.com/qr/share?token=" + "s" * 120,
        qrcode_url="https://public.bnbstatic.com/static/share/20240101/" + "q" * 96 + ".png",
        expire_time=timezone.now() + dt.timedelta(minutes=10),
    )
    for _ in range(3):
        AccountShareFactory(
            application=application, status="PENDING", user_binance_id="", shared_at=None
        )
    webhook = WebhookEvent.objects.create(
        body=json.dumps(
            {
                "bizType": "PAY",
                "data": json.dumps({"merchantTradeNo": paid.merchant_trade_no, "totalFee": 25.17}),
                "bizIdStr": paid.prepay_id,
                "bizId": int(paid.prepay_id),
                "bizStatus": "PAY_SUCCESS",
            }
        ).encode(),
        headers={
            "Content-Type": "application/json",
            "BinancePay-Timestamp": "1700000000000",
            "BinancePay-Nonce": "n" * 32,
            "BinancePay-Certificate-SN": "ABCDEF0123456789" * 4,
            "BinancePay-Signature": "c2lnbmF0dXJl" * 30,
        },
        cert_serial="ABCDEF0123456789" * 4,
        biz_type="PAY",
        biz_id_str=paid.prepay_id,
        biz_status="PAY_SUCCESS",
        merchant_trade_no=paid.merchant_trade_no,
        dedupe_key=f"PAY:{paid.prepay_id}:PAY_SUCCESS",
        status="processed",
        processed_at=timezone.now(),
    )
    WebhookEvent.objects.create(
        body=b"{}",
        headers={},
        cert_serial="X",
        biz_type="PAY",
        biz_id_str="1",
        biz_status="PAY_SUCCESS",
        dedupe_key=uuid.uuid4().hex,
        status="failed",
        last_error="no such order: the notification names a prepayId this service never created",
    )
    event = Event.objects.filter(order=paid).order_by("-created_at").first()
    delivery = event.deliveries.order_by("id").first()
    NotificationAttempt.objects.create(
        notification=delivery,
        attempted_at=timezone.now(),
        url=delivery.url,
        status_code=502,
        duration_ms=1234,
        response_excerpt="<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 300,
    )
    key, _raw = api_key_factory(application=application, name="shop backend (production)")
    Task.objects.create(
        task_id="pay_10_usdt",
        application=application,
        kind="paid_amount_total",
        threshold=Decimal("10.00000000"),
        currency="USDT",
        description="Pay 10 USDT in total",
    )
    CustomerIdentifier.objects.create(
        application=application, customer_ref="customer-42", kind="wallet", value="0x" + "a" * 40
    )
    root = staff_user("root", superuser=True)
    totp_device_create_confirmed(user=staff_user("ops"))
    LogEntry.objects.create(
        user=root,
        content_type=ContentType.objects.get_for_model(Order),
        object_id=str(paid.pk),
        object_repr=str(paid),
        action_flag=CHANGE,
        change_message="Synced with Binance",
    )
    assert key.pk
    return World(
        paid=paid,
        open=open_order,
        refund=refund,
        share=share,
        webhook=webhook,
        event=event,
        delivery=delivery,
    )


def pages(world: World) -> list[tuple[str, str]]:
    """(name, path) of every admin page staff use."""

    def change(name: str, pk: Any) -> str:
        return reverse(f"admin:{name}_change", args=[pk])

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from clients.models import ApiKey, ClientApplication
    from notifications.models import WebhookEndpoint

    return [
        ("index", reverse("admin:index")),
        ("orders", reverse("admin:orders_order_changelist")),
        ("order-paid", change("orders_order", world.paid.pk)),
        ("order-open", change("orders_order", world.open.pk)),
        ("refund-confirm", reverse("admin:orders_order_refund", args=[world.paid.pk])),
        ("refunds", reverse("admin:orders_refund_changelist")),
        ("refund", change("orders_refund", world.refund.pk)),
        ("shares", reverse("admin:orders_accountshare_changelist")),
        ("share", change("orders_accountshare", world.share.pk)),
        ("webhooks", reverse("admin:webhooks_webhookevent_changelist")),
        ("webhook", change("webhooks_webhookevent", world.webhook.pk)),
        ("events", reverse("admin:notifications_event_changelist")),
        ("event", change("notifications_event", world.event.pk)),
        ("deliveries", reverse("admin:notifications_notification_changelist")),
        ("delivery", change("notifications_notification", world.delivery.pk)),
        ("endpoints", reverse("admin:notifications_webhookendpoint_changelist")),
        (
            "endpoint",
            change("notifications_webhookendpoint", WebhookEndpoint.objects.get().pk),
        ),
        ("applications", reverse("admin:clients_clientapplication_changelist")),
        (
            "application",
            change("clients_clientapplication", ClientApplication.objects.first().pk),
        ),
        ("apikeys", reverse("admin:clients_apikey_changelist")),
        ("apikey", change("clients_apikey", ApiKey.objects.get().pk)),
        ("apikey-add", reverse("admin:clients_apikey_add")),
        ("tasks", reverse("admin:campaigns_task_changelist")),
        ("task", change("campaigns_task", Task.objects.get().pk)),
        ("identifiers", reverse("admin:campaigns_customeridentifier_changelist")),
        ("devices", reverse("admin:otp_totp_totpdevice_changelist")),
        ("device", change("otp_totp_totpdevice", TOTPDevice.objects.get().pk)),
        ("users", reverse("admin:auth_user_changelist")),
        ("groups", reverse("admin:auth_group_changelist")),
        ("password", reverse("admin:password_change")),
    ]


def check_index(page: Any, world: World) -> None:
    """The dashboard spans the width; its chart has weekly dates, a y scale and a note; the
    header links to the API docs; the TOTP app has a readable name."""
    box = page.locator("#dashboard").bounding_box()
    width = page.evaluate("() => window.innerWidth")
    assert box["width"] >= width - 100, (box, width)  # not Django's 600 px
    chart = page.locator("#dash-chart svg.bo-chart").first
    assert chart.bounding_box()["width"] >= width - 160
    assert chart.locator("text.bo-x").count() >= 4  # a date every Monday
    assert chart.locator("line.bo-grid").count() in (2, 3)
    assert "payments on 30 of 30 days" in chart.locator("text.bo-note").text_content()
    header = page.locator("#user-tools").inner_text()
    assert "API DOCS" in header.upper() and "VIEW SITE" not in header.upper()
    assert page.locator("#api-docs-link").get_attribute("href") == reverse("api-docs")
    apps = page.locator("#content-main").inner_text().upper()
    assert "TWO-FACTOR DEVICES" in apps and "OTP_TOTP" not in apps


def check_paid_order(page: Any, world: World) -> None:
    """No "Close at Binance" on a PAID order; refund (something remains) and sync are offered;
    the long links wrap inside the page and Copy takes the whole value."""
    assert page.locator("#order-close").count() == 0
    assert page.locator("#order-refund").count() == 1 and page.locator("#order-sync").count() == 1
    row = page.locator("div.form-row.field-universal_url_shown")
    assert row.locator("label").inner_text() == "Universal URL:"
    link = row.locator("a.bo-long-text")
    assert link.get_attribute("href") == world.paid.universal_url
    assert link.bounding_box()["x"] + link.bounding_box()["width"] <= page.viewport_size["width"]
    assert page.locator("div.field-total_fee_shown div.readonly").inner_text() == "25.17 USDT"
    assert page.locator("div.field-commission_shown div.readonly").inner_text() == "0.2517 USDT"
    inline = page.locator("#refunds-group").inner_text()
    assert "5 USDT" in inline and "5.00000000" not in inline
    row.locator("button.bo-copy").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == world.paid.universal_url


def check_open_order(page: Any, world: World) -> None:
    assert page.locator("#order-close").count() == 1
    assert page.locator("#order-refund").count() == 0


def check_shares(page: Any, world: World) -> None:
    results = page.locator("#changelist .results")
    fits = results.evaluate("el => el.scrollWidth <= el.clientWidth")
    if page.viewport_size["width"] >= WIDE:
        assert fits, "the account-share list is cut at 1280 px"
    assert world.share.request_id in page.locator("#result_list").inner_text()


CHECKS = {
    "index": check_index,
    "order-paid": check_paid_order,
    "order-open": check_open_order,
    "shares": check_shares,
}


@pytest.mark.django_db(transaction=True)
def test_every_admin_page_fits_at_1280_and_narrow(browser, live_server, sandbox, plain_http):
    world = build_world(sandbox)
    base = live_server.url
    overflowing = {}
    for width in (WIDE, NARROW):
        page = log_in(browser, base, "root", width=width)
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        for name, url in pages(world):
            response = page.goto(base + url)
            assert response.status == 200, (name, response.status)
            shot(page, f"pages-{width}-{name}")
            overflow = layout_problems(page, tables_may_scroll=width < WIDE)
            if overflow:
                overflowing[f"{width} {name}"] = overflow
            if name in CHECKS:
                CHECKS[name](page, world)
        page.context.close()
    assert not overflowing, "\n".join(
        f"{page}: {problems}" for page, problems in overflowing.items()
    )


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_chart_of_a_single_day(browser, live_server, plain_http):
    """A month with payments on one day only: one bar carrying its value, the y scale, the
    weekly dates and "payments on 1 of 30 days"."""
    application = ApplicationFactory(name="quiet-shop")
    for _ in range(3):
        paid_order(
            application=application,
            paid_at=timezone.now() - dt.timedelta(days=4, hours=1),
            total_fee=Decimal("8.39000000"),
        )
    staff_user("root", superuser=True)
    for width in (WIDE, NARROW):
        page = log_in(browser, live_server.url, "root", width=width)
        chart = page.locator("#dash-chart svg.bo-chart")
        assert chart.locator("rect.bo-bar").count() == 1
        assert chart.locator("text.bo-value").all_text_contents() == ["25.17"]
        assert chart.locator("text.bo-y").all_text_contents() == ["10", "20", "30"]
        assert chart.locator("text.bo-x").count() >= 4
        day = timezone.now() - dt.timedelta(days=4, hours=1)
        note = f"payments on 1 of 30 days: {day.astimezone(dt.UTC):%a %d %b}"
        assert chart.locator("text.bo-note").text_content() == note
        assert not layout_problems(page)
        shot(page, f"dashboard-single-day-{width}")
        page.context.close()
