"""Test factories for client applications and API keys (through the services, like production)."""

from itertools import count

from clients.models import ApiKey, ClientApplication
from clients.services import api_key_create, application_create

_seq = count(1)


def application_factory(*, name: str | None = None, **fields: object) -> ClientApplication:
    return application_create(name=name or f"app-{next(_seq)}", **fields)


def api_key_factory(
    *,
    application: ClientApplication | None = None,
    name: str = "backend",
    scopes: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """A key and its raw value."""
    return api_key_create(
        application=application or application_factory(), name=name, scopes=scopes
    )
