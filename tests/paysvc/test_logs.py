"""paysvc/logs.py: fields instead of key=value strings, JSON output, one correlation id from the
request to its tasks."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.test import Client

from paysvc import logs
from paysvc.celery import _adopt_correlation_id, _drop_correlation_id, _send_correlation_id


def record(message: str = "order status changed", **fields: object) -> logging.LogRecord:
    rec = logging.LogRecord(
        "orders.services.status", logging.INFO, __file__, 1, message, None, None
    )
    rec.__dict__.update(fields)
    logs.CorrelationFilter().filter(rec)
    return rec


def test_plain_lines_carry_the_correlation_id_and_the_fields():
    with logs.correlated("3f0c8a6e2b7d4c1e"):
        line = logs.PlainFormatter().format(record(merchantTradeNo="m1", reason="amount mismatch"))

    assert "INFO orders.services.status [3f0c8a6e2b7d4c1e] order status changed" in line
    assert line.endswith('merchantTradeNo=m1 reason="amount mismatch"')


def test_json_lines_are_one_object_with_the_fields():
    with logs.correlated("abc"):
        line = logs.JsonFormatter().format(record(merchantTradeNo="m1", attempt=2))

    parsed = json.loads(line)
    assert parsed["correlationId"] == "abc"
    assert (parsed["message"], parsed["merchantTradeNo"], parsed["attempt"]) == (
        "order status changed",
        "m1",
        2,
    )
    assert parsed["level"] == "INFO" and parsed["logger"] == "orders.services.status"


def test_outside_any_request_the_id_is_a_dash():
    assert "[-]" in logs.PlainFormatter().format(record())


@pytest.mark.django_db
def test_each_request_gets_an_id_and_a_plain_caller_id_is_kept():
    client = Client()

    mine = client.get("/healthz", HTTP_X_REQUEST_ID="shop-req.42")
    made = client.get("/healthz")
    bad = client.get("/healthz", HTTP_X_REQUEST_ID="<script>")

    assert mine["X-Request-Id"] == "shop-req.42"
    assert re.fullmatch(r"[0-9a-f]{16}", made["X-Request-Id"])
    assert bad["X-Request-Id"] != "<script>" and re.fullmatch(r"[0-9a-f]{16}", bad["X-Request-Id"])
    assert logs.correlation_id.get() == ""  # nothing leaks into the next request


def test_a_task_carries_the_id_of_what_published_it_and_runs_under_it():
    headers: dict[str, str] = {}
    with logs.correlated("req-1"):
        _send_correlation_id(headers=headers)
    assert headers == {"paysvc_correlation_id": "req-1"}

    class Request:
        correlation_id = "celery-task-id"  # Celery's own header: not ours
        headers = {"paysvc_correlation_id": "req-1"}

    class Task:
        request = Request()

    _adopt_correlation_id(task_id="t1", task=Task())
    assert logs.correlation_id.get() == "req-1"
    _drop_correlation_id(task_id="t1")
    assert logs.correlation_id.get() == ""


def test_a_task_published_outside_a_request_gets_its_own_id():
    headers: dict[str, str] = {}

    _send_correlation_id(headers=headers)

    assert re.fullmatch(r"[0-9a-f]{16}", headers["paysvc_correlation_id"])


def test_the_log_format_setting_is_checked(monkeypatch):
    import importlib

    import paysvc.settings

    monkeypatch.setenv("PAYSVC_LOG_FORMAT", "xml")
    with pytest.raises(Exception, match="PAYSVC_LOG_FORMAT='xml'"):
        importlib.reload(paysvc.settings)
    monkeypatch.setenv("PAYSVC_LOG_FORMAT", "plain")
    importlib.reload(paysvc.settings)
