"""Fixtures for notification tests: a local HTTP receiver, orders, eager Celery, a fake clock."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from notifications.models import Notification
from paysvc.celery import app as celery_app


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


def notify(
    *,
    event_type: str,
    order: Any = None,
    refund: Any = None,
    account_share: Any = None,
) -> Notification | None:
    """Emit an event as the orders services do; its first delivery, or None without one."""
    from orders.services.events import (
        account_share_event_emit,
        order_event_emit,
        refund_event_emit,
    )

    if refund is not None:
        event = refund_event_emit(event_type=event_type, refund=refund)
    elif account_share is not None:
        event = account_share_event_emit(share=account_share)
    else:
        event = order_event_emit(event_type=event_type, order=order)
    return event.deliveries.order_by("id").first()
