"""A person on the API docs page: authorize, create an order with the example body, pay it on the
sandbox's checkout page, and see it PAID through the API (issue: merchant order API)."""

from __future__ import annotations

import json

import pytest

from orders.models import Order
from tests.browser import MISSING_REASON, SCREENSHOTS, chromium_missing, launch_chromium
from tests.factories import api_key_factory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.skipif(chromium_missing(), reason=MISSING_REASON),
    pytest.mark.django_db(transaction=True),
]


def test_create_pay_and_see_paid_from_the_api_docs_page(live_server, sandbox, settings):
    settings.PAYSVC_ALLOW_PRIVATE_URLS = True
    _key, raw_key = api_key_factory()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with launch_chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{live_server.url}/api/docs/")
        page.locator("button.authorize").first.click()
        page.locator(".auth-container input").first.fill(raw_key)
        page.locator(".auth-container button.authorize").first.click()
        page.locator("button.btn-done").first.click()

        create = page.locator(".opblock-post", has=page.locator('[data-path="/api/v1/orders"]'))
        create.locator(".opblock-summary").first.click()
        create.locator("button.try-out__btn").click()
        create.locator("button.execute").click()
        answer = create.locator(".live-responses-table tbody .response-col_description .microlight")
        answer.first.wait_for(timeout=20_000)
        page.screenshot(path=str(SCREENSHOTS / "api-docs-create-order.png"), full_page=False)
        order = json.loads(answer.first.inner_text())

        status = create.locator(".live-responses-table tbody .response-col_status").first
        assert status.inner_text().strip().startswith("201")
        checkout = browser.new_page()
        checkout.goto(order["checkoutUrl"])
        checkout.get_by_role("button", name="Pay").click()
        checkout.wait_for_load_state()

    assert Order.objects.filter(merchant_trade_no=order["merchantTradeNo"]).count() == 1
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    synced = client.post(f"/api/v1/orders/{order['merchantTradeNo']}/sync").json()
    assert synced["status"] == "PAID"
