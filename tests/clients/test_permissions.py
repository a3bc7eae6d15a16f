"""clients/permissions.py"""

import pytest
from rest_framework.test import APIRequestFactory

from clients.scopes import ORDERS_READ, ORDERS_WRITE, REFUNDS_WRITE
from tests.clients.views import ProbeView, ProbeViewSet
from tests.factories import api_key_factory

pytestmark = pytest.mark.django_db

factory = APIRequestFactory()
probe = ProbeView.as_view()


def auth(raw_key):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}


def test_a_key_with_the_scope_passes(db):
    _, raw_key = api_key_factory(scopes=[ORDERS_READ])

    assert probe(factory.get("/api/v1/probe", **auth(raw_key))).status_code == 200


def test_a_missing_scope_is_403_naming_it(db):
    _, raw_key = api_key_factory(scopes=[ORDERS_READ])

    response = probe(factory.post("/api/v1/probe", {}, format="json", **auth(raw_key)))

    assert response.status_code == 403
    error = response.data["error"]
    assert error["code"] == "permission_denied"
    assert ORDERS_WRITE in error["message"]
    assert error["requiredScopes"] == [ORDERS_WRITE]


def test_several_required_scopes_must_all_be_held(db):
    _, raw_key = api_key_factory(scopes=[ORDERS_WRITE])

    response = probe(factory.put("/api/v1/probe", {}, format="json", **auth(raw_key)))

    assert response.status_code == 403
    assert response.data["error"]["requiredScopes"] == [ORDERS_READ]


def test_an_operation_without_a_declared_scope_is_refused(db):
    _, raw_key = api_key_factory()  # every scope

    response = probe(factory.delete("/api/v1/probe", **auth(raw_key)))

    assert response.status_code == 403
    assert response.data["error"]["code"] == "permission_denied"


def test_head_falls_back_to_the_get_scope(db):
    _, raw_key = api_key_factory(scopes=[ORDERS_READ])

    assert probe(factory.head("/api/v1/probe", **auth(raw_key))).status_code == 200


def test_without_a_key_the_answer_is_401_not_403(db):
    response = probe(factory.post("/api/v1/probe", {}, format="json"))

    assert response.status_code == 401
    assert response.data["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("method", "action", "scope"),
    [
        ("get", "list", ORDERS_READ),
        ("post", "create", ORDERS_WRITE),
        ("post", "refund", REFUNDS_WRITE),
    ],
)
def test_viewset_actions_are_mapped_by_action_name(db, method, action, scope):
    view = ProbeViewSet.as_view({method: action})
    _, allowed = api_key_factory(scopes=[scope])
    others = [s for s in (ORDERS_READ, ORDERS_WRITE, REFUNDS_WRITE) if s != scope]
    _, denied = api_key_factory(scopes=others)

    ok = view(getattr(factory, method)("/api/v1/x", **auth(allowed)))
    refused = view(getattr(factory, method)("/api/v1/x", **auth(denied)))

    assert ok.status_code < 300
    assert refused.status_code == 403
    assert refused.data["error"]["requiredScopes"] == [scope]
