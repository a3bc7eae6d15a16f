"""Browser: the hosted checkout and consent pages driven through the system Chromium."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import MISSING_REASON, SCREENSHOTS, chromium_missing, launch_chromium

from .conftest import LiveSandbox, Receiver, order_payload, order_v3_payload

SHOTS = SCREENSHOTS
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
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 420, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_checkout_pay(live: LiveSandbox, receiver: Receiver, page: Any) -> None:
    trade_no = uuid.uuid4().hex
    payload = order_payload(
        trade_no,
        orderAmount="12.5",
        returnUrl=receiver.url("/back?from=sandbox"),
        webhookUrl=receiver.url("/browser-pay"),
    )
    payload["goods"]["goodsQuantity"] = "2"
    order = live.ok("/v2/order", payload)
    page.goto(order["checkoutUrl"])
    assert page.locator("#goods-name").inner_text() == "Ice Cream"
    assert page.locator("#amount").inner_text() == "12.5 USDT"
    assert page.locator("#goods-quantity").inner_text() == "2"
    assert "Binance Pay" in page.locator("header").inner_text()
    qr_loaded = page.locator("#qr").evaluate("img => img.complete && img.naturalWidth > 0")
    assert qr_loaded
    shot(page, "checkout")
    page.click("#pay")
    page.wait_for_selector("#status")
    assert page.locator("#status").inner_text() == "Payment successful"
    assert page.locator("#return-link").get_attribute("href") == receiver.url("/back?from=sandbox")
    shot(page, "checkout-paid")
    assert live.ok("/v2/order/query", {"merchantTradeNo": trade_no})["status"] == "PAID"
    [hit] = receiver.wait("/browser-pay")
    assert json.loads(hit["body"])["bizStatus"] == "PAY_SUCCESS"


def test_checkout_of_a_v3_order_lists_description_and_items_and_pays(
    live: LiveSandbox, receiver: Receiver, page: Any
) -> None:
    trade_no = uuid.uuid4().hex
    items = [
        {
            "goodsType": "01",
            "goodsCategory": "D000",
            "referenceGoodsId": "v",
            "goodsName": "Vanilla",
        },
        {
            "goodsType": "02",
            "goodsCategory": "Z000",
            "referenceGoodsId": "t",
            "goodsName": "Topping",
            "goodsQuantity": "2",
        },
    ]
    payload = order_v3_payload(
        trade_no,
        description="Two scoops and a topping",
        goodsDetails=items,
        webhookUrl=receiver.url("/browser-pay-v3"),
    )
    order = live.ok("/v3/order", payload)
    page.goto(order["checkoutUrl"])
    assert page.locator("#description").inner_text() == "Two scoops and a topping"
    assert page.locator("#goods-name").inner_text() == "Vanilla"
    assert page.locator("#goods-name-2").inner_text() == "Topping"
    assert page.locator("#goods-quantity-2").inner_text() == "2"
    shot(page, "checkout-v3")
    page.click("#pay")
    page.wait_for_selector("#status")
    assert page.locator("#status").inner_text() == "Payment successful"
    [hit] = receiver.wait("/browser-pay-v3")
    body = json.loads(hit["body"])
    assert body["bizStatus"] == "PAY_SUCCESS"
    assert json.loads(body["data"])["productName"] == "Vanilla"


def test_checkout_cancel_redirects_to_cancel_url(
    live: LiveSandbox, receiver: Receiver, page: Any
) -> None:
    trade_no = uuid.uuid4().hex
    cancel = f"http://127.0.0.1:{live.port}/sandbox/health?cancelled={trade_no}"
    order = live.ok("/v2/order", order_payload(trade_no, cancelUrl=cancel))
    page.goto(order["checkoutUrl"])
    page.click("#cancel")
    page.wait_for_url(cancel)
    assert page.url == cancel
    # the order stays payable until it expires (sandbox choice)
    assert live.ok("/v2/order/query", {"merchantTradeNo": trade_no})["status"] == "PENDING"


def test_share_consent(live: LiveSandbox, receiver: Receiver, page: Any) -> None:
    request_id = uuid.uuid4().hex
    share = live.ok(
        "/shareinfo/accountId", {"requestId": request_id, "webhookUrl": receiver.url("/share")}
    )
    page.goto(share["qrcodeContent"])
    assert "asks for your Binance ID" in page.locator("#question").inner_text()
    shot(page, "consent")
    page.click("#share")
    page.wait_for_selector("#status")
    assert "Shared" in page.locator("#status").inner_text()
    [hit] = receiver.wait("/share")
    body = json.loads(hit["body"])
    assert body["bizType"] == "SHARE_ACCOUNT_ID" and body["bizIdStr"] == share["id"]
    assert json.loads(body["data"])["requestId"] == request_id


def test_expired_order_shows_its_state(live: LiveSandbox, page: Any) -> None:
    trade_no = uuid.uuid4().hex
    order = live.ok("/v2/order", order_payload(trade_no))
    live.control("POST", f"/orders/{trade_no}/expire")
    page.goto(order["checkoutUrl"])
    assert page.locator("#status").inner_text() == "This order has expired."
    assert page.locator("#pay").count() == 0
    shot(page, "checkout-expired")
    assert Path(SHOTS / "checkout-expired.png").exists()
