"""Creating, closing and syncing orders with Binance.

Concurrency rules (docs/conventions.md#rule-6, docs/conventions.md#rule-7): no transaction is open
while Binance is called; the order row is stored and committed first, then Binance is called, then a
short locked write applies the answer. The merchantTradeNo is fixed before the first call and
Binance refuses a second order with it, so retrying after an unknown outcome can never create two
orders; before any retry we query by merchantTradeNo
(docs/reliability.md#no-duplicate-binance-orders).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from binance_pay import CreateOrderRequest, CreateOrderV3Request, OrderResult
from clients.models import OrderApiVersion
from orders.errors import (
    BinanceRefused,
    BinanceUnavailable,
    DuplicateMerchantTradeNo,
    InvalidOrderState,
)
from orders.gateway import BinanceGateway
from orders.models import (
    OPEN_STATUSES,
    CreateState,
    EventKind,
    EventSource,
    Order,
    OrderStatus,
)
from orders.selectors import order_closable
from orders.services.status import (
    ms_to_datetime,
    order_apply_query_result,
    order_status_apply,
)
from orders.services.timeline import order_event_line, order_event_record
from paysvc import bulk

logger = logging.getLogger(__name__)

ORDER_NOT_FOUND = "400202"
DUPLICATE_TRADE_NO = "400201"
# What Create Order's answer fills in.
ATTACHED_FIELDS = (
    "create_state", "prepay_id", "total_fee", "checkout_url", "qrcode_link", "qr_content",
    "deeplink", "universal_url", "expire_time", "currency",
)  # fmt: skip
# Our own fields, not sent to Binance.
LOCAL_FIELDS = ("notifyUrl", "customerRef")
LINKS_LOST_MESSAGE = (
    "Binance created the order but its answer (with the checkout links) was lost; paysvc "
    "closed it. Create a new order with a new merchantTradeNo."
)
UNKNOWN_CREATE_OUTCOME = (
    "Binance did not answer; the order's outcome is unknown. paysvc keeps querying Binance by "
    "merchantTradeNo and will either confirm it or create it; never twice."
)


def new_merchant_trade_no() -> str:
    """32 letters/digits, Binance's limit for merchantTradeNo (docs/binance-pay.md#create-order)."""
    return uuid.uuid4().hex


def goods_items(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The goods of validated input, as a list: ``goodsDetails``, or ``[goods]``."""
    return list(data["goodsDetails"]) if "goodsDetails" in data else [data["goods"]]


def binance_payload(
    data: dict[str, Any], merchant_trade_no: str, *, api_version: str = OrderApiVersion.V2
) -> dict[str, Any]:
    """The Create Order body for validated merchant input, for `api_version`.

    v2 takes the one goods item as ``goods``; v3 takes them all as ``goodsDetails`` with a
    ``description``, which defaults to the first goods name
    (docs/binance-pay-v3.md#3-what-is-new-in-v3).
    """
    payload = {
        k: v
        for k, v in data.items()
        if k not in (*LOCAL_FIELDS, "goods", "goodsDetails", "description")
    }
    payload["merchantTradeNo"] = merchant_trade_no
    items = goods_items(data)
    if api_version == OrderApiVersion.V3:
        payload["description"] = data.get("description") or items[0]["goodsName"]
        payload["goodsDetails"] = items
    else:
        payload["goods"] = items[0]
    if settings.BINANCE_PAY_WEBHOOK_URL:
        payload["webhookUrl"] = settings.BINANCE_PAY_WEBHOOK_URL
    return payload


def order_create(*, application: Any, data: dict[str, Any], actor: str) -> Order:
    """Store a new order, commit, then create it at Binance.

    `data` is validated input (orders.validation.CreateOrderSerializer). Raises
    DuplicateMerchantTradeNo, BinanceRefused (terminal, order ERROR) or BinanceUnavailable
    (outcome unknown: the order is kept and resolved in the background).
    """
    merchant_trade_no = data.get("merchantTradeNo") or new_merchant_trade_no()
    api_version = application.order_api_version
    payload = binance_payload(data, merchant_trade_no, api_version=api_version)
    items = goods_items(data)
    known = {"env", "goods", "goodsDetails", "description", "shipping", "buyer", "orderAmount",
             "currency", "fiatAmount", "fiatCurrency", "returnUrl", "cancelUrl",
             "merchantTradeNo", "webhookUrl"}  # fmt: skip
    order = Order(
        application=application,
        merchant_trade_no=merchant_trade_no,
        customer_ref=data.get("customerRef", ""),
        terminal_type=data["env"]["terminalType"],
        order_amount=data.get("orderAmount"),
        currency=data.get("currency", ""),
        fiat_amount=data.get("fiatAmount"),
        fiat_currency=data.get("fiatCurrency", ""),
        api_version=api_version,
        goods=jsonable(items[0]),
        goods_details=(jsonable(items) if api_version == OrderApiVersion.V3 else None),
        description=payload.get("description", ""),
        env=jsonable(data["env"]),
        shipping=jsonable(data.get("shipping")),
        buyer=jsonable(data.get("buyer")),
        extra=jsonable({k: v for k, v in payload.items() if k not in known}),
        return_url=data.get("returnUrl", ""),
        cancel_url=data.get("cancelUrl", ""),
        notify_url=data.get("notifyUrl", ""),
        request_payload=jsonable(payload),
    )
    first_line = order_event_line(
        order=order,
        kind=EventKind.NOTE,
        source=EventSource.API,
        actor=actor,
        summary="order stored; creating it at Binance",
    )
    try:
        # The order and its first timeline line: one autocommitted statement built once
        # (paysvc.bulk.insert_with_children), no BEGIN and COMMIT round trips.
        bulk.insert_with_children(order, [first_line])
    except IntegrityError as exc:
        raise DuplicateMerchantTradeNo(
            f"merchantTradeNo {merchant_trade_no} is already used by another order"
        ) from exc
    # The row just committed is this object: order_submit need not read it again.
    return order_submit(
        order_id=order.pk, source=EventSource.API, actor=actor, for_request=True, stored=order
    )


def jsonable(value: Any) -> Any:
    """JSON-storable copy: Decimals become strings (never floats)."""
    from decimal import Decimal

    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def order_submit(
    *,
    order_id: int,
    source: str,
    actor: str = "",
    for_request: bool,
    stored: Order | None = None,
) -> Order:
    """Create the stored order at Binance, resolving an unknown outcome by Query Order.

    Safe to call again for an order whose creation is pending or unknown: it queries first.
    Raises BinanceRefused (terminal; the order is ERROR or its links were lost) or
    BinanceUnavailable (the outcome is unknown, or Binance is rate limiting: resolved in the
    background when ``for_request``). ``stored``: the order as its creator just committed it
    (`order_create`), instead of reading the row again.
    """
    order = (
        stored if stored is not None and stored.pk == order_id else Order.objects.get(pk=order_id)
    )
    if order.create_state in (CreateState.CREATED, CreateState.REJECTED, CreateState.LINKS_LOST):
        return order
    gateway = BinanceGateway(source=source, actor=actor, order=order, for_request=for_request)
    create = _creator(order, gateway)
    after_unknown = order.create_state == CreateState.UNKNOWN
    for _attempt in range(2):
        if after_unknown:
            found = _query_after_unknown(order=order, gateway=gateway, schedule=for_request)
            if found is not None:
                return found
        with gateway.holding_records():
            try:
                result = create()
            except BinanceRefused as exc:
                if exc.code == DUPLICATE_TRADE_NO and after_unknown:
                    # Our earlier, unanswered attempt did create it: resolve by query.
                    continue
                gateway.record_calls()
                _mark_rejected(order=order, error=exc, source=source, actor=actor)
                raise
            except BinanceUnavailable as exc:
                _set_create_state(order_id=order.pk, state=CreateState.UNKNOWN)
                if not exc.outcome_unknown:
                    # 429: Binance did not process it; the outcome is known (nothing created).
                    if for_request:
                        _schedule_resolution(order.pk, countdown=exc.retry_after or 5)
                    raise BinanceUnavailable(
                        "Binance is rate limiting paysvc; the order will be created shortly",
                        outcome_unknown=False,
                        retrying=True,
                        retry_after=exc.retry_after,
                    ) from exc
                after_unknown = True
                continue
            return _attach_result(order=order, result=result, gateway=gateway)
    if for_request:
        _schedule_resolution(order.pk, countdown=5)
    raise BinanceUnavailable(UNKNOWN_CREATE_OUTCOME, outcome_unknown=True, retrying=True)


def _creator(order: Order, gateway: BinanceGateway) -> Callable[[], OrderResult]:
    """The Create Order call of `order`'s version, with the body stored before the first try."""
    if order.api_version == OrderApiVersion.V3:
        v3 = CreateOrderV3Request.from_dict(order.request_payload)
        return lambda: gateway.create_order_v3(v3)
    v2 = CreateOrderRequest.from_dict(order.request_payload)
    return lambda: gateway.create_order(v2)


def _query_after_unknown(*, order: Order, gateway: BinanceGateway, schedule: bool) -> Order | None:
    """After an unknown outcome: None when Binance has no such order (safe to create).

    When Binance has it, its checkout links (which only Create Order returns) are lost: the
    order is closed at Binance so nobody pays an order we cannot show, and reported as failed.
    Raises BinanceUnavailable when Binance still cannot be reached.
    """
    try:
        result = gateway.query_order(merchant_trade_no=order.merchant_trade_no)
    except BinanceRefused as exc:
        if exc.code == ORDER_NOT_FOUND:
            return None
        raise
    except BinanceUnavailable as exc:
        if schedule:  # background callers retry by themselves
            _schedule_resolution(order.pk, countdown=10)
        raise BinanceUnavailable(
            UNKNOWN_CREATE_OUTCOME, outcome_unknown=True, retrying=True
        ) from exc
    order = order_apply_query_result(
        order_id=order.pk, result=result, source=gateway.source, actor=gateway.actor
    )
    if order.checkout_url:
        return order
    _set_create_state(order_id=order.pk, state=CreateState.LINKS_LOST)
    if order.status in OPEN_STATUSES:
        try:
            gateway.close_order(merchant_trade_no=order.merchant_trade_no)
        except (BinanceRefused, BinanceUnavailable):
            logger.warning(
                "closing an order whose links were lost failed",
                extra={"merchantTradeNo": order.merchant_trade_no},
            )
    raise BinanceRefused(LINKS_LOST_MESSAGE, code="links_lost", name="LINKS_LOST")


def _attach_result(*, order: Order, result: OrderResult, gateway: BinanceGateway) -> Order:
    """Store Create Order's answer and the call in one statement (one commit); returns
    ``order`` as the row is now.

    Status is not touched: a webhook may already have moved the order on. The answer's fields
    are written by one UPDATE that locks the row and reads every column back, and the call's
    timeline line and the "created" line are INSERTed by the same statement
    (`paysvc.bulk.update_returning` with ``inserting``), so ``order`` shows what a webhook did
    meanwhile, as a ``select_for_update`` read would, in one round trip with no BEGIN or COMMIT.
    """
    lines = gateway.take_call_lines()
    order.create_state = CreateState.CREATED
    order.prepay_id = result.prepay_id
    order.total_fee = result.total_fee
    order.checkout_url = result.checkout_url
    order.qrcode_link = result.qrcode_link or ""
    order.qr_content = result.qr_content or ""
    order.deeplink = result.deeplink or ""
    order.universal_url = result.universal_url or ""
    order.expire_time = ms_to_datetime(result.expire_time)
    # Fiat orders: Binance picks the crypto currency. Only this answer ever writes it, so the
    # value in hand is the row's.
    if not order.currency:
        order.currency = result.currency
    order.updated_at = timezone.now()  # not an ORM save: auto_now is not applied
    lines.append(
        order_event_line(
            order=order,
            kind=EventKind.NOTE,
            source=gateway.source,
            actor=gateway.actor,
            summary=f"created at Binance, prepayId {result.prepay_id}",
        )
    )
    if not bulk.update_returning(order, [*ATTACHED_FIELDS, "updated_at"], inserting=lines):
        raise Order.DoesNotExist(f"order {order.pk} is gone")
    return order


def _mark_rejected(*, order: Order, error: BinanceRefused, source: str, actor: str) -> None:
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(
            create_state=CreateState.REJECTED,
            failure_code=error.code,
            failure_message=(error.binance_message or error.name)[:512],
        )
        order_status_apply(
            order_id=order.pk,
            status=OrderStatus.ERROR,
            source=source,
            actor=actor,
            reason=f"Binance refused: {error.code} {error.name}",
        )


def _set_create_state(*, order_id: int, state: str) -> None:
    Order.objects.filter(pk=order_id).update(create_state=state)


def _schedule_resolution(order_id: int, *, countdown: float) -> None:
    from orders.tasks import resolve_order_creation

    transaction.on_commit(
        lambda: resolve_order_creation.apply_async((order_id,), countdown=countdown)
    )


def order_sync(*, order: Order, source: str, actor: str = "", for_request: bool = True) -> Order:
    """Query Binance now and apply what it says. Raises BinanceUnavailable/BinanceRefused."""
    if order.create_state != CreateState.CREATED and not order.prepay_id:
        if order.create_state in (CreateState.PENDING, CreateState.UNKNOWN):
            return order_submit(
                order_id=order.pk, source=source, actor=actor, for_request=for_request
            )
        return order
    gateway = BinanceGateway(source=source, actor=actor, order=order, for_request=for_request)
    result = gateway.query_order(prepay_id=order.prepay_id)
    return order_apply_query_result(order_id=order.pk, result=result, source=source, actor=actor)


def order_close(*, order: Order, source: str, actor: str = "") -> Order:
    """Ask Binance to close an unpaid order, then sync (Binance reports CANCELED).

    Raises InvalidOrderState when the order is not open (paid, closed, expired, failed), or when
    Binance refuses (typically 400204: paid or payment in progress; the order is synced first).
    """
    if not order_closable(order):
        raise InvalidOrderState(
            f"only an unpaid order created at Binance can be closed; this one is {order.status}"
        )
    gateway = BinanceGateway(source=source, actor=actor, order=order)
    try:
        gateway.close_order(prepay_id=order.prepay_id)
    except BinanceRefused as exc:
        # Learn the truth before answering.
        _sync_quietly(order=order, source=source, actor=actor)
        raise InvalidOrderState(exc.message) from exc
    order_event_record(
        order=order,
        kind=EventKind.NOTE,
        source=source,
        actor=actor,
        summary="close requested at Binance",
    )
    return _sync_quietly(order=order, source=source, actor=actor)


def _sync_quietly(*, order: Order, source: str, actor: str) -> Order:
    try:
        return order_sync(order=order, source=source, actor=actor)
    except (BinanceRefused, BinanceUnavailable):
        order.refresh_from_db()
        return order
