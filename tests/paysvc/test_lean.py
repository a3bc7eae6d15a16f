"""The short middleware stack of lean views (paysvc/lean.py), called as gunicorn calls it: through
`PaysvcWSGIHandler` as a WSGI application (Django's test client has its own, full handler)."""

from __future__ import annotations

import io
import json
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpResponse

from campaigns import views
from paysvc.lean import PaysvcWSGIHandler, lean, lean_prefixes, lean_routes

pytestmark = pytest.mark.django_db(transaction=True)


def call(
    app: Any,
    path: str,
    query: str = "",
    method: str = "GET",
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[str, dict, bytes]:
    environ: dict[str, Any] = {
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REQUEST_METHOD": method,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, headers

    response = app(environ, start_response)
    answer = b"".join(response)
    response.close()
    found: dict[str, str] = {}
    for name, value in seen["headers"]:
        found[name] = value
    return seen["status"], found, answer


@pytest.fixture
def apps(settings, tmp_path):
    settings.PAYSVC_WEB3_LOG_DIR = str(tmp_path / "web3-log")
    settings.ALLOWED_HOSTS = ["*"]
    return PaysvcWSGIHandler(), WSGIHandler()


def test_the_web3_webhook_and_merchant_routes_are_lean_and_resolve_to_the_same_views():
    from orders.apis import OrderListCreateApi
    from webhooks.views import binance_pay_webhook

    routes = lean_routes()

    assert routes["/web3/v1/time"].func is views.server_time
    assert routes["/web3/v1/task/completion"].func is views.task_completion_view
    assert routes["/webhooks/binance-pay/"].func is binance_pay_webhook
    assert routes["/api/v1/orders"].func.view_class is OrderListCreateApi
    # The catch-all under the Web3 prefix is a regex: it keeps the full stack. Nothing else is
    # lean: not the admin, the sandbox, the health checks or the schema.
    lean_paths = ("/web3/v1/", "/webhooks/binance-pay", "/api/v1/")
    assert not [p for p in routes if not p.startswith(lean_paths)]
    assert "/api/v1/orders/" in lean_prefixes()
    assert "/api/v1/customers/" in lean_prefixes()
    assert not [p for p in lean_prefixes() if not p.startswith("/api/v1/")]


@pytest.mark.parametrize(
    ("path", "query", "method"),
    [
        ("/web3/v1/task/completion", "walletAddress=0xabc&task=%5B%22nope%22%5D", "GET"),
        ("/web3/v1/task/completion", "", "GET"),
        ("/web3/v1/task/completion", "walletAddress=x", "POST"),
        ("/web3/v1/time", "", "HEAD"),
    ],
)
def test_a_lean_answer_is_the_full_stacks_answer(apps, path, query, method):
    lean_app, full_app = apps

    lean_status, lean_headers, lean_body = call(lean_app, path, query, method)
    full_status, full_headers, full_body = call(full_app, path, query, method)

    assert lean_status == full_status
    lean_answer, full_answer = json.loads(lean_body), json.loads(full_body)
    if path.endswith("/time"):  # the clock moved between the two calls
        lean_answer.pop("data"), full_answer.pop("data")
    assert lean_answer == full_answer
    # Every header, security headers and the correlation id included (its value differs).
    assert sorted(lean_headers) == sorted(full_headers)
    for name in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
        assert lean_headers[name] == full_headers[name]
    assert lean_headers["X-Request-Id"]


def test_a_lean_request_skips_sessions_and_authentication(apps, monkeypatch):
    lean_app, _full = apps
    seen = {}
    original = views._server_time

    def spy(request, deadline):
        seen["session"] = hasattr(request, "session")
        seen["user"] = hasattr(request, "user")
        return original(request, deadline)

    monkeypatch.setattr(views, "_server_time", spy)

    status, _headers, _body = call(lean_app, "/web3/v1/time")

    assert status == "200 OK"
    assert seen == {"session": False, "user": False}


def test_other_paths_take_the_full_stack(apps):
    lean_app, _full = apps

    status, _headers, body = call(lean_app, "/web3/v1/nope")
    assert status.startswith("404")
    assert json.loads(body)["code"] == "000007"
    status, _headers, _body = call(lean_app, "/healthz")
    assert status == "200 OK"


def test_only_a_csrf_exempt_view_can_be_lean():
    def view(request):
        return HttpResponse()

    with pytest.raises(ImproperlyConfigured):
        lean(view)


# -- the merchant API -----------------------------------------------------------------------------
@pytest.fixture
def merchant_key(db):
    from tests.factories import api_key_factory

    return api_key_factory()[1]


def test_a_merchant_route_with_converters_takes_the_short_stack(apps, merchant_key, monkeypatch):
    from orders import apis

    lean_app, full_app = apps
    seen = []
    original = apis.OrderDetailApi.get

    def spy(self, request, *args, **kwargs):
        seen.append(hasattr(request._request, "session"))
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(apis.OrderDetailApi, "get", spy)
    auth = {"Authorization": f"Bearer {merchant_key}"}
    path = "/api/v1/orders/" + "n" * 32

    lean_answer = call(lean_app, path, headers=auth)
    full_answer = call(full_app, path, headers=auth)

    assert seen == [False, True]  # the lean request had no session; the full one did
    assert lean_answer[0] == full_answer[0] == "404 Not Found"
    assert json.loads(lean_answer[2]) == json.loads(full_answer[2])
    assert sorted(lean_answer[1]) == sorted(full_answer[1])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/orders", b'{"env": {"terminalType": "NOPE"}}'),
        ("POST", "/api/v1/orders", b"{not json"),
        ("GET", "/api/v1/orders", b""),
        ("GET", "/api/v1/orders", b"x"),  # a body on a GET is ignored
        ("GET", "/api/v1/events", b""),
        ("GET", "/api/v1/customers/c-1/identifiers", b""),
        ("DELETE", "/api/v1/orders", b""),
        ("GET", "/api/v1/orders/a/b/c", b""),  # resolves to no view: the full stack's 404
    ],
)
def test_a_lean_merchant_answer_is_the_full_stacks_answer(apps, merchant_key, method, path, body):
    lean_app, full_app = apps
    auth = {"Authorization": f"Bearer {merchant_key}"}

    lean_status, lean_headers, lean_body = call(lean_app, path, "", method, body=body, headers=auth)
    full_status, full_headers, full_body = call(full_app, path, "", method, body=body, headers=auth)

    assert lean_status == full_status
    assert json.loads(lean_body) == json.loads(full_body)
    assert sorted(lean_headers) == sorted(full_headers)
    assert "Set-Cookie" not in lean_headers


def test_a_merchant_request_without_a_key_is_refused_on_the_short_stack(apps):
    lean_app, _full = apps

    status, headers, body = call(lean_app, "/api/v1/orders", method="POST", body=b"{}")

    assert status == "401 Unauthorized"
    assert json.loads(body)["error"]["code"] == "not_authenticated"
    assert headers["WWW-Authenticate"].startswith("Bearer")
