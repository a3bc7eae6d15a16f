"""Ownership of a Prometheus multiprocess directory (PROMETHEUS_MULTIPROC_DIR).

prometheus_client keeps one file per process and metric type in that directory, named by pid, and
whoever exports merges every file there. Each exporting role owns its own directory: the web
processes (merged by `GET /metrics`) and the Celery worker (merged by its exporter,
`paysvc.worker_metrics`). They must not share one: a role empties its directory when it starts
(files of an earlier run would be added to this run's counters, or reused by a new process that
got an old pid), which would delete the other role's live files, and each exporter would report
the other's values too, counted twice by Prometheus. `claim` makes that mistake fail at start-up
with the directory named, instead of losing metrics silently.
"""

from __future__ import annotations

from pathlib import Path

MARKER = ".paysvc-metrics-role"


class SharedMetricsDirError(RuntimeError):
    """The directory already belongs to another role."""


def claim(folder: str | Path, role: str) -> Path:
    """Make `folder` this role's, emptied of metric files; raise SharedMetricsDirError if another
    role owns it.

    Call it once when a role starts, before its processes record anything (gunicorn's
    on_starting, `python -m paysvc.worker` before it execs Celery).
    """
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    marker = path / MARKER
    owner = marker.read_text().strip() if marker.exists() else ""
    if owner and owner != role:
        raise SharedMetricsDirError(
            f"PROMETHEUS_MULTIPROC_DIR={path} belongs to the {owner} processes; give the {role} "
            f"processes a directory of their own (README, Metrics). Nothing was deleted."
        )
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    marker.write_text(role + "\n")
    return path
