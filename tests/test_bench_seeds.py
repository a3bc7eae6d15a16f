"""The benchmarks' raw-SQL seeds keep up with the models.

`bench/` fills big tables with set-based INSERTs that bypass Django, so a model field added
without a database default breaks them only when someone runs `make bench`. These run the seeds
at a small size on the test database (PostgreSQL: the seeds use its functions).
"""

import pytest
from django.db import connection

from orders.models import AccountShare, Order, OrderEvent, Refund
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)  # VACUUM cannot run in a transaction


def test_the_admin_bench_seed_fills_every_table_and_the_orm_reads_it_back():
    if connection.vendor != "postgresql":
        pytest.skip("the seed is PostgreSQL SQL")
    from bench.admin_changelist import populate

    data = populate(orders=60)

    assert data["rows"]["orders"] == Order.objects.count() == 60
    assert data["rows"]["events"] == OrderEvent.objects.count() > 0
    assert data["rows"]["refunds"] == Refund.objects.count() > 0
    assert data["rows"]["shares"] == AccountShare.objects.count() > 0
    assert data["rows"]["webhooks"] == WebhookEvent.objects.count() > 0
    assert {order.api_version for order in Order.objects.all()} == {"v2"}
