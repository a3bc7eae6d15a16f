"""Order lifecycle through the Binance API and the control API, in process
(docs/binance-pay.md#create-order, docs/binance-pay.md#query-order,
docs/binance-pay.md#close-order)."""

from __future__ import annotations

import base64
import json
import re

from .conftest import InProcess, order_payload

HOUR = 3600 * 1000


def notifications(sbx: InProcess) -> list[dict]:
    rows = (
        sbx.app.ctx.store.conn()
        .execute("SELECT biz_type, biz_status, biz_id, state, body FROM notifications ORDER BY id")
        .fetchall()
    )
    return [dict(r) for r in rows]


def test_create_order_response_shape(sbx: InProcess) -> None:
    answer = sbx.call("/v2/order", order_payload("ORD1", returnUrl="https://shop.test/ok"))
    assert answer["errorMessage"] == ""
    data = answer["data"]
    assert list(data) == [
        "prepayId",
        "terminalType",
        "expireTime",
        "qrcodeLink",
        "qrContent",
        "checkoutUrl",
        "deeplink",
        "universalUrl",
        "totalFee",
        "currency",
    ]
    assert re.fullmatch(r"[1-9]\d{17}", data["prepayId"])
    assert data["terminalType"] == "WEB"
    # default 1 h (docs/binance-pay.md#create-order)
    assert data["expireTime"] == sbx.clock.now + HOUR
    assert data["totalFee"] == "25.17" and data["currency"] == "USDT"
    assert re.fullmatch(r"http://sandbox\.test/en/checkout/[0-9a-f]{32}", data["checkoutUrl"])
    assert re.fullmatch(r"http://sandbox\.test/qr/dplk[0-9a-f]{32}", data["qrContent"])
    assert re.fullmatch(
        r"http://sandbox\.test/static/payment/\d{8}/[0-9a-f-]{36}\.png", data["qrcodeLink"]
    )
    assert re.fullmatch(
        r"bnc://app\.binance\.com/payment/secpay\?tempToken=[A-Za-z0-9]{32}", data["deeplink"]
    )
    dp = re.search(r"_dp=([^&]+)", data["universalUrl"]).group(1)
    assert base64.urlsafe_b64decode(dp).decode() == data["deeplink"]


def test_ids_increase_and_links_resolve(sbx: InProcess) -> None:
    first = sbx.ok("/v2/order", order_payload("A1"))
    second = sbx.ok("/v2/order", order_payload("A2"))
    assert int(second["prepayId"]) > int(first["prepayId"])
    png = sbx.client.get(first["qrcodeLink"].removeprefix("http://sandbox.test"))
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    for link in (first["qrContent"], first["universalUrl"]):
        resp = sbx.client.get(link.removeprefix("http://sandbox.test"))
        assert resp.status_code == 302
        assert resp.headers["Location"].endswith(first["checkoutUrl"].split("/")[-1])


def test_amount_as_json_number_and_attach(sbx: InProcess) -> None:
    data = sbx.ok("/v2/order", order_payload(orderAmount=25.17, universalUrlAttach="a=1"))
    assert data["totalFee"] == "25.17"
    assert data["universalUrl"].endswith("&a=1")


def test_duplicate_merchant_trade_no_is_400201(sbx: InProcess) -> None:
    sbx.ok("/v2/order", order_payload("DUP1"))
    sbx.fail("/v2/order", order_payload("DUP1"), "400201", "duplicated")


def test_query_by_either_id_and_prepay_id_wins(sbx: InProcess) -> None:
    a = sbx.ok("/v2/order", order_payload("QA", passThroughInfo="ref-7"))
    sbx.ok("/v2/order", order_payload("QB"))
    by_trade = sbx.ok("/v2/order/query", {"merchantTradeNo": "QA"})
    assert by_trade["prepayId"] == a["prepayId"]
    both = sbx.ok("/v2/order/query", {"prepayId": a["prepayId"], "merchantTradeNo": "QB"})
    assert both["merchantTradeNo"] == "QA"
    assert both["merchantId"] == 352520168 and isinstance(both["merchantId"], int)
    assert both["status"] == "INITIAL"
    assert both["orderAmount"] == "25.17"
    assert both["passThroughInfo"] == "ref-7"
    assert both["createTime"] == sbx.clock.now
    assert "transactionId" not in both and "paymentInfo" not in both


def test_unknown_order_is_400202(sbx: InProcess) -> None:
    sbx.fail("/v2/order/query", {"merchantTradeNo": "NOPE"}, "400202")
    sbx.fail("/order/close", {"prepayId": "123456789012345678"}, "400202")


def test_checkout_opened_then_paid(sbx: InProcess) -> None:
    data = sbx.ok("/v2/order", order_payload("PAY1"))
    page = sbx.client.get(data["checkoutUrl"].removeprefix("http://sandbox.test"))
    assert page.status_code == 200 and "Ice Cream" in page.get_data(as_text=True)
    assert sbx.ok("/v2/order/query", {"merchantTradeNo": "PAY1"})["status"] == "PENDING"
    sbx.clock.advance(1000)
    status, view = sbx.control("POST", "/orders/PAY1/pay")
    assert status == 200 and view["status"] == "PAID"
    paid = sbx.ok("/v2/order/query", {"merchantTradeNo": "PAY1"})
    assert re.fullmatch(r"M_P_\d{18}", paid["transactionId"])
    assert re.fullmatch(r"[0-9a-f]{32}", paid["openUserId"])
    assert paid["transactTime"] == sbx.clock.now
    assert paid["paymentInfo"] == {
        "payerId": paid["paymentInfo"]["payerId"],
        "payMethod": "funding",
        "paymentInstructions": [{"currency": "USDT", "amount": "25.17", "price": "1"}],
        "channel": "DEFAULT",
    }
    [note] = notifications(sbx)
    assert (note["biz_type"], note["biz_status"], note["state"]) == ("PAY", "PAY_SUCCESS", "no_url")
    status, again = sbx.control("POST", "/orders/PAY1/pay")
    assert status == 409 and "PAID" in again["error"]


def test_pay_in_another_coin(sbx: InProcess) -> None:
    sbx.ok("/v2/order", order_payload("COIN1", orderAmount="600", currency="USDT"))
    sbx.control("POST", "/orders/COIN1/pay", {"payCurrency": "BNB"})
    paid = sbx.ok("/v2/order/query", {"merchantTradeNo": "COIN1"})
    assert paid["paymentInfo"]["paymentInstructions"] == [
        {"currency": "BNB", "amount": "1.00000000", "price": "600.00000000"}
    ]


def test_close_open_order_then_close_again_and_close_paid(sbx: InProcess) -> None:
    sbx.ok("/v2/order", order_payload("CL1"))
    answer = sbx.call("/order/close", {"merchantTradeNo": "CL1", "prepayId": None})
    assert answer == {"status": "SUCCESS", "code": "000000", "data": True, "errorMessage": None}
    assert sbx.ok("/v2/order/query", {"merchantTradeNo": "CL1"})["status"] == "CANCELED"
    sbx.fail("/order/close", {"merchantTradeNo": "CL1"}, "400204")
    assert [n["biz_status"] for n in notifications(sbx)] == ["PAY_CLOSED"]
    sbx.ok("/v2/order", order_payload("CL2"))
    sbx.control("POST", "/orders/CL2/pay")
    sbx.fail("/order/close", {"merchantTradeNo": "CL2"}, "400204", "PAID")
    assert sbx.ok("/v2/order/query", {"merchantTradeNo": "CL2"})["status"] == "PAID"


def test_expiry_is_lazy_on_read(sbx: InProcess) -> None:
    sbx.ok("/v2/order", order_payload("EX1", orderExpireTime=sbx.clock.now + 60_000))
    sbx.clock.advance(59_999)
    assert sbx.ok("/v2/order/query", {"merchantTradeNo": "EX1"})["status"] == "INITIAL"
    sbx.clock.advance(1)
    assert sbx.ok("/v2/order/query", {"merchantTradeNo": "EX1"})["status"] == "EXPIRED"
    [note] = notifications(sbx)
    assert note["biz_status"] == "PAY_CLOSED"
    data = json.loads(json.loads(note["body"])["data"])
    assert "transactionId" not in data and "paymentInfo" not in data
    sbx.fail("/order/close", {"merchantTradeNo": "EX1"}, "400204", "EXPIRED")
    status, _ = sbx.control("POST", "/orders/EX1/pay")
    assert status == 409


def test_expiry_by_the_scanner(sbx: InProcess) -> None:
    sbx.ok("/v2/order", order_payload("EX2", orderExpireTime=sbx.clock.now + 1000))
    sbx.clock.advance(1000)
    sbx.run_dispatcher()
    row = (
        sbx.app.ctx.store.conn()
        .execute("SELECT status FROM orders WHERE merchant_trade_no = 'EX2'")
        .fetchone()
    )
    assert row["status"] == "EXPIRED"
    assert [n["biz_status"] for n in notifications(sbx)] == ["PAY_CLOSED"]


def test_control_expire_and_close(sbx: InProcess) -> None:
    sbx.ok("/v2/order", order_payload("CX1"))
    sbx.ok("/v2/order", order_payload("CX2"))
    assert sbx.control("POST", "/orders/CX1/expire")[1]["status"] == "EXPIRED"
    assert sbx.control("POST", "/orders/CX2/close")[1]["status"] == "CANCELED"
    assert sbx.control("POST", "/orders/CX2/close")[0] == 409
    assert sbx.control("GET", "/orders/NOPE")[0] == 404


def test_certificates_endpoint(sbx: InProcess) -> None:
    [cert] = sbx.ok("/certificates", {})
    assert list(cert) == ["certSerial", "certPublic"]
    assert cert["certPublic"].startswith("-----BEGIN PUBLIC KEY-----\n")
    assert cert["certPublic"].endswith("-----END PUBLIC KEY-----")
    lines = cert["certPublic"].split("\n")[1:-1]
    assert all(len(line) == 64 for line in lines[:-1])


def test_share_account_id_and_consent(sbx: InProcess) -> None:
    answer = sbx.call("/shareinfo/accountId", {"requestId": "9109c2bd482ef6bccc819c45af104a78"})
    data = answer["data"]
    assert list(data) == [
        "merchantId",
        "id",
        "requestId",
        "expireTime",
        "qrcodeContent",
        "qrcodeUrl",
    ]
    assert data["merchantId"] == 352520168 and re.fullmatch(r"\d{18}", data["id"])
    assert data["expireTime"] == sbx.clock.now + 3600_000
    sbx.fail("/shareinfo/accountId", {"requestId": "9109c2bd482ef6bccc819c45af104a78"}, "406301")
    page = sbx.client.get(data["qrcodeContent"].removeprefix("http://sandbox.test"))
    assert "asks for your Binance ID" in page.get_data(as_text=True)
    status, view = sbx.control("POST", "/shares/9109c2bd482ef6bccc819c45af104a78/consent")
    assert status == 200 and view["status"] == "SHARED"
    [note] = notifications(sbx)
    body = json.loads(note["body"])
    assert body["bizType"] == "SHARE_ACCOUNT_ID" and body["bizStatus"] == "SUCCESS"
    assert body["bizIdStr"] == data["id"] and body["bizId"] == int(data["id"])
    inner = json.loads(body["data"])
    assert list(inner) == ["requestId", "userBinanceId", "userName"]
    assert re.fullmatch(r"\d{9,12}", inner["userBinanceId"])
    assert sbx.control("POST", "/shares/9109c2bd482ef6bccc819c45af104a78/consent")[0] == 409


def test_index_page_lists_orders(sbx: InProcess) -> None:
    sbx.ok("/v2/order", order_payload("IDX1"))
    page = sbx.client.get("/")
    assert page.status_code == 200 and "IDX1" in page.get_data(as_text=True)


def test_control_token_is_enforced(sbx: InProcess) -> None:
    from werkzeug.test import Client

    from sandbox.app import create_app

    cfg = sbx.app.ctx.config.with_(control_token="s3cret")
    app = create_app(cfg)
    try:
        client = Client(app)
        assert client.get("/sandbox/health").status_code == 200
        assert client.get("/sandbox/webhooks").status_code == 401
        ok = client.get("/sandbox/webhooks", headers={"X-Sandbox-Token": "s3cret"})
        assert ok.status_code == 200
    finally:
        app.close()
