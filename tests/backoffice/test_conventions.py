"""The admin's conventions on every page staff read (backoffice.display): labels in sentence case
with acronyms in capitals, amounts as Binance writes them with their currency, long values
wrapped with a Copy button, status filters named by the codes the badges show."""

from __future__ import annotations

import html
import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Task
from notifications.models import Event, NotificationAttempt
from notifications.services import webhook_endpoint_create
from orders.models import Order, Refund, RefundStatus
from tests.backoffice.factories import paid_order
from tests.factories import AccountShareFactory, ApplicationFactory
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

UNIVERSAL_URL = (
    "https://app.binance.com/payment/secpay?linkToken=" + "a1b2c3d4" * 12 + "&_dp=" + "Yj" * 150
)
# A label Django wrote from a field name ("Prepay id", "Return url", "Qr content") or Binance's
# camelCase capitalised by Django ("CheckoutUrl", "QrcodeLink", "MerchantTradeNo").
MISSPELT = re.compile(r"\b(Id|id|Url|url|Qr|Qrcode|qrcode)\b|[a-z][A-Z]")
# 25.17000000, 5.00000000, 0.25170000: an amount with trailing zeros.
TRAILING_ZEROS = re.compile(r"\b\d+\.\d*0\b")


@pytest.fixture
def world():
    application = ApplicationFactory(
        name="shop", default_notify_url="https://shop.example.com/hooks/paysvc"
    )
    webhook_endpoint_create(
        application=application, url="https://hooks.example.com/receiver", event_types=["*"]
    )
    order = paid_order(application=application, total_fee=Decimal("25.17000000"))
    Order.objects.filter(pk=order.pk).update(
        commission=Decimal("0.25170000"), universal_url=UNIVERSAL_URL, deeplink="bnc://" + "d" * 300
    )
    refund = Refund.objects.create(
        order=order,
        refund_request_id=uuid.uuid4().hex,
        refund_amount=Decimal("5.00000000"),
        refunded_amount=Decimal("5.00000000"),
        status=RefundStatus.SUCCESS,
    )
    share = AccountShareFactory(
        application=application, qrcode_url="https://public.example.com/" + "q" * 300
    )
    webhook = WebhookEvent.objects.create(
        body=b'{"bizType":"PAY"}',
        headers={},
        cert_serial="X",
        biz_type="PAY",
        biz_id_str=order.prepay_id,
        biz_status="PAY_SUCCESS",
        merchant_trade_no=order.merchant_trade_no,
        dedupe_key=uuid.uuid4().hex,
        status="processed",
    )
    event = Event.objects.filter(order=order).first()
    delivery = event.deliveries.first()
    NotificationAttempt.objects.create(
        notification=delivery,
        attempted_at=timezone.now(),
        url=delivery.url,
        status_code=502,
        response_excerpt="<html>" + "x" * 400,
    )
    task = Task.objects.create(
        task_id="pay_10",
        application=application,
        kind="paid_amount_total",
        threshold=Decimal("10.00000000"),
        currency="USDT",
    )
    return {
        "order": order,
        "refund": refund,
        "share": share,
        "webhook": webhook,
        "event": event,
        "delivery": delivery,
        "endpoint": delivery.endpoint or event.deliveries.exclude(endpoint=None).first().endpoint,
        "task": task,
    }


def _pages(world) -> dict[str, str]:
    def change(name: str, obj) -> str:
        return reverse(f"admin:{name}_change", args=[obj.pk])

    return {
        "orders": reverse("admin:orders_order_changelist"),
        "order": change("orders_order", world["order"]),
        "refunds": reverse("admin:orders_refund_changelist"),
        "refund": change("orders_refund", world["refund"]),
        "shares": reverse("admin:orders_accountshare_changelist"),
        "share": change("orders_accountshare", world["share"]),
        "webhooks": reverse("admin:webhooks_webhookevent_changelist"),
        "webhook": change("webhooks_webhookevent", world["webhook"]),
        "events": reverse("admin:notifications_event_changelist"),
        "event": change("notifications_event", world["event"]),
        "deliveries": reverse("admin:notifications_notification_changelist"),
        "delivery": change("notifications_notification", world["delivery"]),
        "endpoints": reverse("admin:notifications_webhookendpoint_changelist"),
        "endpoint": change("notifications_webhookendpoint", world["endpoint"]),
        "tasks": reverse("admin:campaigns_task_changelist"),
    }


def labels(page: str) -> list[str]:
    """The field labels of a page and the column headers of its list and inlines."""
    found = re.findall(r"<label>([^<]+):</label>", page)
    found += re.findall(r'<th\b[^>]*class="[^"]*column-[^"]*"[^>]*>(.*?)</th>', page, re.S)
    found = [re.sub(r'<div class="sortoptions">.*?</div>', "", text, flags=re.S) for text in found]
    texts = [html.unescape(re.sub(r"<[^>]+>", " ", text)) for text in found]
    return [" ".join(text.split()) for text in texts if text.strip()]


def visible_text(page: str) -> str:
    """The page's text outside JSON blocks, scripts, styles and tag attributes."""
    page = re.sub(r"<(pre|script|style|svg)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_every_label_is_in_sentence_case_with_its_acronyms_in_capitals(root, world):
    for name, url in _pages(world).items():
        page = root.get(url).content.decode()
        shown = labels(page)
        assert shown, name
        wrong = [label for label in shown if MISSPELT.search(label)]
        assert not wrong, f"{name}: {wrong}"


def test_the_order_page_labels_binance_fields_in_binances_words(root, world):
    page = root.get(_pages(world)["order"]).content.decode()
    shown = set(labels(page))
    for label in (
        "Merchant trade no", "Prepay ID", "Transaction ID", "Open user ID", "Checkout URL",
        "QR content", "QR code link", "Deeplink", "Universal URL", "Return URL", "Cancel URL",
        "Notify URL", "Total fee", "Commission", "Payment info",
        "Refund request ID", "Refund amount", "Refunded amount",  # the refunds inline
    ):  # fmt: skip
        assert label in shown, label
    # The exact API names stay where staff type them.
    assert "Exact merchantTradeNo, prepayId" in root.get(_pages(world)["orders"]).content.decode()


def test_every_amount_is_written_without_trailing_zeros_and_with_its_currency(root, world):
    for name, url in _pages(world).items():
        text = visible_text(root.get(url).content.decode())
        assert not TRAILING_ZEROS.findall(text), f"{name}: {TRAILING_ZEROS.findall(text)}"
    order_page = visible_text(root.get(_pages(world)["order"]).content.decode())
    for shown in ("25.17 USDT", "0.2517 USDT", "20.17 USDT", "5 USDT"):
        assert shown in order_page, shown
    refund_page = visible_text(root.get(_pages(world)["refund"]).content.decode())
    assert refund_page.count("5 USDT") >= 2  # refund amount and refunded amount
    assert "10 USDT" in visible_text(root.get(_pages(world)["tasks"]).content.decode())
    task_form = root.get(reverse("admin:campaigns_task_change", args=[world["task"].pk]))
    assert 'name="threshold" value="10"' in task_form.content.decode()


def test_long_values_wrap_and_can_be_copied_whole(root, world):
    page = root.get(_pages(world)["order"]).content.decode()
    universal = html.escape(UNIVERSAL_URL)
    assert f'<a href="{universal}" class="bo-long-text"' in page
    assert f'data-copy="{universal}"' in page
    assert f'data-copy="bnc://{"d" * 300}"' in page  # not a link: never trusted as a scheme
    share = root.get(_pages(world)["share"]).content.decode()
    assert 'class="bo-long-text"' in share and 'class="bo-copy"' in share


def test_status_filters_name_the_codes_the_badges_show(root, world):
    refunds = visible_text(root.get(_pages(world)["refunds"]).content.decode())
    assert "REFUND_PENDING: accepted by Binance, in progress" in refunds
    orders = root.get(_pages(world)["orders"]).content.decode()
    assert re.search(r'status__exact=PAID_AFTER_CLOSE"[^>]*>\s*PAID_AFTER_CLOSE\s*<', orders)
    deliveries = visible_text(root.get(_pages(world)["deliveries"]).content.decode())
    assert "pending (next attempt scheduled)" in deliveries
