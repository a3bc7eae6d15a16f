"""The order search box: exact ids, and the customer's Binance ID through a subquery.

Every id is matched exactly (ids are case-sensitive at Binance, and `=`/iexact would defeat the
indexes). A term matches an order when it is the order's merchantTradeNo, prepayId,
transactionId, customerRef or openUserId, or the Binance ID that the same application's customer
(same customerRef) shared (AccountShare.user_binance_id). The two parts are a UNION of order ids,
so that each part uses its own indexes (an OR with a subquery would scan the whole table).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from orders.models import AccountShare, Order

ID_FIELDS = ("merchant_trade_no", "prepay_id", "transaction_id", "customer_ref", "open_user_id")
MAX_TERM = 128


def order_search(queryset: QuerySet[Order], term: str) -> QuerySet[Order]:
    term = term.strip()[:MAX_TERM]
    if not term:
        return queryset
    by_id = Q()
    for name in ID_FIELDS:
        by_id |= Q(**{name: term})
    direct = Order.objects.filter(by_id).order_by().values("pk")
    shares = AccountShare.objects.filter(user_binance_id=term)
    by_binance_id = (
        Order.objects.filter(customer_ref__in=shares.values("customer_ref"))
        .filter(
            Exists(
                shares.filter(
                    application=OuterRef("application"), customer_ref=OuterRef("customer_ref")
                )
            )
        )
        .order_by()
        .values("pk")
    )
    return queryset.filter(pk__in=direct.union(by_binance_id))
