"""The merchant API end to end: paysvc over real HTTP to a live sandbox process."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clients.scopes import ORDERS_READ
from orders.models import Order, OrderEvent, Refund
from tests.factories import ApplicationFactory, api_key_factory, order_body
from tests.live import wait_until

pytestmark = [pytest.mark.live]


def api(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def merchant(db):
    application = ApplicationFactory(name=f"shop-{uuid.uuid4().hex[:6]}")
    _key, raw = api_key_factory(application=application)
    return api(raw)


@pytest.fixture(params=["v2", "v3"])
def versioned(request, db) -> tuple[APIClient, str]:
    """A merchant whose application creates orders with Create Order v2, then v3."""
    application = ApplicationFactory(order_api_version=request.param)
    return api(api_key_factory(application=application)[1]), request.param


def create(client: APIClient, **extra: Any) -> Any:
    return client.post("/api/v1/orders", order_body(**extra), format="json")


# -- creation -------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_create_order_returns_the_binance_order_with_checkout_links(merchant, sandbox):
    response = create(merchant)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "INITIAL"
    assert body["totalFee"] == "25.17"
    assert body["currency"] == "USDT"
    assert body["prepayId"].isdigit()
    assert body["checkoutUrl"].startswith(sandbox.url + "/en/checkout/")
    assert len(body["merchantTradeNo"]) == 32
    assert sandbox.order(body["merchantTradeNo"])["prepayId"] == body["prepayId"]
    timeline = merchant.get(f"/api/v1/orders/{body['merchantTradeNo']}").json()["timeline"]
    assert "binance_call" in [line["kind"] for line in timeline]


@pytest.mark.django_db(transaction=True)  # as in production: no test transaction around it
def test_create_order_stores_before_calling_binance_in_two_commits_and_few_statements(
    merchant, sandbox
):
    """The order and its "stored" line are one statement, committed before the call; the
    answer, the call's line and the "created" line are one more: an UPDATE that locks the row
    and reads it back, and an INSERT of the two lines; the order is not read again between the
    two (bench/README.md, order creation)."""
    create(merchant)  # warm: the first request of a key may touch last_used_at
    transactions = []
    set_autocommit = connection.set_autocommit

    def spy(autocommit, **kwargs):
        transactions.append(autocommit)  # False: a transaction begins (atomic's outermost)
        return set_autocommit(autocommit, **kwargs)

    with (
        mock.patch.object(connection, "set_autocommit", spy),
        CaptureQueriesContext(connection) as queries,
    ):
        response = create(merchant)
    assert response.status_code == 201, response.json()
    assert transactions == []
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("INSERT", "WITH"))]
    assert len(writes) == 2  # the order with "stored", then the answer with its two lines
    assert writes[0].startswith('WITH parent AS (INSERT INTO "orders_order"')
    assert ') INSERT INTO "orders_orderevent"' in writes[0]
    assert writes[1].startswith('WITH updated AS (UPDATE "orders_order" SET')
    assert 'inserted AS (INSERT INTO "orders_orderevent"' in writes[1]
    assert statements.count("SELECT") == 1  # the API key
    assert len(statements) == 3  # and no BEGIN, SAVEPOINT or COMMIT: each is autocommitted
    order = Order.objects.get(merchant_trade_no=response.json()["merchantTradeNo"])
    kinds = list(order.events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["note", "binance_call", "note"]
    assert order.events.order_by("id")[0].summary == "order stored; creating it at Binance"


@pytest.mark.django_db
def test_fiat_order_of_one_dollar_gets_its_usdt_amount_from_binance(merchant, sandbox):
    body = order_body(fiatAmount="1.00", fiatCurrency="USD")
    del body["orderAmount"], body["currency"]

    response = merchant.post("/api/v1/orders", body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["fiatAmount"] == "1"
    assert data["fiatCurrency"] == "USD"
    assert data["currency"] == "USDT"
    assert Decimal(data["totalFee"]) > 0


@pytest.mark.django_db
def test_bad_input_is_refused_with_dotted_paths_and_nothing_reaches_binance(merchant, sandbox):
    trade_no = uuid.uuid4().hex
    bad_goods = {**order_body()["goods"], "goodsName": 'Ice "Cream"'}
    bad_shipping = {"shippingAddress": {"region": "XX"}}

    response = create(merchant, merchantTradeNo=trade_no, goods=bad_goods, shipping=bad_shipping)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "goods.goodsName" in error["fields"]
    assert "shipping.shippingAddress.region" in error["fields"]
    assert sandbox.order(trade_no) is None
    assert not Order.objects.filter(merchant_trade_no=trade_no).exists()


@pytest.mark.django_db
def test_mass_assignment_fields_are_refused(merchant, sandbox):
    response = create(merchant, status="PAID", prepayId="1", totalFee="0.01", webhookUrl="http://x")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"status", "prepayId", "totalFee", "webhookUrl"} <= set(fields)
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_a_reused_merchant_trade_no_is_a_conflict(merchant, sandbox):
    trade_no = uuid.uuid4().hex
    assert create(merchant, merchantTradeNo=trade_no).status_code == 201

    response = create(merchant, merchantTradeNo=trade_no)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Order.objects.filter(merchant_trade_no=trade_no).count() == 1


@pytest.mark.django_db
def test_binance_refusal_is_a_502_that_names_binance_code(merchant, sandbox):
    # Binance already has this merchantTradeNo, but paysvc does not (renamed locally).
    trade_no = uuid.uuid4().hex
    assert create(merchant, merchantTradeNo=trade_no).status_code == 201
    Order.objects.filter(merchant_trade_no=trade_no).update(merchant_trade_no=uuid.uuid4().hex)
    other = api(api_key_factory()[1])

    response = create(other, merchantTradeNo=trade_no)

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["binanceCode"] == "400201"
    assert error["outcome"] == "failed"
    assert Order.objects.get(merchant_trade_no=trade_no).status == "ERROR"


# -- unknown outcomes ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_5xx_before_processing_is_queried_then_retried_once(versioned, sandbox):
    merchant, version = versioned
    trade_no = uuid.uuid4().hex
    sandbox.fault(mode="500", count=1, path=f"/{version}/order")

    response = create(merchant, merchantTradeNo=trade_no)

    assert response.status_code == 201, response.json()
    paths = [
        e.detail["path"].rsplit("/openapi", 1)[1]
        for e in OrderEvent.objects.filter(order__merchant_trade_no=trade_no, kind="binance_call")
    ]
    assert paths == [f"/{version}/order", "/v2/order/query", f"/{version}/order"]
    assert sandbox.order(trade_no)["prepayId"] == response.json()["prepayId"]


@pytest.mark.django_db
def test_an_answer_lost_after_binance_created_the_order_never_creates_a_second(versioned, sandbox):
    merchant, version = versioned
    trade_no = uuid.uuid4().hex
    sandbox.fault(mode="500", count=1, path=f"/{version}/order", apply=True)

    response = create(merchant, merchantTradeNo=trade_no)

    assert response.status_code == 502
    assert "lost" in response.json()["error"]["message"]
    order = Order.objects.get(merchant_trade_no=trade_no)
    assert order.create_state == "links_lost"
    # Exactly one Binance order, and it was closed so nobody can pay what we cannot show.
    remote = sandbox.order(trade_no)
    assert remote["status"] == "CANCELED"
    creates = OrderEvent.objects.filter(order=order, detail__path__endswith=f"/{version}/order")
    assert creates.count() == 1


@pytest.mark.django_db
def test_a_timeout_answers_within_ten_seconds_with_an_unknown_outcome(merchant, sandbox):
    trade_no = uuid.uuid4().hex
    sandbox.fault(mode="timeout", count=4, seconds=30)

    response = create(merchant, merchantTradeNo=trade_no)

    assert response.status_code == 504
    error = response.json()["error"]
    assert error["outcome"] == "unknown"
    assert error["retrying"] is True
    assert Order.objects.get(merchant_trade_no=trade_no).create_state == "unknown"


# -- idempotency ----------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_requests_with_one_idempotency_key_make_one_order(sandbox):
    """docs/reliability.md#34-create-idempotency (scaled): while the first request runs, the others
    are answered 409 request_in_progress at once (no thread waits for another); each client sends
    again after Retry-After and gets the first answer replayed."""
    _key, raw = api_key_factory()
    body = order_body()

    def send(_: int) -> tuple[list[int], Any]:
        seen = []
        try:
            for _attempt in range(30):
                response = api(raw).post(
                    "/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="checkout-1"
                )
                seen.append(response.status_code)
                if response.status_code != 409:
                    return seen, response.json()
                assert response.json()["error"]["code"] == "request_in_progress"
                time.sleep(int(response["Retry-After"]))
            return seen, None
        finally:
            connection.close()  # each thread has its own; leave none open

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(send, range(50)))

    assert [seen[-1] for seen, _ in results] == [201] * 50, results[:3]
    assert len({json.dumps(answer, sort_keys=True) for _, answer in results}) == 1
    assert sum(seen.count(201) for seen, _ in results) == 50
    assert Order.objects.count() == 1
    trade_no = results[0][1]["merchantTradeNo"]
    creates = OrderEvent.objects.filter(
        order__merchant_trade_no=trade_no, detail__path__regex=r"/v[23]/order$"
    )
    assert creates.count() == 1


@pytest.mark.django_db
def test_an_idempotency_key_reused_with_another_body_is_a_conflict(merchant, sandbox):
    first = merchant.post("/api/v1/orders", order_body(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = merchant.post("/api/v1/orders", order_body(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    other = merchant.post(
        "/api/v1/orders", order_body(orderAmount="1"), format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 409
    assert Order.objects.count() == 1


# -- isolation, scopes, rate limits ---------------------------------------------------------------
@pytest.mark.django_db
def test_a_key_sees_only_its_own_orders(merchant, sandbox):
    trade_no = create(merchant).json()["merchantTradeNo"]
    stranger = api(api_key_factory()[1])

    assert stranger.get(f"/api/v1/orders/{trade_no}").status_code == 404
    assert stranger.post(f"/api/v1/orders/{trade_no}/close").status_code == 404
    assert stranger.post(f"/api/v1/orders/{trade_no}/sync").status_code == 404
    refund = stranger.post(
        f"/api/v1/orders/{trade_no}/refunds", {"refundAmount": "1"}, format="json"
    )
    assert refund.status_code == 404
    assert stranger.get("/api/v1/orders").json()["count"] == 0
    assert merchant.get(f"/api/v1/orders/{trade_no}").status_code == 200


@pytest.mark.django_db
def test_a_read_only_key_cannot_create(sandbox):
    _key, raw = api_key_factory(scopes=[ORDERS_READ])

    response = create(api(raw))

    assert response.status_code == 403
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_order_creation_is_rate_limited_with_retry_after(merchant, sandbox, settings):
    settings.PAYSVC_ORDER_CREATE_RATE = "2/min"

    codes = [create(merchant).status_code for _ in range(3)]

    assert codes == [201, 201, 429]
    limited = create(merchant)
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["error"]["code"] == "throttled"


@pytest.mark.django_db
def test_no_key_is_401(sandbox):
    response = APIClient().post("/api/v1/orders", order_body(), format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}


# -- list, sync, close ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_list_filters_by_status_and_customer_and_paginates(merchant, sandbox):
    for ref in ("alice", "alice", "bob"):
        assert create(merchant, customerRef=ref).status_code == 201

    alice = merchant.get("/api/v1/orders", {"customerRef": "alice", "pageSize": 1}).json()
    initial = merchant.get("/api/v1/orders", {"status": "INITIAL"}).json()
    paid = merchant.get("/api/v1/orders", {"status": "PAID"}).json()

    assert alice["count"] == 2
    assert len(alice["results"]) == 1
    assert alice["next"]
    assert initial["count"] == 3
    assert paid["count"] == 0
    assert merchant.get("/api/v1/orders", {"status": "NOPE"}).status_code == 400


@pytest.mark.django_db
def test_paying_in_the_sandbox_then_sync_shows_paid(merchant, sandbox):
    trade_no = create(merchant).json()["merchantTradeNo"]
    sandbox.pay(trade_no)

    response = merchant.post(f"/api/v1/orders/{trade_no}/sync")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "PAID"
    assert body["transactionId"]
    assert body["openUserId"]
    assert body["paidAt"]
    assert any(line["toStatus"] == "PAID" for line in body["timeline"])


@pytest.mark.django_db
def test_close_an_unpaid_order(merchant, sandbox):
    trade_no = create(merchant).json()["merchantTradeNo"]

    response = merchant.post(f"/api/v1/orders/{trade_no}/close")

    assert response.status_code == 202
    assert response.json()["status"] == "CANCELED"
    assert sandbox.order(trade_no)["status"] == "CANCELED"


@pytest.mark.django_db
def test_closing_a_paid_order_is_a_conflict_and_it_stays_paid(merchant, sandbox):
    trade_no = create(merchant).json()["merchantTradeNo"]
    sandbox.pay(trade_no)

    response = merchant.post(f"/api/v1/orders/{trade_no}/close")

    assert response.status_code == 409
    assert Order.objects.get(merchant_trade_no=trade_no).status == "PAID"


# -- refunds --------------------------------------------------------------------------------------
def paid_order(merchant: APIClient, sandbox: Any, amount: str = "25.17") -> str:
    trade_no = create(merchant, orderAmount=amount).json()["merchantTradeNo"]
    sandbox.pay(trade_no)
    assert merchant.post(f"/api/v1/orders/{trade_no}/sync").json()["status"] == "PAID"
    return trade_no


def refund(merchant: APIClient, trade_no: str, amount: str, request_id: str | None = None) -> Any:
    body = {"refundAmount": amount, "refundReason": "customer asked"}
    if request_id:
        body["refundRequestId"] = request_id
    return merchant.post(f"/api/v1/orders/{trade_no}/refunds", body, format="json")


@pytest.mark.django_db
def test_partial_refunds_never_sum_above_what_was_paid(merchant, sandbox):
    trade_no = paid_order(merchant, sandbox)

    first = refund(merchant, trade_no, "10")
    too_much = refund(merchant, trade_no, "15.18")
    rest = refund(merchant, trade_no, "15.17")

    assert first.status_code == 202, first.json()
    assert too_much.status_code == 400
    assert "15.17" in too_much.json()["error"]["fields"]["refundAmount"][0]
    assert rest.status_code == 202
    assert Refund.objects.filter(order__merchant_trade_no=trade_no).count() == 2
    assert wait_until(
        lambda: (
            merchant.post(f"/api/v1/orders/{trade_no}/sync").json()["status"] == "FULL_REFUNDED"
        ),
        timeout=15,
        interval=0.3,
    )


@pytest.mark.django_db
def test_a_refund_request_id_is_idempotent(merchant, sandbox):
    trade_no = paid_order(merchant, sandbox)

    first = refund(merchant, trade_no, "5", request_id="refund0001")
    again = refund(merchant, trade_no, "5", request_id="refund0001")
    other = refund(merchant, trade_no, "6", request_id="refund0001")

    assert first.status_code == again.status_code == 202
    assert again.json()["refundRequestId"] == "refund0001"
    assert other.status_code == 409
    assert Refund.objects.filter(order__merchant_trade_no=trade_no).count() == 1
    detail = merchant.get(f"/api/v1/orders/{trade_no}/refunds/refund0001")
    assert detail.status_code == 200
    assert detail.json()["refundAmount"] == "5"


@pytest.mark.django_db
def test_an_unpaid_order_cannot_be_refunded(merchant, sandbox):
    trade_no = create(merchant).json()["merchantTradeNo"]

    response = refund(merchant, trade_no, "1")

    assert response.status_code == 409
    assert Refund.objects.count() == 0


# -- account shares -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_account_share_request_and_status(merchant, sandbox):
    response = merchant.post(
        "/api/v1/account-shares", {"customerRef": "alice", "requestId": "share0001"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "PENDING"
    assert body["qrcodeContent"].startswith(sandbox.url)
    assert merchant.get("/api/v1/account-shares/share0001").json()["requestId"] == "share0001"
    stranger = api(api_key_factory()[1])
    assert stranger.get("/api/v1/account-shares/share0001").status_code == 404


# -- Create Order v2 or v3, per client application ------------------------------------------------
GOODS = {"goodsType": "01", "goodsCategory": "D000", "referenceGoodsId": "g", "goodsName": "G"}
BASKET = [
    {**GOODS, "referenceGoodsId": "c1", "goodsName": "Croissant"},
    {**GOODS, "referenceGoodsId": "k1", "goodsName": "Coffee"},
]


def versioned_merchant(version: str) -> APIClient:
    application = ApplicationFactory(order_api_version=version)
    return api(api_key_factory(application=application)[1])


@pytest.mark.django_db
def test_a_v3_application_sends_goods_details_and_a_description_to_v3(sandbox):
    body = order_body(description="Breakfast box", goodsDetails=BASKET)
    body.pop("goods")

    response = versioned_merchant("v3").post("/api/v1/orders", body, format="json")

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert (answer["apiVersion"], answer["description"]) == ("v3", "Breakfast box")
    assert [g["goodsName"] for g in answer["goodsDetails"]] == ["Croissant", "Coffee"]
    assert answer["goods"]["goodsName"] == "Croissant"
    order = Order.objects.get(merchant_trade_no=answer["merchantTradeNo"])
    sent = order.request_payload
    assert "goods" not in sent and [g["referenceGoodsId"] for g in sent["goodsDetails"]] == [
        "c1",
        "k1",
    ]
    [call] = OrderEvent.objects.filter(order=order, kind="binance_call")
    assert call.detail["path"].endswith("/v3/order")
    remote = sandbox.order(answer["merchantTradeNo"])
    assert remote["apiVersion"] == "v3" and remote["prepayId"] == answer["prepayId"]


@pytest.mark.django_db
def test_a_v3_order_without_a_description_gets_its_first_goods_name(sandbox):
    response = versioned_merchant("v3").post("/api/v1/orders", order_body(), format="json")

    assert response.status_code == 201, response.json()
    order = Order.objects.get(merchant_trade_no=response.json()["merchantTradeNo"])
    assert order.request_payload["description"] == "Ice Cream"
    assert order.request_payload["goodsDetails"] == [order.goods]


@pytest.mark.django_db
def test_a_v2_application_sends_one_goods_item_to_v2(sandbox):
    body = order_body(goodsDetails=BASKET[:1])
    body.pop("goods")

    response = versioned_merchant("v2").post("/api/v1/orders", body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["apiVersion"] == "v2"
    order = Order.objects.get(merchant_trade_no=response.json()["merchantTradeNo"])
    assert order.request_payload["goods"]["goodsName"] == "Croissant"
    assert "goodsDetails" not in order.request_payload
    assert "description" not in order.request_payload
    [call] = OrderEvent.objects.filter(order=order, kind="binance_call")
    assert call.detail["path"].endswith("/v2/order")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "field", "fragment"),
    [
        ({"description": "Box"}, "description", "only v3 orders take it"),
        ({"qrCodeReferId": "219129167241265152"}, "qrCodeReferId", "only v3 orders take it"),
        ({"goodsDetails": BASKET, "goods": None}, "goodsDetails", "one item on a v2 order"),
    ],
)
def test_a_v2_application_refuses_what_only_v3_takes(sandbox, extra, field, fragment):
    body = {**order_body(), **extra}
    if body.get("goods") is None:
        body.pop("goods")

    response = versioned_merchant("v2").post("/api/v1/orders", body, format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert any(fragment in message for message in fields[field]), fields
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"goodsDetails": BASKET}, "goodsDetails", "must not be combined with goods"),
        ({"goods": None}, "goods", "is required (or goodsDetails"),
        ({"goods": None, "goodsDetails": []}, "goodsDetails", "at least one goods item"),
        ({"goods": None, "goodsDetails": {}}, "goodsDetails", "must be an array"),
        ({"goods": None, "goodsDetails": [GOODS] * 101}, "goodsDetails", "at most 100"),
        ({"goods": None, "goodsDetails": [{"goodsName": "x"}]}, "goodsDetails.0.goodsType", ""),
        ({"qrCodeReferId": "abc"}, "qrCodeReferId", "must be digits"),
        ({"description": "x" * 257}, "description", "256"),
    ],
)
def test_v3_input_is_checked_before_any_call(sandbox, change, field, fragment):
    body = {**order_body(), **change}
    if body.get("goods") is None:
        body.pop("goods")

    response = versioned_merchant("v3").post("/api/v1/orders", body, format="json")

    assert response.status_code == 400, response.json()
    fields = response.json()["error"]["fields"]
    assert field in fields, fields
    assert fragment in " ".join(fields[field])
    assert not Order.objects.exists()
