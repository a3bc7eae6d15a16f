"""Fixtures for notification tests: a local HTTP receiver, orders, eager Celery, a fake clock."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from clients.models import ClientApplication
from orders.models import Order, OrderStatus, Refund, RefundStatus
from paysvc.celery import app as celery_app
from tests.clients.factories import application_factory


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A merchant endpoint on 127.0.0.1: records every request, answers from a script."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.replies: list[Reply] = []
        self.sni: list[str | None] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.command, self.path, dict(self.headers.items()), body)
                    )
                    reply = receiver.replies.pop(0) if receiver.replies else Reply()
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST  # a followed redirect would show up as a request too

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.port = int(self.server.server_address[1])
        self.scheme = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/hooks/paysvc?shop=1"

    def reply(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return True
            time.sleep(0.05)
        return len(self.requests) >= count

    def start(self) -> Receiver:
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def allow_private(settings: Any) -> None:
    """The receiver listens on loopback: allow it (like dev and test deployments)."""
    settings.PAYSVC_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def eager() -> Iterator[None]:
    """Run Celery tasks inline where they are published (here: in on_commit callbacks)."""
    before = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


class Clock:
    """A pinned `timezone.now()` that tests move by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now

    def move_to(self, when: dt.datetime) -> dt.datetime:
        self.now = when
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    pinned = Clock(dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(timezone, "now", pinned)
    return pinned


def application_with(url: str = "") -> ClientApplication:
    return application_factory(name=f"shop-{uuid.uuid4().hex[:8]}", default_notify_url=url)


def order_factory(
    *,
    application: ClientApplication | None = None,
    notify_url: str = "",
    status: str = OrderStatus.INITIAL,
    **fields: Any,
) -> Order:
    """An order as if Binance had created it (stored directly: no Binance call needed here)."""
    values: dict[str, Any] = {
        "application": application or application_with(),
        "merchant_trade_no": uuid.uuid4().hex,
        "status": status,
        "terminal_type": "WEB",
        "order_amount": Decimal("25.17"),
        "currency": "USDT",
        "total_fee": Decimal("25.17"),
        "goods": {"goodsType": "02", "goodsCategory": "Z000", "goodsName": "Ice Cream"},
        "env": {"terminalType": "WEB"},
        "notify_url": notify_url,
        "customer_ref": "customer-42",
        "prepay_id": str(uuid.uuid4().int)[:19],
    }
    values.update(fields)
    return Order.objects.create(**values)


def refund_factory(*, order: Order, amount: str = "5", **fields: Any) -> Refund:
    values: dict[str, Any] = {
        "order": order,
        "refund_request_id": uuid.uuid4().hex,
        "refund_amount": Decimal(amount),
        "refund_reason": "damaged",
        "status": RefundStatus.PENDING,
    }
    values.update(fields)
    return Refund.objects.create(**values)
