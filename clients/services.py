"""Writes on client applications and API keys. Every change to these rows goes through here.

Secrets (raw keys, notification secrets, key hashes) are returned to the caller at most once and
never logged; log lines identify a key by its display prefix.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from clients.keys import display_prefix, generate_notification_secret, generate_raw_key, hash_key
from clients.models import ApiKey, ClientApplication, OrderApiVersion
from clients.scopes import ALL_SCOPES, DEFAULT_SCOPES

logger = logging.getLogger(__name__)

# last_used_at is informational ("is this key still in use?"); a minute's resolution spares the
# database a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# The display prefix holds only 3 random characters (64**3 values), so two keys can share one
# once there are a few hundred; a new key is drawn again when that happens.
_KEY_CREATE_ATTEMPTS = 8


def scopes_validate(*, scopes: Iterable[str] | None) -> list[str]:
    """Return `scopes` deduplicated in canonical order; `None` means `DEFAULT_SCOPES`.

    Raises ValidationError naming every unknown scope, or when the list is empty.
    """
    if scopes is None:
        return list(DEFAULT_SCOPES)
    requested = list(scopes)
    unknown = [scope for scope in requested if scope not in ALL_SCOPES]
    if unknown:
        raise ValidationError(
            "Unknown scope(s): %(unknown)s. Valid scopes: %(valid)s.",
            code="invalid_scope",
            params={"unknown": ", ".join(unknown), "valid": ", ".join(ALL_SCOPES)},
        )
    if not requested:
        raise ValidationError("An API key needs at least one scope.", code="no_scope")
    return [scope for scope in ALL_SCOPES if scope in requested]


def application_create(
    *,
    name: str,
    default_notify_url: str = "",
    is_active: bool = True,
    order_api_version: str = OrderApiVersion.V3,
) -> ClientApplication:
    """Create a client application with a fresh notification secret.

    The secret is on the returned object; show it to its owner now, it is never displayed again
    (`application_notification_secret_rotate` issues a new one). Raises ValidationError for a
    blank or taken name or an invalid URL.
    """
    application = ClientApplication(
        name=name,
        default_notify_url=default_notify_url,
        is_active=is_active,
        order_api_version=order_api_version,
    )
    application.full_clean()
    application.save(force_insert=True)
    logger.info(
        "client application created",
        extra={"application": application.pk, "applicationName": application.name},
    )
    return application


def application_update(
    *,
    application: ClientApplication,
    name: str | None = None,
    default_notify_url: str | None = None,
    is_active: bool | None = None,
    order_api_version: str | None = None,
) -> ClientApplication:
    """Change the given fields (None leaves a field alone). Raises ValidationError.

    A new ``order_api_version`` applies to orders created from then on; existing orders keep the
    version they were created with (their Binance calls after creation are the same).
    """
    changes = {
        field: value
        for field, value in (
            ("name", name),
            ("default_notify_url", default_notify_url),
            ("is_active", is_active),
            ("order_api_version", order_api_version),
        )
        if value is not None and getattr(application, field) != value
    }
    if not changes:
        return application
    for field, value in changes.items():
        setattr(application, field, value)
    application.full_clean()
    application.save(update_fields=list(changes))
    logger.info(
        "client application updated",
        extra={"application": application.pk, "fields": ",".join(sorted(changes))},
    )
    return application


def application_notification_secret_rotate(*, application: ClientApplication) -> str:
    """Give the application a new notification secret and return it (the only time it is shown).

    Callbacks signed from now on use the new secret; the old one stops verifying immediately.
    """
    secret = generate_notification_secret()
    application.notification_secret = secret
    application.save(update_fields=["notification_secret"])
    logger.info(
        "client application notification secret rotated", extra={"application": application.pk}
    )
    return secret


@sensitive_variables("raw_key")
def api_key_create(
    *,
    application: ClientApplication,
    name: str,
    scopes: Iterable[str] | None = None,
    created_by: AbstractBaseUser | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for `application`; return the row and the raw key.

    The raw key exists only in the return value: the row stores its SHA-256 and display prefix.
    `scopes=None` grants `DEFAULT_SCOPES`. Raises ValidationError for an unknown scope, an empty
    scope list, a blank name, or an inactive application.
    """
    scope_list = scopes_validate(scopes=scopes)
    if not application.is_active:
        raise ValidationError(
            "Application %(name)s is inactive.", code="inactive", params={"name": application.name}
        )
    template = ApiKey(application=application, name=name, scopes=scope_list)
    template.full_clean(exclude=["prefix", "key_hash"], validate_unique=False)

    for _attempt in range(_KEY_CREATE_ATTEMPTS):
        raw_key = generate_raw_key()
        api_key = ApiKey(
            application=application,
            name=name,
            prefix=display_prefix(raw_key),
            key_hash=hash_key(raw_key),
            scopes=scope_list,
            created_by=created_by,
        )
        try:
            with transaction.atomic():
                api_key.save(force_insert=True)
        except IntegrityError:
            if ApiKey.objects.filter(prefix=api_key.prefix).exists():
                continue  # display-prefix collision: draw another key
            raise
        logger.info(
            "api key created",
            extra={
                "prefix": api_key.prefix,
                "application": application.pk,
                "scopes": ",".join(scope_list),
            },
        )
        return api_key, raw_key
    raise RuntimeError("could not draw an API key with an unused display prefix")


def api_key_revoke(*, api_key: ApiKey, by: AbstractBaseUser | None = None) -> ApiKey:
    """Revoke a key: from now on it authenticates nothing. Idempotent (the first date is kept)."""
    now = timezone.now()
    # Conditional update: two concurrent revocations keep the first revocation date.
    updated = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now)
    api_key.refresh_from_db(fields=["revoked_at"])
    if updated:
        logger.info(
            "api key revoked", extra={"prefix": api_key.prefix, "byUser": getattr(by, "pk", None)}
        )
    return api_key


def api_key_touch(*, api_key: ApiKey) -> bool:
    """Record that the key was just used, at most once per `LAST_USED_RESOLUTION`.

    Returns whether a write happened. Best effort: a database error is logged, not raised, so that
    bookkeeping never fails the request that authenticated with the key.
    """
    now = timezone.now()
    threshold = now - LAST_USED_RESOLUTION
    if api_key.last_used_at is not None and api_key.last_used_at > threshold:
        return False  # the row was just read; no query needed
    try:
        with transaction.atomic():
            # The condition makes concurrent requests of one key (across processes) write once.
            updated = (
                ApiKey.objects.filter(pk=api_key.pk)
                .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=threshold))
                .update(last_used_at=now)
            )
    except DatabaseError:
        logger.warning(
            "could not record the use of an api key",
            extra={"prefix": api_key.prefix},
            exc_info=True,
        )
        return False
    if updated:
        api_key.last_used_at = now
    return bool(updated)
