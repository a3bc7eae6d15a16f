"""Creating an order under an `Idempotency-Key`, and resuming one whose request died.

`order_create_for_key` is `order_create` for a request holding an idempotency `Claim`
(orders.services.idempotency): it fixes the merchantTradeNo in the claim *before* the order is
stored, so that whoever takes the key over after a crash finds the order the dead request left.
On a takeover it resumes that order instead of creating another, the way reconciliation
resolves a create left pending (docs/architecture.md#order-creation, steps 4-5): a ``pending``
create may have reached Binance before the process died, so it is marked ``unknown`` and
`order_submit` queries Binance by merchantTradeNo before it would create anything
(docs/reliability.md#no-duplicate-binance-orders). The answer is the one the first request
would have given: the order (created), Binance's refusal (rejected), or the lost-links failure.
"""

from __future__ import annotations

from typing import Any

from binance_pay import code_name
from orders.errors import BinanceRefused
from orders.models import CreateState, EventSource, Order
from orders.services.idempotency import Claim
from orders.services.orders import (
    LINKS_LOST_MESSAGE,
    new_merchant_trade_no,
    order_create,
    order_submit,
)

# Binance's limit for merchantTradeNo (docs/binance-pay.md#create-order); validation enforces it.
MERCHANT_TRADE_NO_MAX = 32


def order_create_for_key(
    *, application: Any, data: dict[str, Any], actor: str, claim: Claim
) -> Order:
    """`order_create` for validated ``data`` under ``claim``; raises what `order_create` raises.

    After a takeover, the order stored by the dead request (same application and
    merchantTradeNo, stored after the key was first used) is resumed by `order_create_resume`;
    without one, the order is created with the merchantTradeNo the dead request had fixed, so a
    late write of its order can only collide, never duplicate.
    """
    # The merchant's own (validated) merchantTradeNo, else the one fixed in the claim (by its
    # INSERT: `order_resource_ref`, or by the dead request).
    trade_no = data.get("merchantTradeNo") or claim.resource_ref or new_merchant_trade_no()
    if claim.taken_over:
        left = _left_by_dead_request(application=application, trade_no=trade_no, claim=claim)
        if left is not None:
            return order_create_resume(order=left, actor=actor)
    claim.note_resource(trade_no)
    return order_create(
        application=application, data={**data, "merchantTradeNo": trade_no}, actor=actor
    )


def order_resource_ref(body: Any) -> str:
    """The merchantTradeNo to fix in a new idempotency claim for the order request ``body``
    (not validated yet), so that the claim's INSERT holds it and `order_create_for_key` needs
    no UPDATE to note it: a new one when the body names none; the body's own when it is a
    plausible one (validation decides; a differing validated value is noted as before); else
    nothing."""
    if not isinstance(body, dict):
        return ""
    given = body.get("merchantTradeNo")
    if given is None:  # absent or null: paysvc makes one
        return new_merchant_trade_no()
    if isinstance(given, str) and 0 < len(given) <= MERCHANT_TRADE_NO_MAX:
        return given
    return ""


def order_create_resume(*, order: Order, actor: str) -> Order:
    """Finish the creation of a stored order whose request died, as that request would have.

    Returns the order (created at Binance, now or before). Raises BinanceRefused when Binance
    refused it (code and message as first answered) or when its checkout links were lost, and
    BinanceUnavailable when Binance cannot tell yet (resolved in the background).
    """
    if order.create_state == CreateState.PENDING:
        # Its process may have died during the Create Order call: ask Binance before creating.
        Order.objects.filter(pk=order.pk, create_state=CreateState.PENDING).update(
            create_state=CreateState.UNKNOWN
        )
        order.refresh_from_db()
    if order.create_state == CreateState.UNKNOWN:
        return order_submit(
            order_id=order.pk, source=EventSource.API, actor=actor, for_request=True
        )
    if order.create_state == CreateState.REJECTED:
        name = code_name(order.failure_code)
        raise BinanceRefused(
            f"Binance refused the order: {order.failure_code} {name}: {order.failure_message}",
            code=order.failure_code,
            name=name,
            binance_message=order.failure_message,
        )
    if order.create_state == CreateState.LINKS_LOST:
        raise BinanceRefused(LINKS_LOST_MESSAGE, code="links_lost", name="LINKS_LOST")
    return order


def _left_by_dead_request(*, application: Any, trade_no: str, claim: Claim) -> Order | None:
    """The order the claim's earlier holder stored, if it got that far.

    An order with that merchantTradeNo stored before the key was first used belongs to another
    request: this one then answers the duplicate as usual (409). (The merchantTradeNo is the
    merchant's own, or a fresh uuid4 fixed in the claim, so after that moment it names this
    request's order.)
    """
    return Order.objects.filter(
        application=application, merchant_trade_no=trade_no, created_at__gte=claim.created_at
    ).first()
