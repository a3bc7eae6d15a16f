"""Judging tasks: identity resolution, the 95% rule, windows, refunds, inconclusive data.

Orders and shares are written straight through the ORM, as if a payment had just landed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.completion import threshold_met
from campaigns.models import TaskKind
from campaigns.services import identifier_register
from orders.models import AccountShareStatus, Order, OrderStatus, Refund, RefundStatus
from tests.campaigns.conftest import completion, envelope
from tests.campaigns.factories import task_factory
from tests.factories import AccountShareFactory, ApplicationFactory, OrderFactory

pytestmark = pytest.mark.django_db

WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def answer(web3, wallet: str, tasks: list[str] | None = None) -> dict[str, bool]:
    body = envelope(completion(web3, wallet, tasks))
    assert body["code"] == "000000", body
    return body["data"]


@pytest.fixture
def wallet_customer(application):
    identifier_register(
        application=application, customer_ref="customer-1", kind="wallet", value=WALLET
    )
    return "customer-1"


# -- the 95% rule ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "met"),
    [("9.4999", False), ("9.49999999", False), ("9.5", True), ("9.50000000", True), ("10", True)],
)
def test_a_threshold_is_met_at_95_percent_in_decimal(value, met):
    assert threshold_met(Decimal(value), Decimal("10")) is met


@pytest.mark.parametrize(("paid", "complete"), [("9.4999", False), ("9.5", True)])
def test_a_10_usdt_task_is_complete_at_9_5_usdt_and_not_below(
    web3, application, wallet_customer, paid, complete
):
    task_factory(application=application, task_id="pay_10_usdt", threshold=Decimal("10"))
    OrderFactory(paid=True, application=application, amount=paid)

    assert answer(web3, WALLET, ["pay_10_usdt"]) == {"pay_10_usdt": complete}


def test_amounts_of_several_orders_add_up_exactly(web3, application, wallet_customer):
    task_factory(application=application, task_id="pay_10_usdt")
    for amount in ("3.16666666", "3.16666667", "3.16666667"):  # 9.5 exactly
        OrderFactory(paid=True, application=application, amount=amount)

    assert answer(web3, WALLET, ["pay_10_usdt"]) == {"pay_10_usdt": True}


def test_a_count_task_needs_95_percent_of_its_orders(web3, application, wallet_customer):
    task_factory(
        application=application,
        task_id="pay_20_times",
        kind=TaskKind.PAID_ORDER_COUNT,
        threshold=Decimal("20"),
    )
    for _ in range(18):
        OrderFactory(paid=True, application=application, amount="1")
    assert answer(web3, WALLET, ["pay_20_times"]) == {"pay_20_times": False}

    OrderFactory(paid=True, application=application, amount="1")  # 19 >= 20 * 0.95

    assert answer(web3, WALLET, ["pay_20_times"]) == {"pay_20_times": True}


def test_only_orders_in_the_task_currency_count(web3, application, wallet_customer):
    task_factory(application=application, task_id="pay_10_usdt")
    OrderFactory(paid=True, application=application, amount="100", currency="BNB")

    assert answer(web3, WALLET, ["pay_10_usdt"]) == {"pay_10_usdt": False}


# -- identity --------------------------------------------------------------------------------------
def test_a_binance_id_resolves_through_a_shared_account_share(web3, application):
    task_factory(application=application, task_id="pay_10_usdt")
    AccountShareFactory(
        application=application, customer_ref="customer-1", user_binance_id="355421788"
    )
    OrderFactory(paid=True, application=application, customer_ref="customer-1", amount="10")

    assert answer(web3, "355421788", ["pay_10_usdt"]) == {"pay_10_usdt": True}


def test_a_share_that_is_not_shared_resolves_nothing(web3, application):
    task_factory(application=application, task_id="pay_10_usdt")
    share = AccountShareFactory(application=application, status=AccountShareStatus.PENDING)
    share.user_binance_id = "355421788"  # even with the id somehow recorded
    share.save()
    OrderFactory(paid=True, application=application, amount="10")

    assert answer(web3, "355421788", ["pay_10_usdt"]) == {"pay_10_usdt": False}


def test_a_payers_open_user_id_resolves_to_the_customer(web3, application):
    task_factory(application=application, task_id="pay_10_usdt")
    OrderFactory(paid=True, application=application, amount="4", open_user_id="a1b2c3d4e5")
    OrderFactory(
        paid=True, application=application, amount="6"
    )  # paid by the same customer otherwise

    assert answer(web3, "a1b2c3d4e5", ["pay_10_usdt"]) == {"pay_10_usdt": True}


def test_an_order_without_customer_ref_resolves_to_no_customer(web3, application):
    task_factory(application=application, task_id="pay_10_usdt")
    OrderFactory(
        paid=True, application=application, customer_ref="", amount="10", open_user_id="payer-x"
    )

    assert answer(web3, "payer-x", ["pay_10_usdt"]) == {"pay_10_usdt": False}


@pytest.mark.parametrize("asked", [WALLET, WALLET.lower(), WALLET.upper().replace("0X", "0x")])
def test_a_registered_evm_wallet_matches_in_any_letter_case(web3, application, asked):
    task_factory(application=application, task_id="pay_10_usdt")
    identifier_register(
        application=application, customer_ref="customer-1", kind="wallet", value=WALLET.lower()
    )
    OrderFactory(paid=True, application=application, amount="10")

    assert answer(web3, asked, ["pay_10_usdt"]) == {"pay_10_usdt": True}


def test_other_ids_match_exactly(web3, application):
    task_factory(application=application, task_id="pay_10_usdt")
    identifier_register(
        application=application, customer_ref="customer-1", kind="other", value="AbC"
    )
    OrderFactory(paid=True, application=application, amount="10")

    assert answer(web3, "AbC", ["pay_10_usdt"]) == {"pay_10_usdt": True}
    assert answer(web3, "abc", ["pay_10_usdt"]) == {"pay_10_usdt": False}


def test_an_unknown_id_completes_nothing(web3, application, wallet_customer):
    task_factory(application=application, task_id="pay_10_usdt")
    OrderFactory(paid=True, application=application, amount="10")

    assert answer(web3, "0x" + "0" * 40, ["pay_10_usdt"]) == {"pay_10_usdt": False}


def test_a_task_only_sees_customers_of_its_own_application(web3, application):
    other = ApplicationFactory(name="other-shop")
    task_factory(application=application, task_id="pay_10_usdt")
    identifier_register(application=other, customer_ref="customer-1", kind="wallet", value=WALLET)
    OrderFactory(paid=True, application=other, amount="10")

    assert answer(web3, WALLET, ["pay_10_usdt"]) == {"pay_10_usdt": False}


def test_activity_of_two_customers_behind_one_id_is_not_added_up(web3, application):
    task_factory(application=application, task_id="pay_10_usdt")
    for ref in ("customer-1", "customer-2"):
        AccountShareFactory(application=application, customer_ref=ref, user_binance_id="355421788")
        OrderFactory(paid=True, application=application, customer_ref=ref, amount="5")

    assert answer(web3, "355421788", ["pay_10_usdt"]) == {"pay_10_usdt": False}

    OrderFactory(paid=True, application=application, customer_ref="customer-2", amount="5")

    assert answer(web3, "355421788", ["pay_10_usdt"]) == {"pay_10_usdt": True}


# -- windows ---------------------------------------------------------------------------------------
def test_only_payments_inside_the_window_count(web3, application, wallet_customer):
    task_factory(
        application=application,
        task_id="pay_in_january",
        starts_at=T0,
        ends_at=T0 + dt.timedelta(days=31),
    )
    OrderFactory(
        paid=True, application=application, amount="10", paid_at=T0 - dt.timedelta(seconds=1)
    )
    OrderFactory(
        paid=True, application=application, amount="10", paid_at=T0 + dt.timedelta(days=31)
    )
    assert answer(web3, WALLET, ["pay_in_january"]) == {"pay_in_january": False}

    OrderFactory(
        paid=True, application=application, amount="10", paid_at=T0
    )  # the start is inclusive

    assert answer(web3, WALLET, ["pay_in_january"]) == {"pay_in_january": True}


def test_an_account_share_counts_inside_the_window(web3, application):
    task_factory(
        application=application,
        task_id="share_id",
        kind=TaskKind.ACCOUNT_SHARED,
        starts_at=T0,
    )
    AccountShareFactory(application=application, shared_at=T0 - dt.timedelta(days=1))
    assert answer(web3, "355421788", ["share_id"]) == {"share_id": False}

    AccountShareFactory(application=application, shared_at=T0 + dt.timedelta(days=1))

    assert answer(web3, "355421788", ["share_id"]) == {"share_id": True}


def test_account_shared_task_through_a_registered_wallet(web3, application, wallet_customer):
    task_factory(application=application, task_id="share_id", kind=TaskKind.ACCOUNT_SHARED)
    assert answer(web3, WALLET, ["share_id"]) == {"share_id": False}

    AccountShareFactory(application=application, customer_ref=wallet_customer)

    assert answer(web3, WALLET, ["share_id"]) == {"share_id": True}


# -- statuses, refunds, inconclusive data ----------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "counts"),
    [
        (OrderStatus.PAID, True),
        (OrderStatus.PAID_AFTER_CLOSE, True),
        (OrderStatus.REFUNDING, True),
        (OrderStatus.REFUNDED, True),
        (OrderStatus.FULL_REFUNDED, False),
        (OrderStatus.INITIAL, False),
        (OrderStatus.PENDING, False),
        (OrderStatus.ERROR, False),
        (OrderStatus.CANCELED, False),
        (OrderStatus.EXPIRED, False),
    ],
)
def test_which_order_statuses_count_as_paid(web3, application, wallet_customer, status, counts):
    task_factory(application=application, task_id="pay_once", kind=TaskKind.PAID_ORDER_COUNT)
    OrderFactory(paid=True, application=application, status=status)

    assert answer(web3, WALLET, ["pay_once"]) == {"pay_once": counts}


@pytest.mark.parametrize(
    ("refund_status", "complete"),
    [
        (RefundStatus.REQUESTED, False),  # might succeed: not assumed back
        (RefundStatus.PENDING, False),
        (RefundStatus.SUCCESS, False),
        (RefundStatus.REJECTED, True),
        (RefundStatus.ERROR, True),
    ],
)
def test_refunds_that_hold_money_are_taken_off(
    web3, application, wallet_customer, refund_status, complete
):
    task_factory(application=application, task_id="pay_10_usdt")
    order = OrderFactory(
        paid=True, application=application, amount="12", status=OrderStatus.REFUNDED
    )
    Refund.objects.create(
        order=order, refund_request_id="r1", refund_amount=Decimal("3"), status=refund_status
    )

    assert answer(web3, WALLET, ["pay_10_usdt"]) == {"pay_10_usdt": complete}


def test_an_order_refunded_in_full_by_its_refunds_is_not_a_paid_order(
    web3, application, wallet_customer
):
    task_factory(application=application, task_id="pay_once", kind=TaskKind.PAID_ORDER_COUNT)
    order = OrderFactory(
        paid=True, application=application, amount="5", status=OrderStatus.REFUNDING
    )
    Refund.objects.create(
        order=order, refund_request_id="r1", refund_amount=Decimal("5"), status="REFUND_PENDING"
    )

    assert answer(web3, WALLET, ["pay_once"]) == {"pay_once": False}


def test_inconclusive_data_is_not_complete(web3, application, wallet_customer):
    task_factory(application=application, task_id="pay_10_usdt", starts_at=T0)
    task_factory(application=application, task_id="pay_once", kind=TaskKind.PAID_ORDER_COUNT)
    # Payment in progress, outcome unknown at Binance, no amount, no payment time for a window.
    OrderFactory(paid=True, application=application, status=OrderStatus.PENDING, amount="50")
    OrderFactory(
        paid=True, application=application, status=OrderStatus.INITIAL, create_state="unknown"
    )
    OrderFactory(
        fiat=True, paid=True, application=application
    )  # fiat order without its crypto amount
    OrderFactory(
        paid=True, application=application, amount="50", status=OrderStatus.PAID, paid_at=None
    )
    Order.objects.filter(paid_at__isnull=False).update(paid_at=None)

    data = answer(web3, WALLET, ["pay_10_usdt", "pay_once"])

    # The order without a payment time counts where no window asks for one.
    assert data == {"pay_10_usdt": False, "pay_once": True}


def test_the_answer_is_right_just_after_a_payment_lands(web3, application, wallet_customer):
    task_factory(application=application, task_id="pay_10_usdt")
    order = OrderFactory(
        paid=True, application=application, status=OrderStatus.PENDING, amount="10"
    )
    assert answer(web3, WALLET, ["pay_10_usdt"]) == {"pay_10_usdt": False}

    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID, paid_at=timezone.now())

    assert answer(web3, WALLET, ["pay_10_usdt"]) == {"pay_10_usdt": True}


# -- which tasks are answered ----------------------------------------------------------------------
@pytest.mark.parametrize("tasks", [None, "[]", "", " "])
def test_no_tasks_asked_answers_every_active_task(web3, application, wallet_customer, tasks):
    task_factory(application=application, task_id="pay_10_usdt")
    task_factory(application=application, task_id="pay_once", kind=TaskKind.PAID_ORDER_COUNT)
    task_factory(application=application, task_id="retired", is_active=False)
    OrderFactory(paid=True, application=application, amount="1")

    body = envelope(completion(web3, WALLET, tasks))

    assert body == {
        "code": "000000",
        "message": "success",
        "data": {"pay_10_usdt": False, "pay_once": True},
    }


def test_tasks_of_several_applications_are_answered_together(web3, application):
    other = ApplicationFactory(name="other-shop")
    task_factory(application=application, task_id="shop_pay")
    task_factory(application=other, task_id="other_pay")
    identifier_register(application=other, customer_ref="c9", kind="wallet", value=WALLET)
    OrderFactory(paid=True, application=other, customer_ref="c9", amount="10")

    assert answer(web3, WALLET, ["shop_pay", "other_pay"]) == {
        "shop_pay": False,
        "other_pay": True,
    }


def test_no_active_task_at_all_answers_an_empty_map(web3, application):
    assert answer(web3, WALLET) == {}
