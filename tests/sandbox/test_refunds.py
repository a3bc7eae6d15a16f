"""Refund rules (docs/binance-pay.md#refund-order, docs/binance-pay.md#query-refund,
docs/binance-pay.md#refund-data), in process with SANDBOX_REFUND_AUTO=manual."""

from __future__ import annotations

import json

import pytest

from .conftest import InProcess, order_payload


@pytest.fixture
def paid(sbx: InProcess) -> str:
    prepay_id = sbx.ok("/v2/order", order_payload("R1", orderAmount="10"))["prepayId"]
    sbx.control("POST", "/orders/R1/pay")
    return prepay_id


def refund(sbx: InProcess, prepay_id: str, request_id: str, amount: str) -> dict:
    return sbx.call(
        "/order/refund",
        {"refundRequestId": request_id, "prepayId": prepay_id, "refundAmount": amount},
    )


def order_status(sbx: InProcess) -> str:
    return sbx.ok("/v2/order/query", {"merchantTradeNo": "R1"})["status"]


def test_refund_needs_a_paid_order(sbx: InProcess) -> None:
    prepay_id = sbx.ok("/v2/order", order_payload("R0"))["prepayId"]
    assert refund(sbx, prepay_id, "x1", "1")["code"] == "400204"
    assert refund(sbx, "123456789012345678", "x2", "1")["code"] == "400202"
    assert sbx.app.ctx.store.conn().execute("SELECT COUNT(*) FROM refunds").fetchone()[0] == 0


def test_refund_result_and_success_webhook(sbx: InProcess, paid: str) -> None:
    answer = refund(sbx, paid, "RR1", "4")
    assert answer["status"] == "SUCCESS"
    data = answer["data"]
    assert list(data) == [
        "refundId",
        "refundRequestId",
        "prepayId",
        "orderAmount",
        "refundedAmount",
        "refundAmount",
        "remainingAttempts",
        "payerOpenId",
        "duplicateRequest",
    ]
    assert isinstance(data["refundId"], int)
    assert data["orderAmount"] == "10.00000000" and data["refundedAmount"] == "4.00000000"
    assert data["refundAmount"] == "4.00000000" and data["remainingAttempts"] == 9
    assert data["duplicateRequest"] == "N" and len(data["payerOpenId"]) == 32
    assert order_status(sbx) == "REFUNDING"
    query = sbx.ok("/order/refund/query", {"refundRequestId": "RR1"})
    assert query["refundStatus"] == "REFUND_PENDING"
    sbx.control("POST", "/refunds/RR1/succeed")
    assert sbx.ok("/order/refund/query", {"refundRequestId": "RR1"})["refundStatus"] == (
        "REFUND_SUCCESS"
    )
    assert order_status(sbx) == "REFUNDED"
    row = (
        sbx.app.ctx.store.conn()
        .execute("SELECT body FROM notifications WHERE biz_type = 'PAY_REFUND'")
        .fetchone()
    )
    body = json.loads(row["body"])
    assert body["bizIdStr"] == paid and body["bizStatus"] == "REFUND_SUCCESS"
    inner = json.loads(body["data"])
    assert isinstance(inner["refundInfo"], dict)
    assert inner["refundInfo"]["refundRequestId"] == "RR1"
    assert '"totalFee":10.00000000' in body["data"]


def test_refund_is_idempotent_on_refund_request_id(sbx: InProcess, paid: str) -> None:
    first = refund(sbx, paid, "SAME", "3")["data"]
    again = refund(sbx, paid, "SAME", "5")["data"]
    assert again == {**first, "duplicateRequest": "Y"}
    count = sbx.app.ctx.store.conn().execute("SELECT COUNT(*) FROM refunds").fetchone()[0]
    assert count == 1
    other = sbx.ok("/v2/order", order_payload("R2"))["prepayId"]
    sbx.control("POST", "/orders/R2/pay")
    assert refund(sbx, other, "SAME", "1")["code"] == "400001"


def test_refund_over_remaining_is_400303(sbx: InProcess, paid: str) -> None:
    assert refund(sbx, paid, "A", "6")["status"] == "SUCCESS"
    assert refund(sbx, paid, "B", "4.00000001")["code"] == "400303"
    assert refund(sbx, paid, "C", "4")["status"] == "SUCCESS"
    sbx.control("POST", "/refunds/A/succeed")
    sbx.control("POST", "/refunds/C/succeed")
    assert order_status(sbx) == "FULL_REFUNDED"
    assert refund(sbx, paid, "D", "1")["code"] == "400204"


def test_rejected_refund_releases_its_amount(sbx: InProcess, paid: str) -> None:
    assert refund(sbx, paid, "BIG", "10")["status"] == "SUCCESS"
    assert refund(sbx, paid, "MORE", "1")["code"] == "400303"
    status, view = sbx.control("POST", "/refunds/BIG/reject")
    assert status == 200 and view["refundStatus"] == "REFUND_FAIL"
    assert order_status(sbx) == "PAID"
    row = (
        sbx.app.ctx.store.conn()
        .execute("SELECT biz_status FROM notifications WHERE biz_type = 'PAY_REFUND'")
        .fetchone()
    )
    assert row["biz_status"] == "REFUND_REJECTED"
    assert refund(sbx, paid, "AGAIN", "10")["status"] == "SUCCESS"
    assert sbx.control("POST", "/refunds/BIG/succeed")[0] == 409


def test_ten_attempts_and_last_one_refunds_everything(sbx: InProcess, paid: str) -> None:
    for i in range(9):
        data = refund(sbx, paid, f"N{i}", "0.5")["data"]
        assert data["remainingAttempts"] == 9 - i
    # remainingAttempts is now 1 -> the 10th refund ignores the amount and takes what remains.
    last = refund(sbx, paid, "N9", "0.01")["data"]
    assert last["refundAmount"] == "5.50000000"
    assert last["refundedAmount"] == "10.00000000"
    assert last["remainingAttempts"] == 0
    assert refund(sbx, paid, "N10", "0.01")["code"] == "400302"


def test_remaining_attempts_count_down_from_ten(sbx: InProcess, paid: str) -> None:
    assert refund(sbx, paid, "F1", "1")["data"]["remainingAttempts"] == 9
    assert refund(sbx, paid, "F2", "1")["data"]["remainingAttempts"] == 8


def test_unknown_refund_query_is_400202(sbx: InProcess) -> None:
    sbx.fail("/order/refund/query", {"refundRequestId": "nope"}, "400202")


def test_auto_refund_completion(sbx: InProcess, paid: str) -> None:
    from sandbox.app import create_app

    app = create_app(sbx.app.ctx.config.with_(refund_auto="reject", refund_delay=1.0))
    try:
        other = InProcess(app, sbx.clock)
        other.ok(
            "/order/refund", {"refundRequestId": "AUTO", "prepayId": paid, "refundAmount": "2"}
        )
        other.run_dispatcher()
        assert other.ok("/order/refund/query", {"refundRequestId": "AUTO"})["refundStatus"] == (
            "REFUND_PENDING"
        )
        sbx.clock.advance(1000)
        other.run_dispatcher()
        assert other.ok("/order/refund/query", {"refundRequestId": "AUTO"})["refundStatus"] == (
            "REFUND_FAIL"
        )
    finally:
        app.close()
