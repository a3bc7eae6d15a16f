"""sandbox/receiver.py in-process: intake, verification with paysvc_webhooks, control API, pages.

Events are signed with paysvc's own signer (notifications/signing.py, plain Python) at the
sandbox's fake clock, so tolerance is checked against that clock.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from notifications.signing import signature_header
from sandbox import receiver
from sandbox.app import create_app
from sandbox.config import SandboxConfig

from .conftest import API_KEY, SECRET, T0, FakeClock, InProcess

WHSEC = "whsec_demo_0123456789abcdefghijklmnop"
OLD_WHSEC = "whsec_old_zyxwvutsrqponmlkjihgfedcba"


def event_body(event_id: str = "evt_0123456789abcdef0123456789abcdef", **data: Any) -> bytes:
    payload = {
        "createdAt": "2023-11-14T22:13:20.000000Z",
        "data": {"merchantTradeNo": "9825382937292", "status": "PAID", **data},
        "id": event_id,
        "type": "order.paid",
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def post(sbx: InProcess, name: str, body: bytes, header: str | None = None, **extra: str) -> Any:
    headers = {"Content-Type": "application/json", "User-Agent": "paysvc-notifications/1", **extra}
    if header is not None:
        headers["Paysvc-Signature"] = header
    event = json.loads(body) if body.startswith(b"{") else {}
    if "id" in event:
        headers.setdefault("Paysvc-Event-Id", event["id"])
    return sbx.client.post(f"/receiver/{name}", data=body, headers=headers)


def signed(sbx: InProcess, body: bytes, secret: str = WHSEC) -> str:
    return signature_header(body=body, secrets=[secret], timestamp=sbx.clock.now // 1000)


def register(sbx: InProcess, name: str, *secrets: str) -> None:
    status, answer = sbx.control("PUT", f"/receiver/{name}/secrets", {"secrets": list(secrets)})
    assert (status, answer) == (200, {"name": name, "secrets": len(secrets)})


def stored(sbx: InProcess, query: str = "") -> list[dict[str, Any]]:
    status, answer = sbx.control("GET", "/receiver/events" + query)
    assert status == 200, answer
    return answer["events"]


# -- intake and verification -----------------------------------------------------------------------
def test_a_signed_event_is_stored_as_verified(sbx):
    register(sbx, "demo", WHSEC)
    body = event_body()

    response = post(sbx, "demo", body, signed(sbx, body))

    assert response.status_code == 200
    assert response.get_json() == {"received": True}
    [event] = stored(sbx)
    assert event["verified"] is True
    assert (event["result"], event["reason"]) == ("signature verified", "")
    assert event["name"] == "demo"
    assert event["eventId"] == "evt_0123456789abcdef0123456789abcdef"
    assert event["eventType"] == "order.paid"
    assert event["merchantTradeNo"] == "9825382937292"
    assert event["receivedAt"] == T0
    assert event["body"].encode() == body  # the exact text, for re-verifying by hand
    assert event["headers"]["Paysvc-Signature"] == signed(sbx, body)
    assert event["headers"]["Paysvc-Event-Id"] == event["eventId"]
    assert event["headers"]["User-Agent"] == "paysvc-notifications/1"


def test_another_secret_or_a_changed_body_is_stored_as_not_verified(sbx):
    register(sbx, "demo", WHSEC)
    body = event_body()

    post(sbx, "demo", body, signed(sbx, body, secret=OLD_WHSEC))
    post(sbx, "demo", body.replace(b"PAID", b"PAIX"), signed(sbx, body))

    tampered, other_secret = stored(sbx)
    for event in (tampered, other_secret):
        assert event["verified"] is False
        assert event["reason"] == "no v1 signature matches the body with the secret"
        assert event["result"] == "not verified: " + event["reason"]


def test_without_a_registered_secret_nothing_verifies(sbx):
    register(sbx, "someone-else", WHSEC)  # another receiver's secret does not apply
    body = event_body()

    response = post(sbx, "demo", body, signed(sbx, body))

    assert response.status_code == 200
    [event] = stored(sbx)
    assert (event["verified"], event["reason"]) == (False, "no secret registered")
    assert event["result"] == "not verified: no secret registered"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "no Paysvc-Signature header"),
        ("garbage", "Paysvc-Signature is not a comma-separated list of key=value items"),
        ("v1=abc", "no timestamp (t=) in Paysvc-Signature"),
        (f"t={T0 // 1000}", "no v1= signature in Paysvc-Signature"),
    ],
)
def test_each_header_failure_is_stored_with_its_reason(sbx, header, reason):
    register(sbx, "demo", WHSEC)

    post(sbx, "demo", event_body(), header)

    [event] = stored(sbx)
    assert (event["verified"], event["reason"]) == (False, reason)


def test_the_tolerance_is_checked_against_the_sandbox_clock(sbx):
    register(sbx, "demo", WHSEC)
    body = event_body()
    header = signed(sbx, body)

    sbx.clock.advance(300_000)
    post(sbx, "demo", body, header)
    sbx.clock.advance(1_000)
    post(sbx, "demo", body, header)

    late, in_time = stored(sbx)
    assert in_time["verified"] is True
    assert late["verified"] is False
    assert late["reason"].startswith("timestamp outside the tolerance: ")
    assert "301 s old" in late["reason"]


def test_during_a_rotation_either_secret_and_a_two_signature_header_verify(sbx):
    register(sbx, "demo", WHSEC, OLD_WHSEC)
    body = event_body()
    old_only = signed(sbx, body, secret=OLD_WHSEC)
    both = signed(sbx, body) + "," + old_only.split(",")[1]

    post(sbx, "demo", body, old_only)
    post(sbx, "demo", body, both)
    register(sbx, "demo", WHSEC)  # the rotation is over: the old secret goes
    post(sbx, "demo", body, old_only)

    after, two, old = stored(sbx)
    assert old["verified"] and two["verified"]
    assert after["verified"] is False
    assert after["reason"] == "no v1 signature matches the body with the secret"


def test_secrets_can_be_forgotten(sbx):
    register(sbx, "demo", WHSEC)

    assert sbx.control("DELETE", "/receiver/demo/secrets") == (
        200,
        {"name": "demo", "cleared": True},
    )
    assert sbx.control("DELETE", "/receiver/demo/secrets")[1]["cleared"] is False
    body = event_body()
    post(sbx, "demo", body, signed(sbx, body))
    assert stored(sbx)[0]["reason"] == "no secret registered"


# -- refused requests store nothing ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"\xff\xfe{}", 400),
        (b"", 400),
        (b'{"pad":"' + b"x" * (receiver.MAX_BODY_BYTES - 9) + b'"}', 413),
    ],
    ids=["not-json", "not-utf8", "empty", "too-large"],
)
def test_a_body_that_is_not_json_or_too_large_is_refused_and_not_stored(sbx, body, status):
    response = post(sbx, "demo", body, "t=1,v1=abc")

    assert response.status_code == status
    assert "error" in response.get_json()
    assert stored(sbx) == []


def test_a_body_of_exactly_the_limit_is_accepted(sbx):
    body = b'{"pad":"' + b"x" * (receiver.MAX_BODY_BYTES - 10) + b'"}'
    assert len(body) == receiver.MAX_BODY_BYTES

    assert post(sbx, "demo", body).status_code == 200
    assert len(stored(sbx)[0]["body"]) == receiver.MAX_BODY_BYTES


def test_a_chunked_body_over_the_limit_is_refused_not_truncated(sbx):
    body = b'{"pad":"' + b"x" * receiver.MAX_BODY_BYTES + b'"}'

    response = sbx.client.post(
        "/receiver/demo",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert response.status_code == 413
    assert stored(sbx) == []


@pytest.mark.parametrize("name", ["-lead", "a" * 65, "sp ace", "semi;colon"])
def test_a_bad_receiver_name_is_refused(sbx, name):
    assert sbx.client.post(f"/receiver/{name}", data=event_body()).status_code == 400
    status, _ = sbx.control("PUT", f"/receiver/{name}/secrets", {"secrets": [WHSEC]})
    assert status == 400
    assert stored(sbx) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"secrets": []},
        {"secrets": "whsec_single"},
        {"secrets": [""]},
        {"secrets": [1]},
        {"secrets": ["x" * 257]},
        {"secrets": [f"s{i}" for i in range(6)]},
    ],
)
def test_a_bad_secrets_body_is_refused_and_changes_nothing(sbx, body):
    register(sbx, "demo", WHSEC)

    status, answer = sbx.control("PUT", "/receiver/demo/secrets", body)

    assert status == 400
    assert "secrets" in answer["error"]
    payload = event_body()
    post(sbx, "demo", payload, signed(sbx, payload))
    assert stored(sbx)[0]["verified"] is True  # the registered secret is still there


# -- control API -----------------------------------------------------------------------------------
def test_events_can_be_filtered_limited_and_cleared_per_name(sbx):
    for name in ("demo", "demo", "other"):
        post(sbx, name, event_body())

    assert [e["name"] for e in stored(sbx)] == ["other", "demo", "demo"]
    assert [e["name"] for e in stored(sbx, "?name=demo")] == ["demo", "demo"]
    assert len(stored(sbx, "?limit=1")) == 1
    assert sbx.control("GET", "/receiver/events?limit=x")[0] == 400
    assert sbx.control("DELETE", "/receiver/events?name=demo") == (200, {"cleared": 2})
    assert [e["name"] for e in stored(sbx)] == ["other"]
    assert sbx.control("DELETE", "/receiver/events") == (200, {"cleared": 1})
    assert stored(sbx) == []


def test_only_the_newest_events_of_a_receiver_are_kept(sbx, monkeypatch):
    monkeypatch.setattr(receiver, "KEEP_EVENTS", 3)
    for n in range(5):
        post(sbx, "demo", event_body(f"evt_{n}"))
    post(sbx, "other", event_body("evt_other"))

    assert [e["eventId"] for e in stored(sbx, "?name=demo")] == ["evt_4", "evt_3", "evt_2"]
    assert [e["eventId"] for e in stored(sbx, "?name=other")] == ["evt_other"]


def test_reset_clears_events_and_keeps_secrets(sbx):
    register(sbx, "demo", WHSEC)
    post(sbx, "demo", event_body())

    sbx.control("POST", "/reset")

    assert stored(sbx) == []
    body = event_body()
    post(sbx, "demo", body, signed(sbx, body))
    assert stored(sbx)[0]["verified"] is True


@pytest.fixture
def guarded(tmp_path: Path, small_key_pem: bytes):
    """A sandbox with SANDBOX_CONTROL_TOKEN set."""
    cfg = SandboxConfig(
        db_path=str(tmp_path / "guarded.sqlite3"),
        api_key=API_KEY,
        secret_key=SECRET,
        rsa_key_pem=small_key_pem,
        run_dispatcher=False,
        clock=FakeClock(),
        control_token="ctl-token-123",
    )
    app = create_app(cfg)
    yield InProcess(app, cfg.clock)  # type: ignore[arg-type]
    app.close()


def test_the_control_token_guards_secrets_and_events_but_not_intake_or_pages(guarded):
    put = {"json": {"secrets": [WHSEC]}}
    token = {"X-Sandbox-Token": "ctl-token-123"}

    assert guarded.client.put("/sandbox/receiver/demo/secrets", **put).status_code == 401
    assert guarded.client.get("/sandbox/receiver/events").status_code == 401
    assert guarded.client.delete("/sandbox/receiver/events").status_code == 401
    assert (
        guarded.client.put("/sandbox/receiver/demo/secrets", headers=token, **put).status_code
        == 200
    )
    body = event_body()
    assert (
        post(guarded, "demo", body, signed(guarded, body)).status_code == 200
    )  # paysvc has no token
    assert guarded.client.get("/receiver").status_code == 200
    answer = guarded.client.get("/sandbox/receiver/events", headers=token).get_json()
    assert answer["events"][0]["verified"] is True


# -- pages -----------------------------------------------------------------------------------------
def test_the_page_lists_events_newest_first_with_their_badges(sbx):
    register(sbx, "demo", WHSEC)
    good = event_body("evt_good")
    post(sbx, "demo", good, signed(sbx, good))
    bad = event_body("evt_bad", merchantTradeNo="T-bad")
    post(sbx, "demo", bad, signed(sbx, bad, secret=OLD_WHSEC))

    html = sbx.client.get("/receiver").get_data(as_text=True)

    assert '<meta http-equiv="refresh" content="3">' in html
    assert html.index("evt_bad") < html.index("evt_good")
    assert '<span class="badge ok">signature verified</span>' in html
    assert (
        '<span class="badge bad">not verified: no v1 signature matches the body with the secret'
        "</span>"
    ) in html
    assert '<a class="detail" href="/receiver/demo/evt_good">evt_good</a>' in html
    assert "T-bad" in html and "9825382937292" in html
    assert "demo</a> (1 secret)" in html


def test_the_page_filters_by_name_and_says_when_empty(sbx):
    post(sbx, "alpha", event_body("evt_alpha"))
    post(sbx, "beta", event_body("evt_beta"))

    html = sbx.client.get("/receiver?name=alpha").get_data(as_text=True)
    assert "evt_alpha" in html and "evt_beta" not in html
    sbx.control("DELETE", "/receiver/events")
    assert "No events yet." in sbx.client.get("/receiver").get_data(as_text=True)


def test_the_detail_page_shows_every_receipt_pretty_printed(sbx):
    register(sbx, "demo", WHSEC)
    body = event_body("evt_twice")
    post(sbx, "demo", body, signed(sbx, body))
    sbx.clock.advance(30_000)
    post(sbx, "demo", body, "t=1,v1=" + "0" * 64)  # a second receipt of the same event

    html = sbx.client.get("/receiver/demo/evt_twice").get_data(as_text=True)

    assert "received 2\n  times" in html
    assert html.count('<section class="receipt">') == 2
    assert html.index("not verified") < html.index("signature verified")  # newest first
    assert "&#34;merchantTradeNo&#34;: &#34;9825382937292&#34;" in html  # indented JSON
    assert "&#34;Paysvc-Signature&#34;: &#34;t=1,v1=" in html
    assert sbx.client.get("/receiver/demo/evt_unknown").status_code == 404
    assert sbx.client.get("/receiver/other/evt_twice").status_code == 404


def test_a_body_without_an_id_or_with_an_odd_one_is_reachable_by_its_row(sbx):
    post(sbx, "demo", b"[1, 2, 3]")
    post(sbx, "demo", json.dumps({"id": "../../etc", "type": "x"}).encode())

    odd, plain = stored(sbx)
    html = sbx.client.get("/receiver").get_data(as_text=True)
    assert f'href="/receiver/demo/receipt-{plain["id"]}">(no id)</a>' in html
    assert f'href="/receiver/demo/receipt-{odd["id"]}">../../etc</a>' in html
    detail = sbx.client.get(f"/receiver/demo/receipt-{plain['id']}")
    assert detail.status_code == 200
    assert "  1,\n  2," in detail.get_data(as_text=True)


def test_hostile_fields_are_escaped(sbx):
    post(sbx, "demo", json.dumps({"id": "evt_x", "type": "<script>alert(1)</script>"}).encode())

    html = sbx.client.get("/receiver").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_secrets_never_appear_in_answers_or_pages(sbx):
    register(sbx, "demo", WHSEC, OLD_WHSEC)
    body = event_body("evt_s")
    post(sbx, "demo", body, signed(sbx, body))
    post(sbx, "demo", body, "garbage")

    outputs = [
        json.dumps(sbx.control("GET", "/receiver/events")),
        json.dumps(sbx.control("GET", "/status")),
        sbx.client.get("/receiver").get_data(as_text=True),
        sbx.client.get("/receiver/demo/evt_s").get_data(as_text=True),
        sbx.client.get("/").get_data(as_text=True),
    ]
    for text in outputs:
        assert WHSEC not in text and OLD_WHSEC not in text


def test_the_index_page_links_to_the_receiver(sbx):
    html = sbx.client.get("/").get_data(as_text=True)

    assert '<a id="receiver-link" href="/receiver">' in html


def test_a_receivers_url_opened_in_a_browser_shows_its_events(sbx):
    post(sbx, "alpha", event_body("evt_alpha"))
    post(sbx, "beta", event_body("evt_beta"))

    html = sbx.client.get("/receiver/alpha").get_data(as_text=True)
    assert "evt_alpha" in html and "evt_beta" not in html
    assert "showing <strong>alpha</strong> only" in html


def test_unknown_receiver_paths_answer_json_or_a_page_not_cloudfront(sbx):
    missing = sbx.client.get("/receiver/demo/evt_1/more")
    assert missing.status_code == 404
    assert "The demo receiver has no such event." in missing.get_data(as_text=True)
    assert sbx.client.put("/receiver/demo").get_json() == {"error": "Method Not Allowed"}
    assert sbx.client.post("/receiver/a/b").get_json() == {"error": "Method Not Allowed"}


# -- storage ---------------------------------------------------------------------------------------
def test_a_database_from_before_the_receiver_gains_its_tables(tmp_path, small_key_pem):
    cfg = SandboxConfig(
        db_path=str(tmp_path / "old.sqlite3"),
        rsa_key_pem=small_key_pem,
        run_dispatcher=False,
        clock=FakeClock(),
    )
    create_app(cfg).close()
    with sqlite3.connect(cfg.db_path) as conn:  # as a sandbox database made before this feature
        conn.execute("DROP TABLE receiver_events")
        conn.execute("DROP TABLE receiver_secrets")

    app = create_app(cfg)
    try:
        sbx = InProcess(app, cfg.clock)  # type: ignore[arg-type]
        register(sbx, "demo", WHSEC)
        body = event_body()
        assert post(sbx, "demo", body, signed(sbx, body)).status_code == 200
        assert stored(sbx)[0]["verified"] is True
    finally:
        app.close()


def test_kept_headers_are_paysvc_ones_content_type_and_user_agent():
    headers = [
        ("Paysvc-Signature", "t=1,v1=a"),
        ("paysvc-event-id", "evt_1"),
        ("Content-Type", "application/json"),
        ("User-Agent", "paysvc-notifications/1"),
        ("Authorization", "Bearer something"),
        ("Cookie", "session=1"),
    ]

    assert receiver.kept_headers(headers) == {
        "Paysvc-Signature": "t=1,v1=a",
        "paysvc-event-id": "evt_1",
        "Content-Type": "application/json",
        "User-Agent": "paysvc-notifications/1",
    }
