"""Writing the order timeline (OrderEvent rows)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from binance_pay import CallRecord
from orders.models import EventKind, Order, OrderEvent
from paysvc import bulk

MAX_TEXT = 4000


def order_event_record(
    *,
    order: Order,
    kind: str,
    source: str,
    summary: str,
    actor: str = "",
    from_status: str = "",
    to_status: str = "",
    detail: dict[str, Any] | None = None,
) -> OrderEvent:
    """Append one line to an order's timeline (queued in a batch: paysvc.bulk)."""
    line = order_event_line(
        order=order,
        kind=kind,
        source=source,
        summary=summary,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        detail=detail,
    )
    if (writes := bulk.pending()) is not None:
        writes.create(line)
    else:
        line.save(force_insert=True)
    return line


def order_event_line(
    *,
    order: Order,
    kind: str,
    source: str,
    summary: str,
    actor: str = "",
    from_status: str = "",
    to_status: str = "",
    detail: dict[str, Any] | None = None,
) -> OrderEvent:
    """One timeline line of `order`, not saved (`order_event_record` saves or queues it)."""
    return OrderEvent(
        order=order,
        kind=kind,
        source=source,
        actor=actor[:150],
        from_status=from_status,
        to_status=to_status,
        summary=summary[:255],
        detail=detail or {},
    )


def _decoded(text: str | bytes | None) -> Any:
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text[:MAX_TEXT]


def order_events_record_calls(
    *, order: Order, calls: Iterable[CallRecord], source: str, actor: str = ""
) -> None:
    """One timeline line per call to Binance: path, request body, answer (no headers/secrets)."""
    for line in order_call_lines(order=order, calls=calls, source=source, actor=actor):
        if (writes := bulk.pending()) is not None:
            writes.create(line)
        else:
            line.save(force_insert=True)


def order_call_lines(
    *, order: Order, calls: Iterable[CallRecord], source: str, actor: str = ""
) -> list[OrderEvent]:
    """The timeline lines of `order_events_record_calls`, not saved."""
    lines = []
    for call in calls:
        endpoint = call.path.removeprefix("/binancepay/openapi")
        if call.error is not None:
            outcome = f"{type(call.error).__name__}"
        else:
            outcome = f"HTTP {call.http_status}"
        lines.append(
            order_event_line(
                order=order,
                kind=EventKind.BINANCE_CALL,
                source=source,
                actor=actor,
                summary=f"POST {endpoint} -> {outcome} ({call.duration_ms:.0f} ms)",
                detail={
                    "path": call.path,
                    "request": _decoded(call.request_body),
                    "httpStatus": call.http_status,
                    "response": _decoded(call.response_text),
                    "error": str(call.error)[:500] if call.error else None,
                    "durationMs": round(call.duration_ms, 1),
                },
            )
        )
    return lines
