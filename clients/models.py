"""Client applications (the merchants' backends calling the API) and their API keys.

Rows change only through `clients.services`. Neither the key nor anything that could be replayed
as one is stored: an `ApiKey` keeps the SHA-256 of its key and a short display prefix.
"""

from django.conf import settings
from django.db import models

from clients.keys import DISPLAY_PREFIX_LENGTH, generate_notification_secret


class OrderApiVersion(models.TextChoices):
    """Which Binance Create Order endpoint an application's orders go to (docs/binance-pay-v3.md).

    v3 is what Binance asks merchants to use; v2 is announced as going away. The merchant API takes
    the same body for both: paysvc builds each version's body from it.
    """

    V2 = "v2", "Create Order v2"
    V3 = "v3", "Create Order v3"


class ClientApplication(models.Model):
    """A merchant backend. Owns API keys, and the orders created with them."""

    name = models.CharField(max_length=100, unique=True)
    default_notify_url = models.URLField(
        max_length=500, blank=True, help_text="Where status callbacks go when an order names none."
    )
    # Kept in clear because it is needed to HMAC-sign outbound callbacks. Never displayed: it is
    # handed out once, by the service that creates or rotates it.
    notification_secret = models.CharField(
        max_length=64, default=generate_notification_secret, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(
        default=True, help_text="When off, every key of this application is refused."
    )
    order_api_version = models.CharField(
        max_length=2,
        choices=OrderApiVersion.choices,
        default=OrderApiVersion.V3,
        help_text="The Binance Create Order endpoint of this application's new orders.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """One API key of an application: its hash, display prefix, scopes and lifecycle dates."""

    application = models.ForeignKey(
        ClientApplication, on_delete=models.PROTECT, related_name="api_keys"
    )
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. 'shop backend'.")
    prefix = models.CharField(max_length=DISPLAY_PREFIX_LENGTH, unique=True, editable=False)
    # Hex SHA-256 of the whole key: see clients/keys.py for why a fast hash is the right one.
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    # Updated at most once a minute per key (services.api_key_touch), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
