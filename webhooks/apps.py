from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Binance Pay webhook intake: the raw inbox (WebhookEvent), verification and processing."""

    name = "webhooks"
    verbose_name = "Binance webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from webhooks import gauges  # noqa: F401 - registers the /metrics state gauges
