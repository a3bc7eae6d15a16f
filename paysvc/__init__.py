"""paysvc project wiring. The Celery app is imported here so that `shared_task` binds to it."""

from paysvc.celery import app as celery_app

__all__ = ["celery_app"]
