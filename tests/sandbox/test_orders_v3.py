"""A Create Order v3 order behaves exactly like the same order made with v2 (docs/binance-pay-v3.md
5-6): Query Order v2, Close Order, expiry, refunds, the PAY/PAY_REFUND webhooks, the checkout page
and the control API. In process, with SANDBOX_REFUND_AUTO=manual."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from sandbox.store import Store

from .conftest import InProcess, order_payload, order_v3_payload

VANILLA = {
    "goodsType": "01",
    "goodsCategory": "D000",
    "referenceGoodsId": "v",
    "goodsName": "Vanilla",
}
TOPPING = {
    "goodsType": "02",
    "goodsCategory": "Z000",
    "referenceGoodsId": "t",
    "goodsName": "Topping",
    "goodsDetail": "Chocolate sauce",
    "goodsQuantity": "2",
}
# Values that differ between two orders by construction (ids, tokens, the trade number).
VARYING = {"merchantTradeNo", "prepayId", "transactionId", "refundId", "refundRequestId"}


def same_order(sbx: InProcess, name: str, **extra: Any) -> tuple[str, str]:
    """The same order created once with v2 and once with v3; returns both merchantTradeNos."""
    sbx.ok("/v2/order", order_payload(f"{name}V2", **extra))
    sbx.ok("/v3/order", order_v3_payload(f"{name}V3", **extra))
    return f"{name}V2", f"{name}V3"


def masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "*" if k in VARYING else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def query(sbx: InProcess, trade_no: str) -> dict[str, Any]:
    return sbx.ok("/v2/order/query", {"merchantTradeNo": trade_no})


def webhooks(sbx: InProcess, trade_no: str) -> list[dict[str, Any]]:
    """(bizType, bizStatus, url, data) of every notification for the order, oldest first."""
    rows = (
        sbx.app.ctx.store.conn()
        .execute(
            "SELECT biz_type, biz_status, url, body FROM notifications"
            " WHERE merchant_trade_no = ? ORDER BY id",
            (trade_no,),
        )
        .fetchall()
    )
    return [
        {
            "bizType": r["biz_type"],
            "bizStatus": r["biz_status"],
            "url": r["url"],
            "data": json.loads(json.loads(r["body"])["data"]),
        }
        for r in rows
    ]


def refund(sbx: InProcess, trade_no: str, request_id: str, amount: str) -> dict[str, Any]:
    prepay_id = query(sbx, trade_no)["prepayId"]
    return sbx.ok(
        "/order/refund",
        {"refundRequestId": request_id, "prepayId": prepay_id, "refundAmount": amount},
    )


def test_pay_then_refund_matches_v2(sbx: InProcess) -> None:
    hook = {"webhookUrl": "https://merchant.test/binance"}
    v2, v3 = same_order(sbx, "PAY", **hook)
    assert masked(query(sbx, v3)) == masked(query(sbx, v2))
    for trade_no in (v2, v3):
        sbx.control("POST", f"/orders/{trade_no}/pay")
    assert query(sbx, v3)["status"] == "PAID"
    assert masked(query(sbx, v3)) == masked(query(sbx, v2))

    answers = [refund(sbx, trade_no, f"RF{trade_no}", "4") for trade_no in (v2, v3)]
    assert masked(answers[1]) == masked(answers[0])
    assert query(sbx, v3)["status"] == "REFUNDING"
    for trade_no in (v2, v3):
        sbx.control("POST", f"/refunds/RF{trade_no}/succeed")
    assert query(sbx, v3)["status"] == "REFUNDED"
    assert masked(query(sbx, v3)) == masked(query(sbx, v2))

    two, three = webhooks(sbx, v2), webhooks(sbx, v3)
    assert [(w["bizType"], w["bizStatus"]) for w in three] == [
        ("PAY", "PAY_SUCCESS"),
        ("PAY_REFUND", "REFUND_SUCCESS"),
    ]
    # the order's webhookUrl serves PAY; the refund request had none of its own
    # (docs/binance-pay.md#refund-order)
    assert [w["url"] for w in three] == ["https://merchant.test/binance", None]
    assert masked(three) == masked(two)
    assert three[0]["data"]["productName"] == "Ice Cream"  # from goodsDetails[0]


def test_close_and_expiry_match_v2(sbx: InProcess) -> None:
    closed = same_order(sbx, "CLOSE")
    for trade_no in closed:
        assert sbx.ok("/order/close", {"merchantTradeNo": trade_no}) is True
    expiring = same_order(sbx, "EXP", orderExpireTime=sbx.clock.now + 1000)
    sbx.clock.advance(1000)
    sbx.run_dispatcher()  # the expiry scanner
    for v2, v3 in (closed, expiring):
        assert masked(query(sbx, v3)) == masked(query(sbx, v2))
        assert masked(webhooks(sbx, v3)) == masked(webhooks(sbx, v2))
    assert query(sbx, closed[1])["status"] == "CANCELED"
    assert query(sbx, expiring[1])["status"] == "EXPIRED"
    assert [w["bizStatus"] for w in webhooks(sbx, expiring[1])] == ["PAY_CLOSED"]
    sbx.fail("/order/close", {"merchantTradeNo": closed[1]}, "400204", "CANCELED")


def test_webhook_product_is_the_first_goods_item(sbx: InProcess) -> None:
    # Sandbox choice (docs/binance-pay-v3.md 6): productType/productName of goodsDetails[0].
    sbx.ok("/v3/order", order_v3_payload("MULTI1", goodsDetails=[VANILLA, TOPPING]))
    sbx.ok("/v3/order", order_v3_payload("MULTI2", goodsDetails=[TOPPING, VANILLA]))
    sbx.control("POST", "/orders/MULTI1/pay")
    refund(sbx, "MULTI1", "RFM1", "1")
    sbx.control("POST", "/refunds/RFM1/reject")
    sbx.ok("/order/close", {"merchantTradeNo": "MULTI2"})
    products = [
        (w["bizStatus"], w["data"]["productType"], w["data"]["productName"])
        for trade_no in ("MULTI1", "MULTI2")
        for w in webhooks(sbx, trade_no)
    ]
    assert products == [
        ("PAY_SUCCESS", "01", "Vanilla"),
        ("REFUND_REJECTED", "01", "Vanilla"),
        ("PAY_CLOSED", "02", "Topping"),
    ]


def test_checkout_page_shows_the_description_and_every_item(sbx: InProcess) -> None:
    data = sbx.ok(
        "/v3/order",
        order_v3_payload("PAGE3", description="Two scoops <b>", goodsDetails=[VANILLA, TOPPING]),
    )
    page = sbx.client.get(data["checkoutUrl"].removeprefix("http://sandbox.test"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<span id="description">Two scoops &lt;b&gt;</span>' in html  # escaped
    assert '<span id="goods-name">Vanilla</span>' in html
    assert '<span id="goods-name-2">Topping</span>' in html
    assert '<span id="goods-detail-2">Chocolate sauce</span>' in html
    assert '<span id="goods-quantity-2">2</span>' in html
    assert 'id="pay"' in html
    assert query(sbx, "PAGE3")["status"] == "PENDING"  # opening the page, as for v2
    v2 = sbx.ok("/v2/order", order_payload("PAGE2"))
    html2 = sbx.client.get(v2["checkoutUrl"].removeprefix("http://sandbox.test")).get_data(
        as_text=True
    )
    assert '<span id="goods-name">Ice Cream</span>' in html2
    assert 'id="description"' not in html2 and 'id="goods-name-2"' not in html2


def test_control_view_tells_which_call_made_the_order(sbx: InProcess) -> None:
    sbx.ok("/v2/order", order_payload("CTL2"))
    sbx.ok(
        "/v3/order",
        order_v3_payload(
            "CTL3", goodsDetails=[VANILLA, TOPPING], qrCodeReferId="232103202548367360"
        ),
    )
    _, two = sbx.control("GET", "/orders/CTL2")
    _, three = sbx.control("GET", "/orders/CTL3")
    assert two["apiVersion"] == "v2" and "description" not in two
    assert three["apiVersion"] == "v3"
    assert three["description"] == "Greentea ice cream"
    assert [g["goodsName"] for g in three["goodsDetails"]] == ["Vanilla", "Topping"]
    assert three["goodsDetails"][1]["goodsQuantity"] == "2"
    assert three["qrCodeReferId"] == "232103202548367360"


def test_a_database_from_before_v3_is_upgraded_in_place(tmp_path: Path) -> None:
    # given a file whose orders table predates the v3 columns, holding a v2 order
    path = tmp_path / "old.sqlite3"
    Store(str(path)).init_schema()
    with sqlite3.connect(path) as conn:
        for column in ("api_version", "description", "goods_details", "qr_code_refer_id"):
            conn.execute(f"ALTER TABLE orders DROP COLUMN {column}")
        conn.execute(
            "INSERT INTO orders(prepay_id, merchant_trade_no, status, terminal_type, currency,"
            " amount, goods, checkout_token, qr_token, image_id, create_time, expire_time)"
            " VALUES ('1', 'OLD1', 'INITIAL', 'WEB', 'USDT', '1', '{}', 'c', 'q', 'i', 0, 1)"
        )
    # when the sandbox opens it (twice, as a restart would)
    store = Store(str(path))
    store.init_schema()
    store.init_schema()
    # then the columns exist and the old order reads as a v2 order
    row = store.conn().execute("SELECT * FROM orders WHERE merchant_trade_no = 'OLD1'").fetchone()
    assert (row["api_version"], row["description"], row["goods_details"]) == ("v2", None, None)
    store.close()
