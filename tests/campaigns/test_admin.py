"""Task definitions in the admin: validated per kind, saved through the service, never deleted."""

from __future__ import annotations

import pytest

from campaigns.models import Task, TaskKind
from campaigns.selectors import tasks_active
from tests.campaigns.factories import task_factory

pytestmark = pytest.mark.django_db

ADD = "/admin/campaigns/task/add/"


def form(application, **fields):
    data = {
        "task_id": "pay_10_usdt",
        "application": application.pk,
        "description": "",
        "is_active": "on",
        "kind": TaskKind.PAID_AMOUNT_TOTAL,
        "threshold": "10",
        "currency": "usdt",
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_staff_add_a_task_and_it_is_answered_at_once(admin_client, application):
    tasks_active()  # a cache filled before the change

    response = admin_client.post(ADD, form(application))

    assert response.status_code == 302, response.content[:2000]
    task = Task.objects.get()
    assert (task.task_id, task.currency, task.threshold) == ("pay_10_usdt", "USDT", 10)
    assert "pay_10_usdt" in tasks_active()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"currency": ""}, "currency"),
        ({"threshold": ""}, "threshold"),
        ({"threshold": "0"}, "threshold"),
        ({"threshold": "-5"}, "threshold"),
        ({"currency": "US DT"}, "currency"),
        ({"kind": TaskKind.PAID_ORDER_COUNT, "threshold": "2.5", "currency": ""}, "threshold"),
        ({"kind": TaskKind.ACCOUNT_SHARED, "threshold": "1", "currency": ""}, "threshold"),
        ({"kind": TaskKind.ACCOUNT_SHARED, "threshold": "", "currency": "USDT"}, "currency"),
        ({"task_id": "pay 10"}, "task_id"),
        (
            {
                "starts_at_0": "2025-02-01",
                "starts_at_1": "00:00:00",
                "ends_at_0": "2025-01-01",
                "ends_at_1": "00:00:00",
            },
            "ends_at",
        ),
    ],
)
def test_the_form_refuses_what_a_kind_does_not_allow(admin_client, application, fields, field):
    response = admin_client.post(ADD, form(application, **fields))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Task.objects.exists()


def test_an_existing_task_keeps_its_id_and_cannot_be_deleted(admin_client, application):
    task = task_factory(application=application, task_id="pay_10_usdt")

    page = admin_client.get(f"/admin/campaigns/task/{task.pk}/change/")
    delete = admin_client.get(f"/admin/campaigns/task/{task.pk}/delete/")

    assert page.status_code == 200
    assert "task_id" not in page.context["adminform"].form.fields
    assert delete.status_code == 403


def test_identifiers_are_listed_read_only(admin_client, application):
    assert admin_client.get("/admin/campaigns/customeridentifier/").status_code == 200
    assert admin_client.get("/admin/campaigns/customeridentifier/add/").status_code == 403
