"""A changelist paginator that does not COUNT(*) a whole big table on every page view.

PostgreSQL counts by reading every row (MVCC): on a table of millions of orders the admin's
default count costs more than the page itself. Unfiltered, a big table's size is taken from the
planner's statistics (pg_class.reltuples, kept fresh by autovacuum/ANALYZE): page numbers are then
approximate, the rows shown are exact. Filtered and searched lists are counted exactly (they use
indexes, and their counts matter to staff).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Below this many rows an exact count is cheap: count exactly.
ESTIMATE_ABOVE_ROWS = 50_000


def table_row_estimate(queryset: QuerySet[Any]) -> int | None:
    """The planner's row estimate of the queryset's table (PostgreSQL), None elsewhere or when
    the table was never analysed."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    estimated = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        known = getattr(queryset, "known_count", None)
        if known is not None:  # counted already (orders.admin.actions.OrderChangeList)
            return int(known)
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            estimate = table_row_estimate(queryset)
            if estimate is not None and estimate > ESTIMATE_ABOVE_ROWS:
                self.estimated = True
                return estimate
        return super().count
