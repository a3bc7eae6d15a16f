"""``manage.py reconcile_now``: check orders and refunds against Binance now, in this process."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.reconciliation import order_reconcile, reconcile_candidates, refund_reconcile
from paysvc.progress import progress


class Command(BaseCommand):
    help = (
        "Query Binance now for open orders (INITIAL, PENDING, REFUNDING) and open refunds, and "
        "apply what it says: the same service as the periodic reconciliation, ignoring its "
        "schedule."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all-open", action="store_true", help="every open order and refund")
        parser.add_argument(
            "--merchant-trade-no", nargs="+", dest="trade_nos", metavar="NO", default=[]
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["all_open"] and not options["trade_nos"]:
            raise CommandError("give --all-open or --merchant-trade-no")
        order_ids, refund_ids = reconcile_candidates(
            merchant_trade_nos=None if options["all_open"] else options["trade_nos"]
        )
        out = self.stderr
        orders: Counter[str] = Counter(
            order_reconcile(order_id=pk) for pk in progress(order_ids, label="orders", stream=out)
        )
        refunds: Counter[str] = Counter(
            refund_reconcile(refund_id=pk)
            for pk in progress(refund_ids, label="refunds", stream=out)
        )
        for name, counts in (("orders", orders), ("refunds", refunds)):
            summary = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none"
            self.stdout.write(f"{name}: {summary}")
