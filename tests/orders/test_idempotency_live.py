"""A real kill: gunicorn's worker is SIGKILLed while an Idempotency-Key request is inside Binance's
Create Order call; the client's retries are told to wait (409, Retry-After) until the dead
request's lease lapses, then one of them takes over and answers the order, created once.

One gunicorn (1 gthread worker, so the kill takes the request's process; the master starts a new
worker), the session's sandbox as Binance, the test database shared with the test process.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orders.models import CreateState, IdempotencyRecord, Order, OrderEvent
from tests.conftest import SANDBOX_API_KEY, SANDBOX_SECRET, LiveSandbox
from tests.factories import ApplicationFactory, api_key_factory, order_body
from tests.live import child_env, free_port, running, wait_for_url, wait_until

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 10  # long enough to outlast the worker's restart, so the first retry waits


class Web:
    def __init__(self, url: str, master: Any, log: Path) -> None:
        self.url, self.master, self.log = url, master, log

    def worker_pid(self) -> int:
        children = Path(f"/proc/{self.master.pid}/task/{self.master.pid}/children").read_text()
        pids = [int(pid) for pid in children.split()]
        assert len(pids) == 1, pids
        return pids[0]

    def post_order(self, raw_key: str, body: dict[str, Any], key: str) -> tuple[int, Any, Any]:
        request = urllib.request.Request(  # noqa: S310 - loopback
            self.url + "/api/v1/orders",
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {raw_key}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read()), response.headers
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read()), exc.headers


@pytest.fixture(scope="module")
def web(
    django_db_setup: Any, django_db_blocker: Any, live_sandbox: LiveSandbox, tmp_path_factory: Any
) -> Iterator[Web]:
    logs = tmp_path_factory.mktemp("idempotency-kill")
    port = free_port()
    with django_db_blocker.unblock():
        env = child_env(
            {
                "BINANCE_PAY_BASE_URL": live_sandbox.url,
                "BINANCE_PAY_API_KEY": SANDBOX_API_KEY,
                "BINANCE_PAY_SECRET_KEY": SANDBOX_SECRET,
                "BINANCE_PAY_WEBHOOK_URL": "",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "PAYSVC_IDEMPOTENCY_LEASE_SECONDS": str(LEASE_SECONDS),
                "PAYSVC_IDEMPOTENCY_RETRY_AFTER_SECONDS": "1",
            }
        )
    argv = [
        sys.executable, "-m", "gunicorn", "paysvc.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--worker-class", "gthread", "--threads", "4", "--timeout", "60",
    ]  # fmt: skip
    with running(argv, env, logs / "gunicorn.log") as master:
        url = f"http://127.0.0.1:{port}"
        wait_for_url(url + "/healthz", timeout=60, proc=master)
        yield Web(url, master, logs / "gunicorn.log")


def test_a_worker_killed_inside_create_order_is_taken_over_after_its_lease(web, live_sandbox):
    _key, raw = api_key_factory(application=ApplicationFactory(order_api_version="v2"))
    body = order_body()
    # Binance holds the Create Order call 20 s and never processes it (a timeout fault).
    live_sandbox.clear_faults()
    live_sandbox.fault(mode="timeout", seconds=20, count=1, path="/v2/order")
    first: list[Any] = []

    def send_first() -> None:
        try:
            first.append(web.post_order(raw, body, "checkout-kill"))
        except Exception as exc:  # the worker died under it (connection reset, no answer)
            first.append(exc)

    thread = threading.Thread(target=send_first)
    thread.start()
    try:
        in_call = wait_until(
            lambda: (
                Order.objects.filter(create_state=CreateState.PENDING).exists()
                and not live_sandbox.control("GET", "/faults")[1]["faults"]  # the call took it
            ),
            timeout=30,
        )
        assert in_call, web.log.read_text()[-3000:]
        os.kill(web.worker_pid(), signal.SIGKILL)
        killed_at = time.monotonic()
    finally:
        thread.join(timeout=30)
        live_sandbox.clear_faults()
    assert first and isinstance(first[0], Exception), first  # the first request got no answer
    trade_no = Order.objects.get().merchant_trade_no

    statuses, waits = [], []
    for _attempt in range(60):
        status, answer, headers = web.post_order(raw, body, "checkout-kill")
        statuses.append(status)
        if status != 409:
            break
        assert answer["error"]["code"] == "request_in_progress"
        waits.append(int(headers["Retry-After"]))
        time.sleep(waits[-1])
    answered_after = time.monotonic() - killed_at

    print(
        f"\nkilled inside Create Order; retries {statuses}, answered {answered_after:.1f} s after "
        f"the kill (lease {LEASE_SECONDS} s)"
    )
    assert statuses[0] == 409 and waits[0] == 1  # the lease was still live: wait, not 30 s held
    assert statuses[-1] == 201, answer
    assert answer["merchantTradeNo"] == trade_no  # the dead request's order, resumed
    assert Order.objects.count() == 1
    calls = OrderEvent.objects.filter(order__merchant_trade_no=trade_no, kind="binance_call")
    paths = [e.detail["path"].rsplit("/openapi", 1)[1] for e in calls.order_by("id")]
    assert paths == ["/v2/order/query", "/v2/order"]  # asked first, then created once
    assert live_sandbox.order(trade_no)["prepayId"] == answer["prepayId"]
    assert IdempotencyRecord.objects.get().completed_at is not None
    replay = web.post_order(raw, body, "checkout-kill")
    assert replay[:2] == (201, answer) and replay[2]["Idempotent-Replayed"] == "true"
