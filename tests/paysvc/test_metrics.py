"""/metrics access rules, and the Celery worker's own exporter (paysvc/worker_metrics.py)."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from paysvc.tasks import heartbeat
from tests import leakcheck
from tests.live import child_env, free_port, running, wait_for_url, wait_until

TOKEN = "metrics-token-for-tests-0123456789abcdef"
leakcheck.register(TOKEN, "metrics token (tests/paysvc/test_metrics.py)")


@pytest.mark.django_db
def test_metrics_are_served_to_loopback_by_default(client):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert b"paysvc_webhooks_received_total" in response.content


@pytest.mark.django_db
def test_metrics_are_refused_to_other_addresses_even_with_a_forwarded_loopback(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="127.0.0.1")

    assert response.status_code == 403
    assert b"paysvc_" not in response.content


@pytest.mark.django_db
def test_an_allowed_network_is_served(client, settings):
    settings.PAYSVC_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer"])
def test_with_a_token_set_a_missing_or_wrong_bearer_gets_401(client, settings, authorization):
    settings.PAYSVC_METRICS_TOKEN = TOKEN
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"paysvc_" not in response.content


@pytest.mark.django_db
def test_with_a_token_set_the_right_bearer_is_served(client, settings):
    settings.PAYSVC_METRICS_TOKEN = TOKEN

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200


# --- The worker's exporter, live ---------------------------------------------------------------


def scrape(url: str, token: str | None = TOKEN) -> tuple[int, str]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _status(url: str) -> int | None:
    try:
        return scrape(url)[0]
    except OSError:
        return None


def heartbeats_counted(text: str) -> float:
    match = re.search(
        r'^paysvc_celery_tasks_total\{state="SUCCESS",task="paysvc.heartbeat"\} (\S+)$', text, re.M
    )
    return float(match[1]) if match else 0.0


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_the_worker_exports_its_pool_processes_metrics_and_web_cannot_wipe_them(tmp_path):
    worker_dir, web_dir = tmp_path / "prometheus-worker", tmp_path / "prometheus-web"
    metrics_port, web_port = free_port(), free_port()
    exporter = f"http://127.0.0.1:{metrics_port}/metrics"
    env = child_env(
        {"PAYSVC_METRICS_TOKEN": TOKEN, "PAYSVC_WORKER_METRICS_PORT": str(metrics_port)}
    )
    worker = [
        sys.executable, "-m", "paysvc.worker", "-l", "INFO", "--pool", "prefork",
        "--concurrency", "2", "--without-heartbeat", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    gunicorn = [
        sys.executable, "-m", "gunicorn", "paysvc.wsgi", "--config", "python:paysvc.gunicorn_conf",
        "--bind", f"127.0.0.1:{web_port}", "--workers", "1",
    ]  # fmt: skip
    worker_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(worker_dir)}
    with running(worker, worker_env, tmp_path / "worker.log") as worker_proc:
        listening = wait_until(lambda: _status(exporter) == 200 or worker_proc.poll(), timeout=60)
        assert listening and worker_proc.poll() is None, (tmp_path / "worker.log").read_text()
        for _ in range(6):
            heartbeat.delay()
        counted = wait_until(lambda: heartbeats_counted(scrape(exporter)[1]) == 6, timeout=60)
        assert counted, scrape(exporter)[1][-2000:] + (tmp_path / "worker.log").read_text()[-3000:]
        # Counted in the pool's children (prefork), merged by the exporter in the main process.
        assert len(list(worker_dir.glob("counter_*.db"))) >= 2

        assert scrape(exporter, token=None)[0] == 401
        assert scrape(exporter, token="wrong")[0] == 401

        # The web processes start with their own directory: the worker's values stay.
        web_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(web_dir)}
        with running(gunicorn, web_env, tmp_path / "web.log") as web_proc:
            wait_for_url(f"http://127.0.0.1:{web_port}/healthz", timeout=60, proc=web_proc)
            assert heartbeats_counted(scrape(exporter)[1]) == 6
            web_status, web_text = scrape(f"http://127.0.0.1:{web_port}/metrics")
            assert web_status == 200
            assert heartbeats_counted(web_text) == 0  # not counted twice

        # Given the worker's directory by mistake, gunicorn refuses to start and deletes nothing.
        shared_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(worker_dir)}
        refused = subprocess.run(
            gunicorn, env=shared_env, capture_output=True, text=True, timeout=60
        )
        assert refused.returncode != 0
        assert f"PROMETHEUS_MULTIPROC_DIR={worker_dir} belongs to the worker" in refused.stderr
        assert heartbeats_counted(scrape(exporter)[1]) == 6


def test_the_worker_refuses_a_directory_owned_by_the_web_processes(tmp_path):
    (tmp_path / ".paysvc-metrics-role").write_text("web\n")
    (tmp_path / "counter_1.db").write_bytes(b"web's values")
    env = child_env({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})

    done = subprocess.run(
        [sys.executable, "-m", "paysvc.worker", "--version"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert done.returncode == 2
    assert "belongs to the web processes" in done.stderr
    assert (tmp_path / "counter_1.db").read_bytes() == b"web's values"
