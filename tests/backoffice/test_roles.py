"""The roles migration: Support sees everything and may sync; Finance may also close, refund,
reprocess webhooks and redeliver callbacks. Nobody in either role may edit a ledger."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.backoffice.factories import roles_ensure, staff_user

pytestmark = pytest.mark.django_db

VIEWS = [
    "orders.view_order",
    "orders.view_refund",
    "orders.view_accountshare",
    "webhooks.view_webhookevent",
    "notifications.view_notification",
    "notifications.view_notificationattempt",
    "clients.view_clientapplication",
    "clients.view_apikey",
    "campaigns.view_task",
    "campaigns.view_customeridentifier",
]
FINANCE_ONLY = [
    "orders.close_order",
    "orders.refund_order",
    "webhooks.reprocess_webhookevent",
    "notifications.redeliver_notification",
]
NEVER = [
    "orders.change_order",
    "orders.delete_order",
    "orders.add_refund",
    "webhooks.change_webhookevent",
    "clients.add_apikey",
    "campaigns.change_task",
    "auth.view_user",
]


def test_the_migration_created_both_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Support", "Finance"}


def test_support_views_everything_and_may_only_sync():
    user = staff_user("s1", "Support")
    assert all(user.has_perm(p) for p in [*VIEWS, "orders.sync_order"])
    assert not any(user.has_perm(p) for p in [*FINANCE_ONLY, *NEVER])


def test_finance_is_support_plus_close_refund_reprocess_redeliver():
    user = staff_user("f1", "Finance")
    assert all(user.has_perm(p) for p in [*VIEWS, "orders.sync_order", *FINANCE_ONLY])
    assert not any(user.has_perm(p) for p in NEVER)


def test_creating_the_roles_again_changes_nothing():
    before = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.all()}
    roles_ensure()
    roles_ensure()
    after = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.all()}
    assert after == before
