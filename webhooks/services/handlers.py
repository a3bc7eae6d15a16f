"""What each Binance notification does, keyed by ``(bizType, bizStatus)``
(docs/binance-pay.md#biztype-and-bizstatus).

Every handler takes the stored event and its parsed envelope and returns an ``Outcome``; none
writes the event row (webhooks.services.processing does). Handlers change orders only through the
orders services, so the rules live in one place: status moves forward under a row lock, reaching
a state twice is a no-op (that is what makes redelivered or concurrently processed events
harmless), and a payment after close becomes PAID_AFTER_CLOSE (orders.services.status).

Retryable failures (Binance unreachable: BinanceUnavailable) propagate; the task retries them.
Anything else a handler raises marks the event failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from binance_pay import RefundQueryResult, WebhookNotification
from orders.models import OPEN_STATUSES, CreateState, EventSource, Order, Refund
from orders.services import order_lock, order_status_apply_locked, order_sync
from orders.services.flags import order_flag
from orders.services.orders import jsonable
from orders.services.refunds import refund_apply_result
from orders.services.shares import account_share_complete
from orders.services.status import ms_to_datetime
from webhooks.models import EventStatus, WebhookEvent

logger = logging.getLogger(__name__)

SOURCE = EventSource.WEBHOOK


@dataclass(frozen=True)
class Outcome:
    """``status`` to record on the event; RECEIVED/ORPHAN mean "try again later"."""

    status: str
    note: str = ""


Handler = Callable[[WebhookEvent, WebhookNotification], Outcome]


def _order(merchant_trade_no: str) -> Order | None:
    return Order.objects.filter(merchant_trade_no=merchant_trade_no).first()


def pay_success(event: WebhookEvent, notification: WebhookNotification) -> Outcome:
    """PAY/PAY_SUCCESS: the order is paid, unless the amount or currency is not the order's.

    Runs in the processing transaction (WRITE_ONLY_HANDLERS): the order is locked first, so the
    checks and the status change see one state.
    """
    data = notification.pay_data()
    order = order_lock(merchant_trade_no=data.merchant_trade_no)
    return pay_success_locked(notification, order)


def pay_success_locked(notification: WebhookNotification, order: Order | None) -> Outcome:
    """`pay_success` for the order of the payment, already locked in the open transaction (or
    None if there is none): the batch locks all its orders with one query
    (webhooks.services.batch)."""
    data = notification.pay_data()
    if order is None:
        return Outcome(EventStatus.ORPHAN, f"no order {data.merchant_trade_no} (yet)")
    expected = order.paid_amount  # what Binance must report as totalFee
    if expected is None or not order.currency:
        # A fiat order whose Create Order answer (with the crypto amount) has not arrived yet.
        return Outcome(EventStatus.RECEIVED, "order amount not known yet; retrying")
    if data.total_fee != expected or data.currency != order.currency:
        reason = (
            f"PAY_SUCCESS webhook reports {data.total_fee} {data.currency}, "
            f"order is {expected} {order.currency}"
        )
        order_flag(order_id=order.pk, reason=reason, source=SOURCE)
        logger.warning(
            "webhook amount mismatch",
            extra={
                "merchantTradeNo": order.merchant_trade_no,
                "prepayId": order.prepay_id,
                "bizIdStr": notification.biz_id_str,
                "reason": reason,
            },
        )
        return Outcome(EventStatus.FLAGGED, reason)
    order = order_status_apply_locked(
        order=order,
        status="PAID",
        source=SOURCE,
        reason="PAY_SUCCESS webhook",
        fields={
            "transaction_id": data.transaction_id or "",
            "open_user_id": data.open_user_id or "",
            "payment_info": jsonable(data.payment_info),
            "commission": data.commission,
            "paid_at": ms_to_datetime(data.transact_time),
            # bizId of a PAY notification is the prepayId
            # (docs/binance-pay.md#biztype-and-bizstatus): it may arrive before Create Order's
            # answer does.
            "prepay_id": notification.biz_id_str,
        },
    )
    return Outcome(EventStatus.PROCESSED, f"order is {order.status}")


def pay_closed(event: WebhookEvent, notification: WebhookNotification) -> Outcome:
    """PAY/PAY_CLOSED: ask Binance whether the order was canceled or expired (its word decides;
    a paid order stays paid)."""
    data = notification.pay_data()
    order = _order(data.merchant_trade_no)
    if order is None:
        return Outcome(EventStatus.ORPHAN, f"no order {data.merchant_trade_no} (yet)")
    if order.status not in OPEN_STATUSES:
        return Outcome(EventStatus.PROCESSED, f"order already {order.status}")
    if not order.prepay_id and order.create_state in (CreateState.PENDING, CreateState.UNKNOWN):
        return Outcome(EventStatus.RECEIVED, "order creation still in progress; retrying")
    order = order_sync(order=order, source=SOURCE, for_request=False)
    return Outcome(EventStatus.PROCESSED, f"order is {order.status}")


def refund_final(event: WebhookEvent, notification: WebhookNotification) -> Outcome:
    """PAY_REFUND/REFUND_SUCCESS|REFUND_REJECTED: record the refund's final state, then let the
    order follow Binance's status (REFUNDED, FULL_REFUNDED or PAID again)."""
    info = notification.refund_data().refund_info
    refund = (
        Refund.objects.select_related("order")
        .filter(refund_request_id=info.refund_request_id)
        .first()
    )
    if refund is None:
        return Outcome(EventStatus.ORPHAN, f"no refund {info.refund_request_id} (yet)")
    result = RefundQueryResult(
        refund_id=refund.refund_id or None,
        refund_request_id=info.refund_request_id,
        prepay_id=info.prepay_id,
        order_amount=info.order_amount,
        refunded_amount=info.refunded_amount,
        refund_amount=info.refund_amount,
        remaining_attempts=(
            info.remaining_attempts
            if info.remaining_attempts is not None
            else refund.remaining_attempts
        ),
        payer_open_id=info.payer_open_id,
        refund_status=notification.biz_status,
    )
    refund = refund_apply_result(refund_id=refund.pk, result=result, source=SOURCE)
    order = order_sync(order=refund.order, source=SOURCE, for_request=False)
    return Outcome(EventStatus.PROCESSED, f"refund is {refund.status}, order is {order.status}")


def share_account(event: WebhookEvent, notification: WebhookNotification) -> Outcome:
    """SHARE_ACCOUNT_ID/SUCCESS: the customer shared their Binance ID."""
    data = notification.share_account_data()
    share = account_share_complete(
        request_id=data.request_id,
        user_binance_id=data.user_binance_id,
        user_name=data.user_name,
        share_id=notification.biz_id_str,
        source=SOURCE,
    )
    if share is None:
        return Outcome(EventStatus.ORPHAN, f"no account share {data.request_id} (yet)")
    return Outcome(EventStatus.PROCESSED, f"account share is {share.status}")


# Handlers that only write (no call to Binance): processing runs them inside the transaction that
# claims the event and records the outcome (webhooks.services.processing).
WRITE_ONLY_HANDLERS = frozenset({("PAY", "PAY_SUCCESS"), ("SHARE_ACCOUNT_ID", "SUCCESS")})

HANDLERS: dict[tuple[str, str], Handler] = {
    ("PAY", "PAY_SUCCESS"): pay_success,
    ("PAY", "PAY_CLOSED"): pay_closed,
    ("PAY_REFUND", "REFUND_SUCCESS"): refund_final,
    ("PAY_REFUND", "REFUND_REJECTED"): refund_final,
    ("SHARE_ACCOUNT_ID", "SUCCESS"): share_account,
}


def biz_type_label(biz_type: str) -> str:
    """``biz_type`` as a metric label: one of the handled types, or ``other`` (bounded set)."""
    return biz_type if biz_type in _HANDLED_TYPES else "other"


_HANDLED_TYPES = frozenset(biz_type for biz_type, _status in HANDLERS)
