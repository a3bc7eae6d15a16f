"""The Celery application shared by the worker, beat and the web process (which only publishes)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paysvc.settings")

app = Celery("paysvc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker's metrics exporter and task counters (signal handlers; inert in other processes).
import paysvc.worker_metrics  # noqa: E402, F401
