"""The Celery worker's own Prometheus exporter.

Why an exporter of its own rather than a directory shared with the web processes: web and worker
are separate deployment units (separate containers in docker-compose, possibly separate hosts,
scaled independently), and prometheus_client's multiprocess files are named by pid. A shared
volume cannot be cleaned correctly: a pid says nothing across containers' pid namespaces, so
whoever starts first either deletes the other's live files (what gunicorn's on_starting did) or
keeps a dead run's values. So each role owns its directory (`paysvc.metrics_dir`), cleaned by
itself at start, and exports it itself; Prometheus scrapes every web and every worker target.

The exporter runs in the worker's main process (a thread started on `worker_init`, before the
pool forks) and merges the files of every pool process (prefork children write their own; a
replaced child's counters stay in its file and are still summed). It is enabled by
PAYSVC_WORKER_METRICS_PORT (0: off) on PAYSVC_WORKER_METRICS_ADDR and answers with the same
access rules as `GET /metrics` (`paysvc.metrics_access`). Start the worker with
`python -m paysvc.worker` so that its directory is claimed and emptied before any process
records a value.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from celery import signals

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log: a scrape every 15 s is noise."""


def metrics_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """WSGI app: the merged metrics of PROMETHEUS_MULTIPROC_DIR, behind the access rules."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    from paysvc.metrics_access import WWW_AUTHENTICATE, access_error

    if environ.get("PATH_INFO") != "/metrics":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: GET /metrics\n"]
    refused = access_error(
        remote_addr=environ.get("REMOTE_ADDR", ""),
        authorization=environ.get("HTTP_AUTHORIZATION", ""),
    )
    if refused is not None:
        status, reason = refused
        headers = [("Content-Type", "text/plain")]
        if status == 401:
            headers.append(("WWW-Authenticate", WWW_AUTHENTICATE))
        start_response(f"{status} {'Unauthorized' if status == 401 else 'Forbidden'}", headers)
        return [reason.encode() + b"\n"]
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
    return [generate_latest(registry)]


def start_exporter(addr: str, port: int) -> _ThreadingWSGIServer:
    """Serve `metrics_app` on addr:port in a daemon thread; raises OSError if the port is busy."""
    server = make_server(
        addr, port, metrics_app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="metrics-exporter", daemon=True)
    thread.start()
    return server


@signals.worker_init.connect
def _start_on_worker_init(**kwargs: object) -> None:
    from django.conf import settings

    port = settings.PAYSVC_WORKER_METRICS_PORT
    if not port:
        return
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        raise RuntimeError("PAYSVC_WORKER_METRICS_PORT needs PROMETHEUS_MULTIPROC_DIR")
    addr = settings.PAYSVC_WORKER_METRICS_ADDR
    # A busy port stops the worker here, with the port named, rather than running unobserved.
    try:
        start_exporter(addr, port)
    except OSError as exc:
        raise RuntimeError(
            f"worker metrics exporter cannot listen on {addr}:{port} "
            f"(PAYSVC_WORKER_METRICS_PORT): {exc.strerror}"
        ) from exc
    logger.info("worker metrics on http://%s:%s/metrics", addr, port)


@signals.task_postrun.connect
def _count_task(sender: Any = None, state: str | None = None, **kwargs: object) -> None:
    from paysvc.metrics import CELERY_TASKS

    CELERY_TASKS.labels(task=getattr(sender, "name", "unknown"), state=state or "UNKNOWN").inc()


@signals.worker_process_shutdown.connect
def _mark_dead(pid: int | None = None, **kwargs: object) -> None:
    """A pool child's live gauges must not outlive it (its counters do, and are still summed)."""
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid or os.getpid())
