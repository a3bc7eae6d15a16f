"""The webhook through gunicorn's entry point (paysvc.wsgi.application), which serves it with a
subset of the middleware (issue 9), and the cheap publish: still verified, stored, counted,
logged with its correlation id, and the task message the same as ``apply_async``'s."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections
from prometheus_client import REGISTRY

from paysvc import wsgi
from paysvc.cache import ReusingRedisCache
from paysvc.celery import CORRELATION_HEADER, app
from tests.webhooks.factories import WEBHOOK_PATH, meta, pay_body
from webhooks import publish
from webhooks.models import WebhookEvent
from webhooks.tasks import process_event

pytestmark = pytest.mark.django_db

SUCCESS = b'{"returnCode":"SUCCESS","returnMessage":null}'


def call_wsgi(
    body: bytes, headers: dict[str, str], *, path: str = WEBHOOK_PATH, host: str = "testserver"
) -> tuple[int, dict[str, str], bytes]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        **meta(headers),
    }
    answer: dict[str, Any] = {}

    def start_response(
        status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
    ) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    # As django.test.Client does: the test's connection (and its transaction) must survive the
    # request's request_started/request_finished.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        chunks = wsgi.application(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], content


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_both_webhook_urls_and_only_they_of_the_webhooks_app_take_the_lean_path():
    routes = wsgi.application._lean_handler().routes
    assert {WEBHOOK_PATH, WEBHOOK_PATH.rstrip("/")} <= set(routes)
    assert "/healthz" not in routes and "/admin/" not in routes


def test_a_valid_delivery_is_stored_counted_and_answered_with_a_request_id(
    signer, certs_endpoint, broker, django_capture_on_commit_callbacks
):
    received = sample("paysvc_webhooks_received_total")
    verified = sample("paysvc_webhooks_verified_total", biz_type="PAY")
    body = pay_body()
    with django_capture_on_commit_callbacks(execute=True):
        status, headers, content = call_wsgi(body, signer.headers(body))
    assert (status, content) == (200, SUCCESS)
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == body
    assert broker.published == [event.pk]
    assert headers["X-Request-Id"]  # the correlation id middleware ran
    assert sample("paysvc_webhooks_received_total") == received + 1
    assert sample("paysvc_webhooks_verified_total", biz_type="PAY") == verified + 1


def test_a_bad_signature_is_refused_without_the_full_middleware(
    signer, other_signer, certs_endpoint, broker
):
    rejected = sample("paysvc_webhooks_rejected_total", reason="bad_signature")
    body = pay_body()
    forged = other_signer.headers(body)
    forged["BinancePay-Certificate-SN"] = signer.serial  # Binance's serial, another key's signature
    status, _, content = call_wsgi(body, forged)
    assert status == 401
    assert json.loads(content)["returnCode"] == "FAIL"
    assert not WebhookEvent.objects.exists() and broker.published == []
    assert sample("paysvc_webhooks_rejected_total", reason="bad_signature") == rejected + 1


def test_a_replay_is_one_event_and_a_host_outside_allowed_hosts_is_refused(
    signer, certs_endpoint, broker, django_capture_on_commit_callbacks
):
    body = pay_body()
    headers = signer.headers(body)
    with django_capture_on_commit_callbacks(execute=True):
        assert call_wsgi(body, headers)[0] == 200
        assert call_wsgi(body, headers)[0] == 200  # exact replay: SUCCESS, no second event
    assert WebhookEvent.objects.count() == 1 and len(broker.published) == 1
    other = pay_body()
    assert call_wsgi(other, signer.headers(other), host="evil.example")[0] == 400
    assert WebhookEvent.objects.count() == 1


def test_a_duplicate_inside_a_transaction_leaves_it_usable(signer, certs_endpoint):
    from django.db import transaction

    from webhooks.services import webhook_event_store
    from webhooks.verification import verify_delivery

    body = pay_body()
    delivery = verify_delivery(
        {**meta(signer.headers(body)), "CONTENT_TYPE": "application/json"}, body
    )
    with transaction.atomic():
        assert webhook_event_store(delivery=delivery) is not None
        assert webhook_event_store(delivery=delivery) is None
        assert WebhookEvent.objects.count() == 1  # still usable


def test_the_cheap_publish_sends_what_apply_async_sends(monkeypatch):
    monkeypatch.setattr(app.conf, "broker_url", "memory://lean-path-test")
    monkeypatch.setattr(app.conf, "broker_write_url", None)
    monkeypatch.setattr(publish, "_paused_until", 0.0)
    publish._drop_connection()
    with app.connection_for_read() as conn:  # kombu's memory broker is shared by the process
        conn.SimpleQueue("celery").clear()
    try:
        from paysvc import logs

        with logs.correlated("lean-path-corr"):
            assert publish.publish_fail_fast(process_event, 42)
            with app.connection_for_write() as conn:
                process_event.apply_async((42,), connection=conn)
        with app.connection_for_read() as conn:
            queue = conn.SimpleQueue("celery")
            ours, celerys = queue.get(timeout=1), queue.get(timeout=1)
            queue.close()
    finally:
        publish._drop_connection()
    assert ours.payload == celerys.payload
    varying = {"id", "root_id", "origin"}
    assert {k: v for k, v in ours.headers.items() if k not in varying} == {
        k: v for k, v in celerys.headers.items() if k not in varying
    }
    assert ours.headers[CORRELATION_HEADER] == "lean-path-corr"
    assert ours.delivery_info["routing_key"] == celerys.delivery_info["routing_key"] == "celery"
    assert ours.properties["delivery_mode"] == celerys.properties["delivery_mode"]


def test_the_redis_cache_keeps_one_client_per_pool():
    cache = ReusingRedisCache("redis://127.0.0.1:1/0", {})  # nothing connects until a command
    assert cache._cache.get_client(write=True) is cache._cache.get_client(write=True)
    assert cache._cache.get_client() is cache._cache.get_client("any key")
