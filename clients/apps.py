from django.apps import AppConfig


class ClientsConfig(AppConfig):
    """Client applications (the merchants' backends), their API keys, and API access control."""

    name = "clients"
    verbose_name = "Client applications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the drf-spectacular extension that documents the bearer scheme.
        from clients import schema  # noqa: F401
