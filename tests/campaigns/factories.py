"""Tasks for the Web3 tests, through the service (like the admin); orders and account shares come
from tests.factories, stored as if payments had landed (no Binance needed)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from campaigns.models import Task, TaskKind
from campaigns.services import task_save


def task_factory(*, application: Any, task_id: str, **fields: Any) -> Task:
    fields.setdefault("kind", TaskKind.PAID_AMOUNT_TOTAL)
    if fields["kind"] == TaskKind.PAID_AMOUNT_TOTAL:
        fields.setdefault("threshold", Decimal("10"))
        fields.setdefault("currency", "USDT")
    if fields["kind"] == TaskKind.PAID_ORDER_COUNT:
        fields.setdefault("threshold", Decimal("1"))
    return task_save(task=Task(application=application, task_id=task_id, **fields))
