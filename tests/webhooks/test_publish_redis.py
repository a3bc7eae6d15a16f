"""On Redis the webhook intake publishes with one LPUSH of a message it builds itself
(webhooks.task_message): it must be what Celery and kombu would push, and a real worker's
consumer must read it as the task."""

from __future__ import annotations

import base64
import json

import pytest
import redis as redis_py

from paysvc import logs
from paysvc.celery import CORRELATION_HEADER, app
from webhooks import publish
from webhooks.tasks import process_event

pytestmark = pytest.mark.live

# Fresh per message: ids, the process that sent it, kombu's delivery tag.
VARYING_HEADERS = {"id", "root_id", "origin"}
VARYING_PROPERTIES = {"correlation_id", "delivery_tag", "reply_to"}


def _pushed(private_redis) -> list[dict]:
    client = redis_py.Redis.from_url(private_redis.url)
    raw = client.lrange("celery", 0, -1)
    return [json.loads(item) for item in reversed(raw)]  # LPUSH: newest first


def _without(mapping: dict, keys: set[str]) -> dict:
    return {k: v for k, v in mapping.items() if k not in keys}


def test_the_lpush_is_what_apply_async_pushes(private_redis, monkeypatch):
    monkeypatch.setattr(app.conf, "broker_write_url", private_redis.url)
    publish._drop_connection()
    try:
        with logs.correlated("redis-publish-corr"):
            assert publish.publish_fail_fast(process_event, 42)
            with app.connection_for_write(private_redis.url) as conn:
                process_event.apply_async((42,), connection=conn, retry=False)
    finally:
        publish._drop_connection()
    ours, celerys = _pushed(private_redis)
    assert publish._route_cache[process_event.name].redis_key == "celery"  # the direct path ran
    assert base64.b64decode(ours["body"]) and json.loads(base64.b64decode(ours["body"])) == (
        json.loads(base64.b64decode(celerys["body"]))
    )
    assert _without(ours, {"body", "headers", "properties"}) == _without(
        celerys, {"body", "headers", "properties"}
    )
    assert _without(ours["headers"], VARYING_HEADERS) == _without(
        celerys["headers"], VARYING_HEADERS
    )
    assert ours["headers"][CORRELATION_HEADER] == "redis-publish-corr"
    assert (
        ours["headers"]["id"] == ours["headers"]["root_id"] == ours["properties"]["correlation_id"]
    )
    assert ours["headers"]["origin"] == celerys["headers"]["origin"]  # same process
    assert _without(ours["properties"], VARYING_PROPERTIES) == _without(
        celerys["properties"], VARYING_PROPERTIES
    )
    assert ours["properties"]["delivery_tag"] != celerys["properties"]["delivery_tag"]
    # apply_async names its thread's reply queue (for an RPC result backend, which paysvc has
    # not: no result is ever sent); as_task_v2 without one, as this publish has always sent, ''.
    assert ours["properties"]["reply_to"] == ""
    # The queue is declared as kombu declares it (the worker's routing table reads this set).
    client = redis_py.Redis.from_url(private_redis.url)
    assert client.smembers("_kombu.binding.celery") == {b"celery\x06\x16\x06\x16celery"}


def test_a_consumer_reads_the_lpushed_message_as_the_task(private_redis, monkeypatch):
    monkeypatch.setattr(app.conf, "broker_write_url", private_redis.url)
    publish._drop_connection()
    try:
        with logs.correlated("consumer-corr"):
            assert publish.publish_fail_fast(process_event, 7)
    finally:
        publish._drop_connection()
    with app.connection_for_read(private_redis.url) as conn:
        queue = conn.SimpleQueue("celery")
        message = queue.get(timeout=2)
        queue.close()
    args, kwargs, embed = message.decode()
    assert (args, kwargs) == ([7], {})
    assert embed == {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    assert message.headers["task"] == process_event.name
    assert message.headers[CORRELATION_HEADER] == "consumer-corr"
    assert message.delivery_info["routing_key"] == "celery"
    message.ack()
