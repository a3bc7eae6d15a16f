"""The Web3 endpoints' envelope: every code, its HTTP status, and the call records."""

from __future__ import annotations

import json
import logging
import threading
import time
import types
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, OperationalError
from django.urls import Resolver404, resolve

from campaigns import completion as completion_module
from campaigns import views
from campaigns.guard import in_flight
from campaigns.models import TaskKind
from campaigns.web3_urls import web3_prefix, web3_route
from tests.campaigns.conftest import COMPLETION, completion, envelope
from tests.campaigns.factories import task_factory
from tests.factories import AccountShareFactory, OrderFactory

pytestmark = pytest.mark.django_db

BINANCE_ID = "355421788"


@pytest.fixture
def tasks(application):
    task_factory(application=application, task_id="pay_10_usdt")
    task_factory(application=application, task_id="share_id", kind=TaskKind.ACCOUNT_SHARED)
    AccountShareFactory(application=application, user_binance_id=BINANCE_ID)
    OrderFactory(paid=True, application=application, amount="10")


def now_ms() -> int:
    return int(time.time() * 1000)


# -- 000000 ----------------------------------------------------------------------------------------
def test_server_time_answers_epoch_milliseconds(web3, db):
    before = now_ms()

    response = web3.get("/web3/v1/time")

    body = envelope(response)
    assert response.status_code == 200
    assert body["code"] == "000000" and body["message"] == "success"
    assert before <= body["data"] <= now_ms()


def test_completion_answers_each_task_asked(web3, tasks):
    response = completion(web3, BINANCE_ID, ["share_id", "pay_10_usdt"])

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert envelope(response) == {
        "code": "000000",
        "message": "success",
        "data": {"share_id": True, "pay_10_usdt": True},
    }


def test_completion_accepts_the_spec_example_spelling(web3, tasks):
    # The spec's example: task=["deposit", "withdrawal"] with a space, plus a timestamp.
    response = web3.get(
        COMPLETION,
        {"walletAddress": BINANCE_ID, "task": '["pay_10_usdt", "share_id"]', "timestamp": 1},
    )

    assert envelope(response)["data"] == {"pay_10_usdt": True, "share_id": True}


def test_a_task_asked_twice_is_answered_once(web3, tasks):
    body = envelope(completion(web3, BINANCE_ID, ["share_id", "share_id"]))

    assert body["data"] == {"share_id": True}


def test_recv_window_and_timestamp_inside_the_window_are_accepted(web3, tasks):
    body = envelope(completion(web3, BINANCE_ID, ["share_id"], timestamp=now_ms(), recvWindow=5000))

    assert body["code"] == "000000"


@pytest.mark.parametrize(
    "params",
    [
        {"timestamp": "1"},  # V0.0.8 sends timestamp alone: not checked against a window
        {"recvWindow": "60000"},  # recvWindow alone: the V0.0.6/7 rule needs both
        {"signature": "whatever"},  # unknown parameters are ignored
    ],
)
def test_parameters_without_the_other_half_of_the_rule_are_accepted(web3, tasks, params):
    body = envelope(completion(web3, BINANCE_ID, ["share_id"], **params))

    assert body["code"] == "000000"


# -- 000001 ----------------------------------------------------------------------------------------
def test_over_the_per_ip_rate_answers_429_with_retry_after(web3, tasks, settings):
    settings.PAYSVC_WEB3_RATE_PER_IP = "2/min"

    answers = [completion(web3, BINANCE_ID, ["share_id"]) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert envelope(answers[2]) == {"code": "000001", "message": "too many requests", "data": None}
    # Sliding window: the current minute is full, so up to 1.5 windows away.
    assert 1 <= int(answers[2]["Retry-After"]) <= 90
    # Another address still has its own allowance.
    other = completion(web3, BINANCE_ID, ["share_id"], meta={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_over_the_global_rate_answers_429_for_every_address(web3, tasks, settings):
    settings.PAYSVC_WEB3_RATE_GLOBAL = "2/min"

    codes = [web3.get("/web3/v1/time", REMOTE_ADDR=f"10.0.0.{i}").status_code for i in range(1, 4)]

    assert codes == [200, 200, 429]


def test_refused_requests_do_not_use_up_the_allowance(web3, db, settings):
    settings.PAYSVC_WEB3_RATE_PER_IP = "2/min"
    settings.PAYSVC_WEB3_RATE_GLOBAL = "3/min"
    web3.get("/web3/v1/time")
    web3.get("/web3/v1/time")
    for _ in range(5):
        assert web3.get("/web3/v1/time").status_code == 429

    # The flood from 127.0.0.1 was refused, so the global allowance still has room.
    assert web3.get("/web3/v1/time", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_the_client_address_comes_from_x_forwarded_for_behind_trusted_proxies(web3, db, settings):
    settings.PAYSVC_WEB3_RATE_PER_IP = "1/min"
    settings.PAYSVC_WEB3_PROXY_HOPS = 1
    first = web3.get("/web3/v1/time", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    second = web3.get("/web3/v1/time", HTTP_X_FORWARDED_FOR="7.7.7.7, 1.2.3.5")
    again = web3.get("/web3/v1/time", HTTP_X_FORWARDED_FOR="8.8.8.8, 1.2.3.4")

    # The right-most address (added by our proxy) counts; the left part is the client's to forge.
    assert [first.status_code, second.status_code, again.status_code] == [200, 200, 429]
    # Without the header, or with something that is not an address: the peer's address.
    assert web3.get("/web3/v1/time").status_code == 200
    assert web3.get("/web3/v1/time", HTTP_X_FORWARDED_FOR="x y z").status_code == 429


# -- 000002 ----------------------------------------------------------------------------------------
def busy(response) -> None:
    assert response.status_code == 200  # an expected answer, never a 5xx
    assert envelope(response) == {"code": "000002", "message": "system busy", "data": None}
    assert response["Retry-After"] == "1"


def test_too_many_requests_in_flight_are_shed_at_once(web3, tasks, settings):
    settings.PAYSVC_WEB3_MAX_IN_FLIGHT = 1
    with in_flight.slot():  # another request is being worked on
        started = time.monotonic()
        response = completion(web3, BINANCE_ID, ["share_id"])
        assert time.monotonic() - started < 0.5

    busy(response)
    assert envelope(completion(web3, BINANCE_ID, ["share_id"]))["code"] == "000000"


def test_a_database_that_cannot_be_reached_answers_system_busy(web3, tasks):
    refused = OperationalError("connection refused: too many clients already")
    with mock.patch.object(completion_module, "completion_facts", side_effect=refused):
        busy(completion(web3, BINANCE_ID, ["share_id"]))


def test_a_slow_query_is_cut_at_the_server_side_timeout(web3, tasks, settings):
    settings.PAYSVC_WEB3_TIMEOUT_SECONDS = 0.3
    real = completion_module.completion_facts
    seen: dict[str, float] = {}

    def slow(**kwargs):
        seen["timeout"] = kwargs["timeout"]
        time.sleep(0.4)  # the database took longer than the time left
        return real(**kwargs)

    with mock.patch.object(completion_module, "completion_facts", side_effect=slow):
        started = time.monotonic()
        response = completion(web3, BINANCE_ID, ["share_id"])
        elapsed = time.monotonic() - started

    busy(response)
    assert elapsed < 1.0
    assert 0 < seen["timeout"] <= 0.3  # the database was told the time left


def test_no_query_is_started_once_the_deadline_has_passed(web3, tasks, settings):
    settings.PAYSVC_WEB3_TIMEOUT_SECONDS = 0.0
    with mock.patch.object(completion_module, "completion_facts") as facts:
        busy(completion(web3, BINANCE_ID, ["share_id"]))

    facts.assert_not_called()


# -- 000006 ----------------------------------------------------------------------------------------
def invalid(response) -> None:
    assert response.status_code == 200
    assert envelope(response) == {"code": "000006", "message": "invalid argument", "data": None}


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({}, id="walletAddress missing"),
        pytest.param({"walletAddress": ""}, id="walletAddress empty"),
        pytest.param({"walletAddress": "   "}, id="walletAddress blank"),
        pytest.param({"walletAddress": "x" * 129}, id="walletAddress over 128"),
        pytest.param({"walletAddress": "0xab cd"}, id="walletAddress with a space"),
        pytest.param({"walletAddress": "0xabc\u00e9"}, id="walletAddress not ASCII"),
        pytest.param({"walletAddress": "0xabc\x00"}, id="walletAddress control char"),
        pytest.param({"task": "deposit"}, id="task not JSON"),
        pytest.param({"task": '["a",'}, id="task broken JSON"),
        pytest.param({"task": '{"a": 1}'}, id="task an object"),
        pytest.param({"task": '"share_id"'}, id="task a string"),
        pytest.param({"task": "[1]"}, id="task item a number"),
        pytest.param({"task": "[null]"}, id="task item null"),
        pytest.param({"task": '[["share_id"]]'}, id="task item an array"),
        pytest.param({"task": '[""]'}, id="task item blank"),
        pytest.param({"task": json.dumps(["a" * 65])}, id="task item over 64"),
        pytest.param({"task": json.dumps(["a b"])}, id="task item not an id"),
        pytest.param({"task": json.dumps([f"t{i}" for i in range(51)])}, id="over 50 tasks"),
        pytest.param({"task": "[" + " " * 4100 + "]"}, id="task over 4096 chars"),
        pytest.param({"task": '["nope"]'}, id="unknown task"),
        pytest.param({"task": '["share_id", "nope"]'}, id="one unknown task"),
        pytest.param({"task": '["retired"]'}, id="inactive task"),
        pytest.param({"recvWindow": "abc"}, id="recvWindow not integer"),
        pytest.param({"recvWindow": "-1"}, id="recvWindow negative"),
        pytest.param({"recvWindow": "1.5"}, id="recvWindow decimal"),
        pytest.param({"timestamp": "1e12"}, id="timestamp not integer"),
        pytest.param({"timestamp": "9" * 19}, id="timestamp over a long"),
        pytest.param({"timestamp": ""}, id="timestamp empty"),
    ],
)
def test_invalid_arguments_answer_000006(web3, tasks, application, query):
    task_factory(application=application, task_id="retired", is_active=False)
    params = {"walletAddress": BINANCE_ID, "task": '["share_id"]', **query}
    if query == {}:
        del params["walletAddress"]

    invalid(web3.get(COMPLETION, params))


def test_a_parameter_given_twice_is_invalid(web3, tasks):
    invalid(web3.get(f"{COMPLETION}?walletAddress=1&walletAddress=2"))
    invalid(web3.get(f"{COMPLETION}?walletAddress=1&task=[]&task=[]"))


@pytest.mark.parametrize(
    ("offset_ms", "recv_window"),
    [
        (-3000, 5000),  # not newer than serverTime - 3000
        (-60_000, 5000),
        (5500, 5000),  # not later than serverTime + recvWindow
        (0, 10_001),  # recvWindow <= 10000
    ],
)
def test_timestamp_outside_the_receive_window_is_invalid(web3, tasks, offset_ms, recv_window):
    invalid(
        completion(
            web3,
            BINANCE_ID,
            ["share_id"],
            timestamp=now_ms() + offset_ms,
            recvWindow=recv_window,
        )
    )


# -- 000007 ----------------------------------------------------------------------------------------
def test_an_unexpected_failure_is_an_internal_error_with_the_envelope(web3, tasks):
    with mock.patch.object(completion_module, "completion_facts", side_effect=DatabaseError("x")):
        response = completion(web3, BINANCE_ID, ["share_id"])

    assert response.status_code == 500
    assert envelope(response) == {"code": "000007", "message": "other error", "data": None}


def test_an_unknown_path_under_the_prefix_answers_the_envelope(web3, db):
    response = web3.get("/web3/v1/task/nope")

    assert response.status_code == 404
    assert envelope(response)["code"] == "000007"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/web3/v1/time", COMPLETION, "/web3/v1/task/nope"])
def test_another_method_answers_the_envelope(web3, db, method, path):
    """405 with the envelope (docs/web3.md#codes), not Django's CSRF page: `web3` enforces CSRF
    checks like a real server-to-server caller without cookies."""
    response = web3.generic(
        method, path, "walletAddress=1", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 405
    assert envelope(response) == {"code": "000007", "message": "other error", "data": None}


# -- records of every call -------------------------------------------------------------------------
def test_every_call_is_logged_and_recorded_durably(web3, tasks, settings, caplog, tmp_path):
    with caplog.at_level(logging.INFO, logger="campaigns.web3"):
        completion(web3, BINANCE_ID, ["share_id"], meta={"REMOTE_ADDR": "10.1.2.3"})
        completion(web3, BINANCE_ID, ["nope"])

    lines = [json.loads(r.getMessage().split(" ", 1)[1]) for r in caplog.records]
    assert [(line["code"], line["status"], line["ip"]) for line in lines] == [
        ("000000", 200, "10.1.2.3"),
        ("000006", 200, "127.0.0.1"),
    ]
    assert lines[0]["path"] == COMPLETION
    assert "walletAddress=355421788" in lines[0]["query"]
    assert lines[0]["ms"] >= 0 and lines[0]["customers"] == 1
    assert "unknown task" in lines[1]["reason"]
    (log_file,) = (tmp_path / "web3-log").glob("web3-*.log")
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [r["data"] for r in records] == [{"share_id": True}, None]
    assert records[1]["code"] == "000006"


def test_calls_from_several_threads_are_recorded_whole(web3, tasks, tmp_path, settings):
    settings.PAYSVC_WEB3_RATE_PER_IP = ""

    def call() -> None:
        for _ in range(10):
            web3.get("/web3/v1/time")

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    (log_file,) = (tmp_path / "web3-log").glob("web3-*.log")
    assert [json.loads(line)["code"] for line in log_file.read_text().splitlines()] == [
        "000000"
    ] * 40


# -- prefix ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prefix", "route"),
    [("/web3", "web3/"), ("/partner/binance/", "partner/binance/"), ("", ""), ("/", "")],
)
def test_the_prefix_is_a_setting(settings, prefix, route):
    settings.PAYSVC_WEB3_PREFIX = prefix

    assert web3_prefix() == route


@pytest.mark.parametrize("prefix", ["/web3/<int:x>", "/we b3", None])
def test_a_prefix_that_is_not_a_path_is_refused(settings, prefix):
    settings.PAYSVC_WEB3_PREFIX = prefix

    with pytest.raises(ImproperlyConfigured, match="PAYSVC_WEB3_PREFIX"):
        web3_prefix()


def test_the_endpoints_are_served_under_the_configured_prefix(settings):
    settings.PAYSVC_WEB3_PREFIX = "/partner/binance"
    urlconf = types.ModuleType("web3_urlconf")
    urlconf.urlpatterns = [web3_route()]  # type: ignore[attr-defined]

    assert resolve("/partner/binance/v1/time", urlconf=urlconf).func is views.server_time
    assert (
        resolve("/partner/binance/v1/task/completion", urlconf=urlconf).func
        is views.task_completion_view
    )
    with pytest.raises(Resolver404):
        resolve("/web3/v1/time", urlconf=urlconf)
