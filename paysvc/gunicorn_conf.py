"""gunicorn settings shared by `make run`, docker-compose, the benchmarks and the proxy tests.

In production gunicorn sits behind nginx (deploy/nginx.conf.template, README "Deployment"): nginx
buffers whole requests, so the gthread workers' threads only serve complete ones.

Prometheus multiprocess mode keeps one file per process under PROMETHEUS_MULTIPROC_DIR: the web
processes own that directory (`paysvc.metrics_dir.claim`), which is emptied when gunicorn starts
(values of a previous run must not be added to this one's), and a dead worker's live gauges are
dropped when it exits.
"""

import os

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Longer than nginx's upstream keepalive_timeout (30 s): the proxy closes an idle connection
# first, so it never reuses one that gunicorn is closing at that moment.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "60"))
accesslog = "-"
# The client as nginx saw it, the scheme nginx was reached by, method, path without its query
# string, status, bytes, milliseconds, user agent. Never %(u)s (the user name of HTTP Basic auth:
# a client may send its API key as `curl -u KEY:`), %(r)s or %(q)s (a query string may carry a
# token), %(f)s (a Referer may too), nor any Authorization or Cookie header
# (docs/reliability.md#46-secret-leakage).
access_log_format = (
    '%(h)s xff="%({x-forwarded-for}i)s" proto=%({x-forwarded-proto}i)s %(t)s '
    '"%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
)


def on_starting(server: object) -> None:
    from paysvc.metrics_dir import claim

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        claim(folder, "web")


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
