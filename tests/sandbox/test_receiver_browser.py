"""Browser: the demo receiver page shows a verified and a not-verified event, refreshes by itself,
and opens an event's headers and body (Debian's Chromium through Playwright)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from notifications.signing import signature_header
from tests.browser import MISSING_REASON, SCREENSHOTS, chromium_missing, launch_chromium

from .conftest import LiveSandbox

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.skipif(chromium_missing(), reason=MISSING_REASON),
]

WHSEC = "whsec_browser_0123456789abcdefghijklmn"
GREEN = "rgb(231, 248, 239)"
RED = "rgb(253, 236, 236)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as instance:
        yield instance


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    pg = context.new_page()
    yield pg
    context.close()


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def deliver(live: LiveSandbox, name: str, secret: str) -> dict[str, Any]:
    """POST an order.paid event signed by paysvc's signer with `secret`; returns the event."""
    payload = {
        "createdAt": "2025-01-01T12:00:00.000000Z",
        "data": {"merchantTradeNo": f"T{uuid.uuid4().hex[:12]}", "status": "PAID"},
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "order.paid",
    }
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "Paysvc-Event-Id": payload["id"],
        "Paysvc-Event-Type": payload["type"],
        "Paysvc-Signature": signature_header(body=body, secrets=[secret]),
    }
    answer = requests.post(f"{live.url}/receiver/{name}", data=body, headers=headers, timeout=10)
    assert answer.json() == {"received": True}
    return payload


def row(page: Any, event: dict[str, Any]) -> Any:
    return page.locator("tr.event", has_text=event["id"])


def test_the_receiver_page_shows_verified_and_not_verified_events(live: LiveSandbox, page: Any):
    name = f"browser-{uuid.uuid4().hex[:8]}"
    live.control("PUT", f"/receiver/{name}/secrets", {"secrets": [WHSEC]})
    good = deliver(live, name, WHSEC)
    bad = deliver(live, name, "whsec_not_the_registered_one")

    page.goto(live.url + "/")
    page.click("#receiver-link")
    page.wait_for_url(live.url + "/receiver")
    page.goto(f"{live.url}/receiver/{name}")

    good_badge = row(page, good).locator(".badge")
    bad_badge = row(page, bad).locator(".badge")
    assert good_badge.inner_text() == "signature verified"
    assert bad_badge.inner_text() == (
        "not verified: no v1 signature matches the body with the secret"
    )
    assert good_badge.evaluate("el => getComputedStyle(el).backgroundColor") == GREEN
    assert bad_badge.evaluate("el => getComputedStyle(el).backgroundColor") == RED
    assert row(page, good).locator(".trade-no").inner_text() == good["data"]["merchantTradeNo"]
    assert row(page, good).locator(".type").inner_text() == "order.paid"
    ids = page.locator("tr.event a.detail").all_inner_texts()
    assert ids == [bad["id"], good["id"]]  # newest first
    shot(page, "receiver")

    # It refreshes by itself: a new event shows up without navigating.
    late = deliver(live, name, WHSEC)
    row(page, late).wait_for(timeout=15_000)
    assert row(page, late).locator(".badge").inner_text() == "signature verified"

    row(page, good).locator("a.detail").click()
    page.wait_for_url(f"{live.url}/receiver/{name}/{good['id']}")
    assert page.locator(".receipt .badge").inner_text() == "signature verified"
    assert (
        f'"merchantTradeNo": "{good["data"]["merchantTradeNo"]}"'
        in page.locator("pre.body").inner_text()
    )
    assert '"Paysvc-Signature": "t=' in page.locator("pre.headers").inner_text()
    assert WHSEC not in page.content()
    shot(page, "receiver-event")
    assert (SCREENSHOTS / "receiver.png").exists() and (SCREENSHOTS / "receiver-event.png").exists()
