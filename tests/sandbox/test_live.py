"""Live: `python -m sandbox serve` as a subprocess (gunicorn, 2 workers), a webhook receiver,
the CLI, RSA-verified webhooks, retries, restart, fault injection and certificate rotation."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from .conftest import LiveSandbox, Receiver, free_port, order_payload, order_v3_payload

pytestmark = pytest.mark.live


def certificates(live: LiveSandbox) -> dict[str, str]:
    return {c["certSerial"]: c["certPublic"] for c in live.ok("/certificates", {})}


def verify(hit: dict[str, Any], certs: dict[str, str]) -> dict[str, Any]:
    """Verify a delivery the way a merchant must (docs/binance-pay.md#webhook-signature); return the
    parsed body."""
    headers = hit["headers"]
    pem = certs[headers["BinancePay-Certificate-SN"]]
    key = serialization.load_pem_public_key(pem.encode())
    payload = (
        headers["BinancePay-Timestamp"].encode()
        + b"\n"
        + headers["BinancePay-Nonce"].encode()
        + b"\n"
        + hit["body"]
        + b"\n"
    )
    key.verify(  # type: ignore[union-attr]
        base64.b64decode(headers["BinancePay-Signature"]),
        payload,
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    return json.loads(hit["body"])


def create(live: LiveSandbox, hook: str | None, **extra: Any) -> tuple[str, dict[str, Any]]:
    trade_no = uuid.uuid4().hex
    payload = order_payload(trade_no, **extra)
    if hook:
        payload["webhookUrl"] = hook
    return trade_no, live.ok("/v2/order", payload)


def log_of(live: LiveSandbox, trade_no: str) -> list[dict[str, Any]]:
    return live.control("GET", f"/webhooks?merchantTradeNo={trade_no}")["webhooks"]


def wait_for(predicate: Any, timeout: float = 10.0) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_pay_via_cli_delivers_a_verifiable_pay_success(live: LiveSandbox, receiver: Receiver):
    trade_no, order = create(live, receiver.url("/pay-ok"), orderAmount="25.17")
    done = live.cli("pay", trade_no)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "PAID"
    [hit] = receiver.wait("/pay-ok")
    certs = certificates(live)
    for serial, pem in certs.items():
        assert serial == hashlib.md5(pem.encode(), usedforsecurity=False).hexdigest().upper()
        assert not pem.endswith("\n")
        assert serialization.load_pem_public_key(pem.encode()).key_size == 4096  # type: ignore[union-attr]
    body = verify(hit, certs)
    assert hit["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert hit["headers"]["User-Agent"] == "okhttp/3.14.9"
    assert len(hit["headers"]["BinancePay-Nonce"]) == 32
    assert list(body) == ["bizType", "data", "bizIdStr", "bizId", "bizStatus"]
    assert hit["body"].startswith(b'{"bizType":"PAY","data":"{')
    assert body["bizStatus"] == "PAY_SUCCESS" and isinstance(body["data"], str)
    assert body["bizIdStr"] == order["prepayId"] and body["bizId"] == int(order["prepayId"])
    assert f'"bizId":{order["prepayId"]},'.encode() in hit["body"]
    data = json.loads(body["data"])
    assert list(data) == [
        "merchantTradeNo",
        "productType",
        "productName",
        "transactTime",
        "tradeType",
        "totalFee",
        "currency",
        "transactionId",
        "openUserId",
        "commission",
        "paymentInfo",
    ]
    assert '"totalFee":25.17000000' in body["data"] and '"commission":0' in body["data"]
    assert data["productType"] == "02" and data["productName"] == "Ice Cream"
    query = live.ok("/v2/order/query", {"merchantTradeNo": trade_no})
    assert query["status"] == "PAID" and query["transactionId"] == data["transactionId"]
    [entry] = log_of(live, trade_no)
    assert entry["state"] == "delivered" and entry["log"][0]["httpStatus"] == 200


def test_v3_order_pays_refunds_and_closes_with_verifiable_webhooks(
    live: LiveSandbox, receiver: Receiver
) -> None:
    # docs/binance-pay-v3.md 5-6: a v3 order then lives exactly as a v2 order.
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
        },
    ]
    trade_no = uuid.uuid4().hex
    order = live.ok(
        "/v3/order",
        order_v3_payload(trade_no, goodsDetails=items, webhookUrl=receiver.url("/v3-pay")),
    )
    assert live.cli("pay", trade_no).returncode == 0
    certs = certificates(live)
    [paid] = receiver.wait("/v3-pay")
    body = verify(paid, certs)
    data = json.loads(body["data"])
    assert (body["bizStatus"], body["bizIdStr"]) == ("PAY_SUCCESS", order["prepayId"])
    assert (data["productType"], data["productName"]) == ("01", "Vanilla")
    assert live.ok("/v2/order/query", {"prepayId": order["prepayId"]})["status"] == "PAID"

    live.ok(
        "/order/refund",
        {
            "refundRequestId": f"R{trade_no}",
            "prepayId": order["prepayId"],
            "refundAmount": "25.17",
            "webhookUrl": receiver.url("/v3-refund"),
        },
    )
    [refunded] = receiver.wait("/v3-refund")
    refund_body = verify(refunded, certs)
    assert refund_body["bizStatus"] == "REFUND_SUCCESS"
    assert json.loads(refund_body["data"])["productName"] == "Vanilla"
    status = wait_for(
        lambda: (
            live.ok("/v2/order/query", {"merchantTradeNo": trade_no})["status"] == "FULL_REFUNDED"
        )
    )
    assert status

    closing = uuid.uuid4().hex
    live.ok("/v3/order", order_v3_payload(closing, webhookUrl=receiver.url("/v3-close")))
    assert live.ok("/order/close", {"merchantTradeNo": closing}) is True
    [closed] = receiver.wait("/v3-close")
    assert verify(closed, certs)["bizStatus"] == "PAY_CLOSED"
    view = live.control("GET", f"/orders/{closing}")
    assert (view["status"], view["apiVersion"]) == ("CANCELED", "v3")


def test_retries_until_success(live: LiveSandbox, receiver: Receiver) -> None:
    receiver.scripts["/retry-3"] = [500, 500]
    trade_no, _ = create(live, receiver.url("/retry-3"))
    live.control("POST", f"/orders/{trade_no}/pay")
    hits = receiver.wait("/retry-3", 3)
    certs = certificates(live)
    bodies = [verify(hit, certs) for hit in hits]
    assert all(b == bodies[0] for b in bodies)
    nonces = {hit["headers"]["BinancePay-Nonce"] for hit in hits}
    assert len(nonces) == 3  # re-signed with a fresh nonce per retry (default)
    entry = wait_for(lambda: [e for e in log_of(live, trade_no) if e["state"] == "delivered"])[0]
    assert [a["httpStatus"] for a in entry["log"]] == [500, 500, 200]
    time.sleep(0.5)
    assert len(receiver.got("/retry-3")) == 3


def test_gives_up_after_one_attempt_and_six_retries(live: LiveSandbox, receiver: Receiver):
    receiver.scripts["/never"] = [500] * 20
    trade_no, _ = create(live, receiver.url("/never"))
    live.control("POST", f"/orders/{trade_no}/pay")
    wait_for(lambda: log_of(live, trade_no)[0]["state"] == "failed", timeout=15)
    assert len(receiver.got("/never")) == 7
    assert log_of(live, trade_no)[0]["attempts"] == 7
    resent = live.cli("resend", str(log_of(live, trade_no)[0]["id"]))
    assert resent.returncode == 0, resent.stderr
    receiver.wait("/never", 8)


def test_state_survives_a_restart_and_pending_delivery_resumes(
    tmp_path: Path, receiver: Receiver, small_key_pem: bytes
) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(small_key_pem)
    port = free_port()
    env = {"SANDBOX_RSA_KEY_FILE": str(key_file), "SANDBOX_WEBHOOK_RETRY_SCHEDULE": "2,2"}
    first = LiveSandbox(tmp_path / "db.sqlite3", port=port, **env).start()
    try:
        receiver.scripts["/restart"] = [500]
        trade_no, order = create(first, receiver.url("/restart"))
        first.control("POST", f"/orders/{trade_no}/pay")
        receiver.wait("/restart", 1)
    finally:
        first.stop()
    second = LiveSandbox(tmp_path / "db.sqlite3", port=port, **env).start()
    try:
        query = second.ok("/v2/order/query", {"merchantTradeNo": trade_no})
        assert query["status"] == "PAID" and query["prepayId"] == order["prepayId"]
        hits = receiver.wait("/restart", 2, timeout=15)
        assert verify(hits[1], certificates(second))["bizStatus"] == "PAY_SUCCESS"
    finally:
        second.stop()


@pytest.mark.usefixtures("clean_faults")
def test_api_faults(live: LiveSandbox) -> None:
    live.control("POST", "/faults", {"mode": "500", "count": 1, "path": "/v2/order"})
    trade_no = uuid.uuid4().hex
    resp = live.post("/v2/order", order_payload(trade_no))
    assert resp.status_code == 500
    assert live.post("/v2/order/query", {"merchantTradeNo": trade_no}).json()["code"] == "400202"

    live.control("POST", "/faults", {"mode": "429", "retryAfter": 3})
    resp = live.post("/v2/order", order_payload())
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"

    out = live.cli("fault", "malformed", "--path", "/v2/order/query")
    assert out.returncode == 0, out.stderr
    assert live.post("/v2/order", order_payload()).json()["status"] == "SUCCESS"
    resp = live.post("/v2/order/query", {"merchantTradeNo": trade_no})
    with pytest.raises(ValueError):
        resp.json()

    live.control("POST", "/faults", {"mode": "timeout", "seconds": 1.5, "apply": True})
    trade_no = uuid.uuid4().hex
    body = json.dumps(order_payload(trade_no))
    from .conftest import signed_headers

    with pytest.raises(requests.Timeout):
        requests.post(
            live.url + "/binancepay/openapi/v2/order",
            data=body,
            headers=signed_headers(body),
            timeout=0.5,
        )
    # outcome unknown for the client, but the order was created (apply=true)
    assert live.ok("/v2/order/query", {"merchantTradeNo": trade_no})["status"] == "INITIAL"
    assert live.control("GET", "/faults")["faults"] == []


@pytest.mark.usefixtures("clean_faults")
def test_webhook_faults_drop_duplicate_reorder_fail(live: LiveSandbox, receiver: Receiver):
    certs = certificates(live)
    live.control("POST", "/webhook-faults", {"mode": "drop", "count": 1})
    dropped, _ = create(live, receiver.url("/drop"))
    live.control("POST", f"/orders/{dropped}/pay")
    wait_for(lambda: log_of(live, dropped)[0]["state"] == "dropped")

    out = live.cli("webhook-fault", "duplicate", "--same-signature")
    assert out.returncode == 0, out.stderr
    dup, _ = create(live, receiver.url("/dup"))
    live.control("POST", f"/orders/{dup}/pay")
    first, second = receiver.wait("/dup", 2)
    assert first["body"] == second["body"]
    assert first["headers"]["BinancePay-Signature"] == second["headers"]["BinancePay-Signature"]
    verify(second, certs)

    live.control("POST", "/webhook-faults", {"mode": "reorder", "count": 1})
    early, _ = create(live, receiver.url("/order-a"))
    late, _ = create(live, receiver.url("/order-b"))
    live.control("POST", f"/orders/{early}/pay")
    time.sleep(0.3)
    assert receiver.got("/order-a") == []  # held
    live.control("POST", f"/orders/{late}/pay")
    [b] = receiver.wait("/order-b")
    [a] = receiver.wait("/order-a")
    assert b["at"] <= a["at"]

    live.control("POST", "/webhook-faults", {"mode": "fail", "count": 1, "attempts": 2})
    lost, _ = create(live, receiver.url("/lost"))
    live.control("POST", f"/orders/{lost}/pay")
    [hit] = receiver.wait("/lost")
    verify(hit, certs)
    entry = wait_for(lambda: [e for e in log_of(live, lost) if e["state"] == "delivered"])[0]
    assert [a["outcome"].split(" ")[0] for a in entry["log"]] == ["not_sent", "not_sent", "success"]
    time.sleep(0.3)
    assert len(receiver.got("/drop")) == 0 and len(receiver.got("/dup")) == 2


def test_certificate_rotation(live: LiveSandbox, receiver: Receiver) -> None:
    before = certificates(live)
    added = live.control("POST", "/certificates", {"activate": True, "bits": 2048})
    new_serial = added["certSerial"]
    after = certificates(live)
    assert set(before) < set(after) and new_serial in after
    trade_no, _ = create(live, receiver.url("/rotated"))
    live.control("POST", f"/orders/{trade_no}/pay")
    [hit] = receiver.wait("/rotated")
    assert hit["headers"]["BinancePay-Certificate-SN"] == new_serial
    verify(hit, after)
    [old] = before
    live.control("POST", f"/certificates/{old}/activate")
    live.control("POST", f"/certificates/{new_serial}/retire")
    assert set(certificates(live)) == {old}


def test_cli_status_and_unreachable_sandbox(live: LiveSandbox) -> None:
    status = live.cli("status")
    assert status.returncode == 0 and json.loads(status.stdout)["status"] == "ok"
    down = LiveSandbox(Path("/nonexistent"), port=free_port()).cli("status")
    assert down.returncode == 2 and "not reachable" in down.stderr
    missing = live.cli("pay", "NO-SUCH-ORDER")
    assert missing.returncode == 1 and "no order" in missing.stderr


def test_refund_auto_success_webhook(live: LiveSandbox, receiver: Receiver) -> None:
    trade_no, order = create(live, None, orderAmount="3")
    live.control("POST", f"/orders/{trade_no}/pay")
    live.ok(
        "/order/refund",
        {
            "refundRequestId": trade_no,
            "prepayId": order["prepayId"],
            "refundAmount": "3",
            "webhookUrl": receiver.url("/refund"),
        },
    )
    [hit] = receiver.wait("/refund")
    body = verify(hit, certificates(live))
    assert body["bizType"] == "PAY_REFUND" and body["bizStatus"] == "REFUND_SUCCESS"
    assert body["bizIdStr"] == order["prepayId"]
    assert live.ok("/v2/order/query", {"merchantTradeNo": trade_no})["status"] == "FULL_REFUNDED"
