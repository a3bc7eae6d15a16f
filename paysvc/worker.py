"""`python -m paysvc.worker [celery worker options]`: the Celery worker, as deployed.

Claims PROMETHEUS_MULTIPROC_DIR for the worker (emptying an earlier run's files, refusing a
directory that belongs to the web processes: `paysvc.metrics_dir`) and then replaces itself with
`celery -A paysvc worker <options>`, so that the directory is clean before any worker process
records a value, and signals (Ctrl-C, SIGTERM from an orchestrator) go straight to Celery.
"""

from __future__ import annotations

import os
import sys

from paysvc.metrics_dir import SharedMetricsDirError, claim


def main(argv: list[str]) -> int:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        try:
            claim(folder, "worker")
        except SharedMetricsDirError as exc:
            print(f"paysvc.worker: {exc}", file=sys.stderr)
            return 2
    celery = [sys.executable, "-m", "celery", "-A", "paysvc", "worker", *argv]
    os.execv(sys.executable, celery)  # noqa: S606 - our own interpreter and argv


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
