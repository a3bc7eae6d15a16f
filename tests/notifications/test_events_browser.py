"""A new user's whole loop, in a browser: create a (v3) order from the API docs page, pay it on
the sandbox checkout, find order.paid in GET /api/v1/events on the docs page, and see it on the
sandbox's demo receiver page with "signature verified" (what `make run` sets up)."""

from __future__ import annotations

import json
import uuid

import pytest
from rest_framework.test import APIClient

from notifications.models import Notification, NotificationStatus
from orders.models import Order
from paysvc.celery import app as celery_app
from tests.browser import MISSING_REASON, SCREENSHOTS, chromium_missing, launch_chromium
from tests.factories import ApplicationFactory, api_key_factory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.skipif(chromium_missing(), reason=MISSING_REASON),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def eager_tasks():
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def try_out(page, method: str, path: str):
    """Open an operation of the docs page and run it with its defaults; its answer block."""
    block = page.locator(f".opblock-{method}", has=page.locator(f'[data-path="{path}"]')).first
    block.locator(".opblock-summary").first.click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    answer = block.locator(".live-responses-table tbody .response-col_description .microlight")
    answer.first.wait_for(timeout=20_000)
    return block, json.loads(answer.first.inner_text())


def test_a_v3_order_paid_shows_up_in_events_and_verified_on_the_receiver(
    live_server, sandbox, settings, eager_tasks
):
    settings.PAYSVC_ALLOW_PRIVATE_URLS = True
    application = ApplicationFactory(order_api_version="v3")
    _key, raw_key = api_key_factory(application=application)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    receiver = f"shop{uuid.uuid4().hex[:10]}"
    endpoint = api.post(
        "/api/v1/webhook-endpoints",
        {"url": f"{sandbox.url}/receiver/{receiver}", "eventTypes": ["*"]},
        format="json",
    ).json()
    status, answer = sandbox.control(
        "PUT", f"/receiver/{receiver}/secrets", {"secrets": [endpoint["secret"]]}
    )
    assert status == 200, answer
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with launch_chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{live_server.url}/api/docs/")
        page.locator("button.authorize").first.click()
        page.locator(".auth-container input").first.fill(raw_key)
        page.locator(".auth-container button.authorize").first.click()
        page.locator("button.btn-done").first.click()

        create, order = try_out(page, "post", "/api/v1/orders")
        assert order["apiVersion"] == "v3"
        checkout = browser.new_page()
        checkout.goto(order["checkoutUrl"])
        checkout.get_by_role("button", name="Pay").click()
        checkout.wait_for_load_state()
        # The sandbox's webhook goes nowhere in this test; the merchant's sync finds the payment.
        assert api.post(f"/api/v1/orders/{order['merchantTradeNo']}/sync").json()["status"] == (
            "PAID"
        )
        create.locator(".opblock-summary").first.click()  # fold it: the events list is next

        _events, listed = try_out(page, "get", "/api/v1/events")
        page.screenshot(path=str(SCREENSHOTS / "api-docs-events.png"), full_page=False)
        paid = [e for e in listed["results"] if e["type"] == "order.paid"]
        assert [e["data"]["merchantTradeNo"] for e in paid] == [order["merchantTradeNo"]]

        receiver_page = browser.new_page(viewport={"width": 1280, "height": 800})
        receiver_page.goto(f"{sandbox.url}/receiver?name={receiver}")
        row = receiver_page.locator("tr", has_text=paid[0]["id"]).first
        row.wait_for(timeout=10_000)
        receiver_page.screenshot(path=str(SCREENSHOTS / "receiver-order-paid.png"))
        assert "signature verified" in row.inner_text()
        assert "order.paid" in row.inner_text()

    assert Order.objects.get(merchant_trade_no=order["merchantTradeNo"]).api_version == "v3"
    delivery = Notification.objects.get(endpoint__public_id=endpoint["id"])
    assert delivery.status == NotificationStatus.DELIVERED
