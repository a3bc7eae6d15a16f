"""Project-level bookkeeping models (nothing financial lives here)."""

from django.db import models


class Heartbeat(models.Model):
    """The last time a background component proved it was running (e.g. the Celery worker)."""

    name = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
