"""The test suite's one set of model factories (factory_boy).

Rows are stored as paysvc stores them: an order as it is once Binance created it (25.17 USDT,
INITIAL, with a prepayId and checkout links), so tests state only what matters to them::

    OrderFactory()                                   # created at Binance, not paid
    OrderFactory(paid=True, amount="10")             # paid now, 10 USDT
    OrderFactory(fiat=True)                          # 100 USD, crypto amount not known yet
    OrderFactory(status=OrderStatus.PAID, notify_url=receiver.url)
    RefundFactory(order=order, amount="5")
    AccountShareFactory(application=app, customer_ref="c1", user_binance_id="355421788")

Client applications go through `clients.services.application_create` (as in production, which
gives them their notification secret); API keys through `api_key_factory`, which also returns
the raw key.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from clients.models import ApiKey, ClientApplication
from clients.services import api_key_create, application_create
from orders.models import (
    AccountShare,
    AccountShareStatus,
    CreateState,
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
)


def new_prepay_id() -> str:
    """18 digits, like Binance's prepayIds."""
    return str(random.randint(10**17, 10**18 - 1))


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientApplication

    name = factory.LazyFunction(lambda: f"shop-{uuid.uuid4().hex[:10]}")
    default_notify_url = ""

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> ClientApplication:
        return application_create(**kwargs)


def api_key_factory(
    *,
    application: ClientApplication | None = None,
    name: str = "backend",
    scopes: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """A key (through the service) and its raw value."""
    return api_key_create(application=application or ApplicationFactory(), name=name, scopes=scopes)


def _amount(order: Any) -> Decimal | None:
    return None if order.fiat else Decimal(str(order.amount))


class OrderFactory(factory.django.DjangoModelFactory):
    """An order as paysvc stores it once Binance created it.

    Params: ``amount`` (crypto amount and Binance's totalFee, default 25.17), ``fiat`` (a 100
    USD order whose crypto amount Binance has not answered yet), ``paid`` (PAID now, with a
    transactionId and payer).
    """

    class Meta:
        model = Order

    class Params:
        amount = "25.17"
        fiat = False
        paid = factory.Trait(
            status=OrderStatus.PAID,
            paid_at=factory.LazyFunction(timezone.now),
            transaction_id=factory.LazyFunction(lambda: f"M_P_{new_prepay_id()}"),
        )

    application = factory.SubFactory(ApplicationFactory)
    merchant_trade_no = factory.LazyFunction(lambda: uuid.uuid4().hex)
    customer_ref = "customer-1"
    status = OrderStatus.INITIAL
    create_state = CreateState.CREATED
    terminal_type = "WEB"
    order_amount = factory.LazyAttribute(_amount)
    currency = factory.LazyAttribute(lambda o: "" if o.fiat else "USDT")
    fiat_amount = factory.LazyAttribute(lambda o: Decimal("100") if o.fiat else None)
    fiat_currency = factory.LazyAttribute(lambda o: "USD" if o.fiat else "")
    total_fee = factory.SelfAttribute("order_amount")
    goods = factory.LazyFunction(
        lambda: {
            "goodsType": "02",
            "goodsCategory": "Z000",
            "referenceGoodsId": "sku001",
            "goodsName": "Ice Cream",
        }
    )
    env = factory.LazyFunction(lambda: {"terminalType": "WEB"})
    prepay_id = factory.LazyFunction(new_prepay_id)
    checkout_url = factory.LazyAttribute(
        lambda o: f"https://pay.binance.com/en/checkout/{o.merchant_trade_no}"
    )
    qr_content = factory.LazyAttribute(lambda o: f"https://app.binance.com/qr/dplk{o.prepay_id}")
    expire_time = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=1))


class RefundFactory(factory.django.DjangoModelFactory):
    """A refund Binance accepted (REFUND_PENDING) of 5 of the order's currency."""

    class Meta:
        model = Refund

    class Params:
        amount = "5"

    order = factory.SubFactory(OrderFactory, paid=True)
    refund_request_id = factory.LazyFunction(lambda: uuid.uuid4().hex)
    refund_amount = factory.LazyAttribute(lambda r: Decimal(str(r.amount)))
    refund_reason = "damaged"
    status = RefundStatus.PENDING


class AccountShareFactory(factory.django.DjangoModelFactory):
    """A share the customer agreed to (SHARED, with their Binance ID)."""

    class Meta:
        model = AccountShare

    application = factory.SubFactory(ApplicationFactory)
    customer_ref = "customer-1"
    request_id = factory.LazyFunction(lambda: uuid.uuid4().hex)
    status = AccountShareStatus.SHARED
    share_id = factory.LazyFunction(new_prepay_id)
    user_binance_id = "355421788"
    shared_at = factory.LazyFunction(timezone.now)


def order_body(**extra: Any) -> dict[str, Any]:
    """A valid `POST /api/v1/orders` body (v2 and v3), with `extra` fields set or replaced."""
    body: dict[str, Any] = {
        "env": {"terminalType": "WEB"},
        "orderAmount": "25.17",
        "currency": "USDT",
        "goods": {
            "goodsType": "02",
            "goodsCategory": "Z000",
            "referenceGoodsId": "sku001",
            "goodsName": "Ice Cream",
        },
        "customerRef": "customer-42",
    }
    body.update(extra)
    return body
