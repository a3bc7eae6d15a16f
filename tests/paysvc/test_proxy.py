"""nginx in front of gunicorn (deploy/nginx.conf.template): slow clients, forwarded headers, logs.

One gunicorn (paysvc.gunicorn_conf, 2 gthread workers x 4 threads, as deployed) and one nginx
(Debian's, from the template, TLS with a throwaway certificate) on free loopback ports. 50 slow
clients -- half sending a body one byte a second, half sending headers one line a second -- are
held while /healthz is probed: through nginx it keeps answering fast; against gunicorn alone it
does not, which is what the proxy is for.
"""

from __future__ import annotations

import base64
import re
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import RequestFactory

from backoffice.security import client_ip as admin_client_ip
from campaigns.guard import client_ip as web3_client_ip
from tests.live import child_env, free_port, running, wait_for_url, wait_until
from tests.proxy import NGINX, NGINX_MISSING_REASON, Nginx, SlowLoad, Target, nginx_config, probe

pytestmark = [pytest.mark.live, pytest.mark.skipif(NGINX is None, reason=NGINX_MISSING_REASON)]

SLOW_CLIENTS = 50
HOLD_SECONDS = 20
# gunicorn alone fails within the first second of the load (all 8 threads taken); 10 s of it is
# plenty to show that, and keeps the module's run time near 40 s.
UNPROXIED_HOLD_SECONDS = 10
P99_LIMIT_SECONDS = 0.5  # generous: ~10-30 ms measured on 2 loaded cores


@dataclass
class Stack:
    gunicorn: Target
    nginx: Target
    nginx_http: Target
    proxy: Nginx
    logs: Path

    def gunicorn_log(self) -> str:
        return (self.logs / "gunicorn.log").read_text(errors="replace")

    def tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
            for p in sorted(self.logs.glob("*.log"))
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("proxy")
    web_port, http_port, https_port = free_port(), free_port(), free_port()
    env = child_env(
        {
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "4",
            "PROMETHEUS_MULTIPROC_DIR": str(logs / "prometheus-web"),
        }
    )
    gunicorn = [
        sys.executable, "-m", "gunicorn", "paysvc.wsgi", "--config", "python:paysvc.gunicorn_conf",
        "--bind", f"127.0.0.1:{web_port}",
    ]  # fmt: skip
    proxy = nginx_config(
        logs, upstream=f"127.0.0.1:{web_port}", http_port=http_port, https_port=https_port
    )
    with (
        running(gunicorn, env, logs / "gunicorn.log") as web_proc,
        running(proxy.argv, {"PATH": "/usr/bin:/bin:/usr/sbin"}, logs / "nginx.log") as ngx_proc,
    ):
        wait_for_url(f"http://127.0.0.1:{web_port}/healthz", timeout=60, proc=web_proc)
        nginx = Target(https_port, tls=proxy.tls_context())
        assert wait_until(lambda: _answers(nginx), timeout=30), (logs / "nginx.log").read_text()
        assert ngx_proc.poll() is None
        yield Stack(Target(web_port), nginx, Target(http_port), proxy, logs)


def _answers(target: Target) -> bool:
    try:
        return target.get("/healthz", timeout=2)[0] == 200
    except OSError:
        return False


def _recovered(stack: Stack) -> None:
    """Each test starts with gunicorn serving again (the previous one's slow clients are gone)."""
    assert wait_until(lambda: _answers(stack.gunicorn), timeout=30), stack.tail()


def test_healthz_stays_fast_through_nginx_while_50_slow_clients_are_held(stack):
    _recovered(stack)

    with SlowLoad(stack.nginx, count=SLOW_CLIENTS) as load:
        time.sleep(1.5)  # every slow client connected and trickling
        result = probe(stack.nginx, "/healthz", seconds=HOLD_SECONDS)

    print(
        f"\nthrough nginx, {SLOW_CLIENTS} slow clients for {HOLD_SECONDS} s: {result.summary()}; "
        f"slow connections opened {load.connects}, cut off by nginx {load.closed_by_server}"
    )
    assert not result.failures, result.summary() + "\n" + stack.tail()
    assert len(result.latencies) >= HOLD_SECONDS * 3
    assert result.p99 < P99_LIMIT_SECONDS, result.summary()
    # The load was real: every slow client connected, and nginx cut the slow-header ones off
    # after client_header_timeout (10 s) while they were still sending (they reconnected).
    assert load.connects >= SLOW_CLIENTS
    assert load.closed_by_server >= SLOW_CLIENTS // 2, stack.tail()


def test_gunicorn_alone_stops_answering_under_the_same_slow_clients(stack):
    """The control experiment: without the proxy the same load takes every gunicorn thread."""
    _recovered(stack)

    with SlowLoad(stack.gunicorn, count=SLOW_CLIENTS):
        time.sleep(1.5)
        result = probe(stack.gunicorn, "/healthz", seconds=UNPROXIED_HOLD_SECONDS)

    print(f"\ngunicorn alone, {SLOW_CLIENTS} slow clients: {result.summary()}")
    assert result.failures, f"gunicorn alone kept answering: {result.summary()}"
    assert len(result.failures) > len(result.latencies)


def test_nginx_redirects_plain_http_to_https(stack):
    status, _body, headers = stack.nginx_http.get("/api/docs/", timeout=5)

    assert status == 301
    assert headers["Location"] == "https://127.0.0.1/api/docs/"


def test_nginx_refuses_bodies_over_1_mib_without_reaching_gunicorn(stack):
    sock = stack.nginx.connect(timeout=5)
    try:
        sock.sendall(
            b"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: big-body\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n"
        )
        answer = sock.recv(200)
    finally:
        sock.close()

    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert "big-body" not in stack.gunicorn_log()


def test_metrics_are_not_served_on_the_public_side(stack):
    assert stack.nginx.get("/metrics", timeout=5)[0] == 404


def test_forwarded_headers_name_the_real_peer_and_scheme_whatever_the_client_claims(
    stack, settings
):
    agent = f"forwarded-{uuid.uuid4().hex}"
    spoofed = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "http", "User-Agent": agent}

    assert stack.nginx.get("/healthz", timeout=5, headers=spoofed)[0] == 200

    assert wait_until(lambda: agent in stack.gunicorn_log(), timeout=10)
    line = next(line for line in stack.gunicorn_log().splitlines() if agent in line)
    forwarded_for = re.search(r'xff="([^"]*)"', line)[1]
    assert forwarded_for == "203.0.113.7, 127.0.0.1"
    assert "proto=https " in line  # nginx's $scheme replaced the client's "http"
    # What Django then takes as the client with one trusted hop (compose's setting): the peer
    # nginx saw, not the address the client wrote.
    settings.PAYSVC_ADMIN_TRUSTED_PROXIES = 1
    settings.PAYSVC_WEB3_PROXY_HOPS = 1
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded_for, REMOTE_ADDR="127.0.0.1")
    assert admin_client_ip(request) == "127.0.0.1"
    assert web3_client_ip(request) == "127.0.0.1"


def test_no_credential_reaches_the_access_logs(stack):
    """docs/reliability.md#46-secret-leakage: an API key sent as Basic auth user name
    (`curl -u KEY:`), a Bearer key, a session cookie and a token in the query string appear in
    neither access log."""
    key = "psk_live_" + uuid.uuid4().hex + "basicauthkey0000000"
    bearer = "psk_live_" + uuid.uuid4().hex + "bearerkey0000000000"
    cookie, query_token = uuid.uuid4().hex, uuid.uuid4().hex
    agent = f"credentials-{uuid.uuid4().hex}"
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
        "Cookie": f"sessionid={cookie}; csrftoken={cookie}",
        "User-Agent": agent,
    }
    for target in (stack.nginx, stack.gunicorn):
        target.get(f"/healthz?token={query_token}", timeout=5, headers=headers)
        target.get(
            "/healthz",
            timeout=5,
            headers={"Authorization": f"Bearer {bearer}", "User-Agent": agent},
        )

    assert wait_until(lambda: stack.gunicorn_log().count(agent) == 4, timeout=10)
    assert wait_until(lambda: stack.proxy.access_log.read_text().count(agent) == 2, timeout=10)
    for log in (stack.gunicorn_log(), stack.proxy.access_log.read_text()):
        for secret in (key, bearer, cookie, query_token):
            assert secret not in log
        assert "GET /healthz HTTP/1.1" in log
