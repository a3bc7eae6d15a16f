"""Reads on client applications and API keys."""

from django.views.decorators.debug import sensitive_variables

from clients.keys import hash_key, is_well_formed
from clients.models import ApiKey


@sensitive_variables("raw_key")
def api_key_get_active_by_raw(*, raw_key: str) -> ApiKey | None:
    """Return the usable key whose raw value is `raw_key` (with its application), else None.

    None covers malformed, unknown and revoked keys and keys of inactive applications alike. The
    lookup is an equality match on the key's SHA-256, so no comparison of secrets happens in
    Python and constant-time comparison is moot.
    """
    if not is_well_formed(raw_key):
        return None
    try:
        return ApiKey.objects.select_related("application").get(
            key_hash=hash_key(raw_key), revoked_at__isnull=True, application__is_active=True
        )
    except ApiKey.DoesNotExist:
        return None
