"""The identity a request authenticated with an API key runs as (DRF's `request.user`)."""

from dataclasses import dataclass, field

from clients.models import ApiKey, ClientApplication


@dataclass(frozen=True)
class ClientPrincipal:
    """A client application acting through one of its API keys.

    Not a Django user: it has no permissions of its own, only its key's scopes. Two keys of the
    same application are the same `application` but different principals.
    """

    api_key: ApiKey
    application: ClientApplication = field(init=False)
    scopes: frozenset[str] = field(init=False)

    # Attributes DRF and Django code read from `request.user`.
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "application", self.api_key.application)
        object.__setattr__(self, "scopes", frozenset(self.api_key.scopes))

    @property
    def pk(self) -> int:
        """The application's id: what ownership checks compare."""
        return self.application.pk

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def __str__(self) -> str:
        return f"{self.application.name} ({self.api_key.prefix}…)"
