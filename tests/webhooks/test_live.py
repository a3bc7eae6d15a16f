"""The webhook path end to end with real processes
(docs/reliability.md#7-certificates-endpoint-down, docs/reliability.md#10-concurrent-duplicates,
docs/reliability.md#14-webhook-before-create-answer, docs/reliability.md#29-all-webhooks-dropped,
docs/reliability.md#30-never-paid-orders).

One stack per module: a sandbox that signs with our test key and posts its webhooks to a live
paysvc under gunicorn, which stores them in the test database; a real Celery worker processes
them. The test process drives the merchant API and the sandbox's control API, and reads the
database.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from django.db import connection
from django.utils import timezone

from orders.models import Order, OrderEvent, OrderStatus
from orders.tasks import reconcile_due
from tests.conftest import SANDBOX_API_KEY, SANDBOX_SECRET, LiveSandbox
from tests.factories import OrderFactory
from tests.live import child_env, free_port, running, wait_for_url, wait_until
from tests.webhooks.factories import api_order, merchant_api, pay_body
from webhooks.models import EventStatus, WebhookEvent

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SUCCESS = b'{"returnCode":"SUCCESS","returnMessage":null}'


@dataclass
class Stack:
    sandbox: LiveSandbox
    web_url: str
    logs: Path

    @property
    def webhook_url(self) -> str:
        return self.web_url + "/webhooks/binance-pay/"

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.logs.iterdir()
        )


def _sqlite() -> bool:
    return connection.vendor == "sqlite"


@pytest.fixture(scope="module")
def stack(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any, signer: Any
) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("webhook-stack")
    logs = tmp / "logs"
    logs.mkdir()
    key_file = tmp / "webhook-key.pem"
    key_file.write_bytes(
        signer.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    web_port, sandbox_port = free_port(), free_port()
    web_url, sandbox_url = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{sandbox_port}"
    sandbox_env = {
        "PATH": "/usr/bin:/bin",
        "SANDBOX_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(sandbox_port),
        "SANDBOX_DB_PATH": str(tmp / "sandbox.sqlite3"),
        "SANDBOX_API_KEY": SANDBOX_API_KEY,
        "SANDBOX_SECRET_KEY": SANDBOX_SECRET,
        "SANDBOX_RSA_KEY_FILE": str(key_file),
        "SANDBOX_WEBHOOK_URL": web_url + "/webhooks/binance-pay/",
        "SANDBOX_WEBHOOK_RETRY_SCHEDULE": "0.5,0.5,1,1,2,4",
        "SANDBOX_REFUND_DELAY": "0.2",
        "SANDBOX_WORKERS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    with django_db_blocker.unblock():
        sqlite = _sqlite()
        paysvc_env = child_env(
            {
                "BINANCE_PAY_BASE_URL": sandbox_url,
                "BINANCE_PAY_API_KEY": SANDBOX_API_KEY,
                "BINANCE_PAY_SECRET_KEY": SANDBOX_SECRET,
                "BINANCE_PAY_WEBHOOK_URL": "",
                "BINANCE_PAY_WEBHOOK_TOLERANCE_SECONDS": "300",
                "BINANCE_PAY_CERT_REFETCH_SECONDS": "1",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            }
        )
    gunicorn = [
        sys.executable, "-m", "gunicorn", "paysvc.wsgi", "--bind", f"127.0.0.1:{web_port}",
        "--workers", "2", "--worker-class", "gthread", "--threads", "8", "--timeout", "30",
    ]  # fmt: skip
    # SQLite has no row locks: one task at a time there. PostgreSQL: tasks race for real.
    pool = ["--pool", "solo"] if sqlite else ["--pool", "threads", "--concurrency", "4"]
    worker = [
        sys.executable, "-m", "celery", "-A", "paysvc", "worker", "-l", "INFO", *pool,
        "--without-heartbeat", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    argv_sandbox = [sys.executable, "-m", "sandbox", "serve"]
    with (
        running(argv_sandbox, sandbox_env, logs / "sandbox.log") as sandbox_proc,
        running(gunicorn, paysvc_env, logs / "gunicorn.log") as web_proc,
        running(worker, paysvc_env, logs / "worker.log"),
    ):
        wait_for_url(sandbox_url + "/sandbox/health", timeout=60, proc=sandbox_proc)
        wait_for_url(web_url + "/healthz", timeout=60, proc=web_proc)
        assert wait_until(lambda: b"ready." in (logs / "worker.log").read_bytes(), timeout=60)
        yield Stack(LiveSandbox(sandbox_url), web_url, logs)


@pytest.fixture
def sandbox(stack: Stack, settings: Any) -> Iterator[LiveSandbox]:
    """This module's sandbox, as Binance for the test process too."""
    settings.BINANCE_PAY_BASE_URL = stack.sandbox.url
    settings.BINANCE_PAY_API_KEY = SANDBOX_API_KEY
    settings.BINANCE_PAY_SECRET_KEY = SANDBOX_SECRET
    settings.BINANCE_PAY_WEBHOOK_URL = ""
    stack.sandbox.clear_faults()
    stack.sandbox.control("DELETE", "/webhook-faults")
    yield stack.sandbox
    stack.sandbox.clear_faults()
    stack.sandbox.control("DELETE", "/webhook-faults")


def status_of(trade_no: str) -> str:
    return Order.objects.get(merchant_trade_no=trade_no).status


def paid_transitions(**filters: Any) -> int:
    return OrderEvent.objects.filter(
        kind="status_change", to_status__in=["PAID", "PAID_AFTER_CLOSE"], **filters
    ).count()


def test_a_payment_reaches_paid_through_webhook_and_worker_within_a_second(stack, sandbox):
    trade_no = api_order(merchant_api())["merchantTradeNo"]

    started = time.monotonic()
    sandbox.pay(trade_no)
    paid = wait_until(lambda: status_of(trade_no) == "PAID", timeout=10, interval=0.02)
    elapsed = time.monotonic() - started

    assert paid, stack.log_tail()
    # A figure, not a gate: latency targets are measured by bench/ (make bench).
    print(f"\npay -> PAID through sandbox webhook, gunicorn and worker: {elapsed:.3f} s")
    event = WebhookEvent.objects.get(merchant_trade_no=trade_no)
    assert event.status == EventStatus.PROCESSED
    assert paid_transitions(order__merchant_trade_no=trade_no, source="webhook") == 1
    log = sandbox.control("GET", f"/webhooks?merchantTradeNo={trade_no}")[1]["webhooks"][0]
    assert log["state"] == "delivered"
    assert log["log"][-1]["response"] == SUCCESS.decode()
    # One correlation id from the intake request to the task that processed it (paysvc/logs.py).
    stored = correlation_of(stack.logs / "gunicorn.log", "webhook stored", trade_no)
    processed = correlation_of(stack.logs / "worker.log", "webhook event processed", trade_no)
    assert stored != "-" and stored == processed, stack.log_tail()


def correlation_of(log: Path, message: str, trade_no: str) -> str:
    """The [correlation id] of the line with `message` about `trade_no`."""
    for line in log.read_text(errors="replace").splitlines():
        if f"] {message}" in line and f"merchantTradeNo={trade_no}" in line:
            return line.split(" [", 1)[1].split("]", 1)[0]
    raise AssertionError(f"no {message!r} line for {trade_no} in {log.name}")


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_a_webhook_before_the_create_answer_wins_and_the_answer_keeps_it(stack, sandbox, version):
    """docs/reliability.md#14-webhook-before-create-answer: Create Order held 3 s at the sandbox
    (already applied); the payment's webhook arrives meanwhile."""
    client = merchant_api(version)
    trade_no = timezone.now().strftime("late%H%M%S%f")
    sandbox.fault(mode="delay", seconds=3, apply=True, path=f"/{version}/order")
    result: dict[str, Any] = {}

    def create() -> None:
        try:
            result["order"] = api_order(client, merchantTradeNo=trade_no)
        finally:
            connection.close()

    thread = threading.Thread(target=create)
    thread.start()
    assert wait_until(lambda: sandbox.order(trade_no) is not None, timeout=5)
    sandbox.pay(trade_no)
    paid_while_creating = wait_until(
        lambda: Order.objects.filter(merchant_trade_no=trade_no, status="PAID").exists(),
        timeout=2.5,
        interval=0.02,
    )
    still_creating = thread.is_alive()
    thread.join(timeout=15)

    assert paid_while_creating and still_creating, stack.log_tail()
    assert result["order"]["status"] == "PAID"
    order = Order.objects.get(merchant_trade_no=trade_no)
    assert order.status == OrderStatus.PAID
    assert order.checkout_url and order.create_state == "created"
    assert order.prepay_id == sandbox.order(trade_no)["prepayId"]
    assert paid_transitions(order=order) == 1
    assert not OrderEvent.objects.filter(order=order, from_status="PAID").exists()


def test_dropped_webhooks_and_unpaid_orders_are_settled_by_reconciliation(stack, sandbox, settings):
    """docs/reliability.md#29-all-webhooks-dropped, docs/reliability.md#30-never-paid-orders through
    beat's task and the worker: every webhook dropped; paid orders end PAID, an expired one EXPIRED,
    one Binance still shows open past expiry + grace EXPIRED too."""
    sandbox.control("POST", "/webhook-faults", {"mode": "drop", "count": 100})
    client = merchant_api()
    paid = [api_order(client)["merchantTradeNo"] for _ in range(10)]
    expired, overdue = (api_order(client)["merchantTradeNo"] for _ in range(2))
    for trade_no in paid:
        sandbox.pay(trade_no)
    assert sandbox.control("POST", f"/orders/{expired}/expire", {})[0] == 200
    # Two hours past its expiry: beyond the worker's grace (600 s by default).
    Order.objects.filter(merchant_trade_no=overdue).update(
        expire_time=timezone.now() - dt.timedelta(hours=2)
    )
    Order.objects.update(next_reconcile_at=timezone.now())

    reconcile_due.delay()

    settled = wait_until(
        lambda: Order.objects.filter(status__in=["INITIAL", "PENDING"]).count() == 0,
        timeout=30,
    )
    assert settled, stack.log_tail()
    assert WebhookEvent.objects.count() == 0
    for trade_no in paid:
        assert status_of(trade_no) == "PAID"
    assert status_of(expired) == status_of(overdue) == "EXPIRED"
    assert paid_transitions(source="reconciliation") == 10


def test_ten_concurrent_copies_of_each_of_100_payments_pay_each_order_once(stack, sandbox, signer):
    """docs/reliability.md#10-concurrent-duplicates: 1,000 deliveries from 50 threads over HTTP; 0
    5xx; 100 effects."""
    orders = [OrderFactory() for _ in range(100)]
    deliveries = []
    for order in orders:
        body = pay_body(order)
        deliveries += [(body, signer.headers(body))] * 10

    def send(delivery: tuple[bytes, dict[str, str]]) -> tuple[int, bytes]:
        body, headers = delivery
        request = urllib.request.Request(  # noqa: S310 - loopback
            stack.webhook_url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", **headers},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(send, deliveries))

    assert answers == [(200, SUCCESS)] * 1000
    assert WebhookEvent.objects.count() == 100
    done = wait_until(
        lambda: WebhookEvent.objects.filter(status=EventStatus.PROCESSED).count() == 100,
        timeout=60,
    )
    states = list(WebhookEvent.objects.values_list("status", "attempts", "last_error"))
    assert done, (sorted(set(states)), stack.log_tail())
    assert Order.objects.filter(status="PAID").count() == 100
    assert paid_transitions() == 100
    assert "IntegrityError" not in (stack.logs / "gunicorn.log").read_text()


def test_a_new_key_while_the_certificates_endpoint_is_down_is_retried_until_accepted(
    stack, sandbox
):
    """docs/reliability.md#7-certificates-endpoint-down: Binance rotates its key while its
    /certificates is down: 5xx (Binance retries), nothing stored; accepted after recovery. The
    refetch interval here is 1 s."""
    original = sandbox.control("GET", "/status")[1]["signingCertSerial"]
    status, rotated = sandbox.control("POST", "/certificates", {"activate": True, "bits": 2048})
    assert status == 200
    sandbox.fault(mode="500", count=1000, path="/certificates")
    try:
        trade_no = api_order(merchant_api())["merchantTradeNo"]
        sandbox.pay(trade_no)
        time.sleep(2.0)
        stored_during_outage = WebhookEvent.objects.count()
        remaining = sandbox.control("GET", "/faults")[1]["faults"][0]["remaining"]
        sandbox.clear_faults()
        paid = wait_until(lambda: status_of(trade_no) == "PAID", timeout=15)
    finally:
        sandbox.control("POST", f"/certificates/{original}/activate")

    assert paid, stack.log_tail()
    assert stored_during_outage == 0
    # <= one call per refetch interval (1 s) per process without a shared cache (2 gunicorn
    # workers here; with Redis they share one lock).
    assert 1000 - remaining <= 2 * 3
    log = sandbox.control("GET", f"/webhooks?merchantTradeNo={trade_no}")[1]["webhooks"][0]
    codes = [attempt["httpStatus"] for attempt in log["log"]]
    assert codes[0] == 503 and codes[-1] == 200, codes
    assert log["log"][-1]["certSerial"] == rotated["certSerial"]


# -- chunked deliveries (Transfer-Encoding: chunked, no Content-Length) -------------------------
def post_chunked(
    connection: http.client.HTTPConnection, body: bytes, headers: dict[str, str], pieces: int = 3
) -> tuple[int, bytes]:
    """POST ``body`` framed by hand as ``pieces`` chunks, with no Content-Length header."""
    size = max(1, -(-len(body) // pieces))
    try:
        connection.putrequest("POST", "/webhooks/binance-pay/")
        for name, value in {
            "Content-Type": "application/json; charset=utf-8",
            "Transfer-Encoding": "chunked",
            **headers,
        }.items():
            connection.putheader(name, value)
        connection.endheaders()
        for start in range(0, len(body), size):
            piece = body[start : start + size]
            connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def over_the_cap_body() -> bytes:
    """A PAY body past the 64 KiB default cap (BINANCE_PAY_WEBHOOK_MAX_BYTES)."""
    return pay_body()[:-1] + b',"pad":"' + b"p" * 70_000 + b'"}'


def test_a_chunked_webhook_is_accepted_by_gunicorn_and_stored_byte_for_byte(stack, signer):
    """Binance may send a body without Content-Length; it was refused as empty (400)."""
    order = OrderFactory()
    body = pay_body(order)
    port = int(stack.web_url.rsplit(":", 1)[1])

    status, answer = post_chunked(
        http.client.HTTPConnection("127.0.0.1", port, timeout=30), body, signer.headers(body)
    )

    assert (status, answer) == (200, SUCCESS), stack.log_tail()
    event = WebhookEvent.objects.get(merchant_trade_no=order.merchant_trade_no)
    assert bytes(event.body) == body
    assert wait_until(lambda: status_of(order.merchant_trade_no) == "PAID", timeout=15)


def test_a_chunked_webhook_over_the_cap_is_413_and_nothing_is_stored(stack, signer):
    body = over_the_cap_body()
    port = int(stack.web_url.rsplit(":", 1)[1])

    status, answer = post_chunked(
        http.client.HTTPConnection("127.0.0.1", port, timeout=30),
        body,
        signer.headers(body),
        pieces=20,
    )

    assert status == 413, (status, answer)
    assert json.loads(answer)["returnCode"] == "FAIL"
    assert WebhookEvent.objects.count() == 0


@pytest.fixture(scope="module")
def nginx(stack: Stack, tmp_path_factory: Any) -> Iterator[Any]:
    """deploy/nginx.conf.template in front of this module's gunicorn (tests/proxy.py)."""
    from tests.proxy import NGINX, NGINX_MISSING_REASON, nginx_config

    if NGINX is None:
        pytest.skip(NGINX_MISSING_REASON)
    folder = tmp_path_factory.mktemp("webhook-nginx")
    upstream = stack.web_url.removeprefix("http://")
    proxy = nginx_config(folder, upstream=upstream, http_port=free_port(), https_port=free_port())
    with running(proxy.argv, {"PATH": "/usr/bin:/bin:/usr/sbin"}, folder / "nginx.log") as proc:
        assert wait_until(lambda: _nginx_answers(proxy), timeout=30), (
            folder / "nginx.log"
        ).read_text()
        assert proc.poll() is None
        yield proxy


def _nginx_answers(proxy: Any) -> bool:
    connection = http.client.HTTPSConnection(
        "127.0.0.1", proxy.https_port, timeout=2, context=proxy.tls_context()
    )
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@pytest.mark.parametrize("over_the_cap", [False, True], ids=["accepted", "over-the-cap"])
def test_a_chunked_webhook_through_nginx(stack, signer, nginx, over_the_cap):
    """nginx buffers the chunked body and passes it on with a Content-Length (its
    client_max_body_size, 1 MiB, is above paysvc's 64 KiB cap, so paysvc answers the 413)."""
    order = OrderFactory()
    body = over_the_cap_body() if over_the_cap else pay_body(order)
    connection = http.client.HTTPSConnection(
        "127.0.0.1", nginx.https_port, timeout=30, context=nginx.tls_context()
    )

    status, answer = post_chunked(connection, body, signer.headers(body))

    if over_the_cap:
        assert status == 413, (status, answer)
        assert json.loads(answer)["returnCode"] == "FAIL"
        assert WebhookEvent.objects.count() == 0
    else:
        assert (status, answer) == (200, SUCCESS), stack.log_tail()
        event = WebhookEvent.objects.get(merchant_trade_no=order.merchant_trade_no)
        assert bytes(event.body) == body
        # The worker applies it; waiting keeps its transaction out of the test's teardown flush.
        assert wait_until(lambda: status_of(order.merchant_trade_no) == "PAID", timeout=15)
