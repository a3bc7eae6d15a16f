from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Signed status callbacks to merchants (order, refund and account-share events)."""

    name = "notifications"
    verbose_name = "Merchant notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notifications import gauges  # noqa: F401 - registers the /metrics state gauges
