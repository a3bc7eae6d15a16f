"""gunicorn settings shared by `make run`, docker-compose and the benchmarks.

Prometheus multiprocess mode keeps one file per process under PROMETHEUS_MULTIPROC_DIR: the
directory is emptied when gunicorn starts (values of a previous run must not be added to this
one's) and a dead worker's live gauges are dropped when it exits.
"""

import os
import shutil
from pathlib import Path

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
accesslog = "-"


def on_starting(server: object) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
