"""Reads on client applications and API keys."""

import functools

from django.db import connection, connections
from django.views.decorators.debug import sensitive_variables

from clients.keys import hash_key, is_well_formed
from clients.models import ApiKey, ClientApplication
from paysvc.bulk import from_db_values
from paysvc.dbhealth import first_query_checks_health


@sensitive_variables("raw_key")
def api_key_get_active_by_raw(*, raw_key: str) -> ApiKey | None:
    """Return the usable key whose raw value is `raw_key` (with its application), else None.

    None covers malformed, unknown and revoked keys and keys of inactive applications alike. The
    lookup is an equality match on the key's SHA-256, so no comparison of secrets happens in
    Python and constant-time comparison is moot.

    It is the first query of every merchant API request, and a read: it doubles as the
    connection's health check (paysvc.dbhealth), one round trip instead of two. Its statement
    is built once (`_active_key_sql`): compiling the ORM's ``select_related`` query cost more
    than running it.
    """
    if not is_well_formed(raw_key):
        return None
    key_hash = hash_key(raw_key)

    def read() -> list[tuple[object, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(_active_key_sql(connection.alias), [key_hash])
            return cursor.fetchall()

    rows = first_query_checks_health(read)
    if not rows:
        return None
    key_fields, app_fields = ApiKey._meta.concrete_fields, ClientApplication._meta.concrete_fields
    row = rows[0]  # key_hash is unique
    api_key = ApiKey.from_db(
        connection.alias,
        [f.attname for f in key_fields],
        from_db_values(key_fields, row[: len(key_fields)], connection),
    )
    api_key.application = ClientApplication.from_db(
        connection.alias,
        [f.attname for f in app_fields],
        from_db_values(app_fields, row[len(key_fields) :], connection),
    )
    return api_key


@functools.lru_cache(maxsize=4)
def _active_key_sql(alias: str) -> str:
    """The key with ``key_hash = %s``, not revoked, of an active application, with the
    application's columns after the key's (what ``select_related`` reads)."""
    qn = connections[alias].ops.quote_name
    key, app = ApiKey._meta, ClientApplication._meta
    columns = [f"k.{qn(f.column)}" for f in key.concrete_fields]
    columns += [f"a.{qn(f.column)}" for f in app.concrete_fields]

    def col(meta: object, name: str) -> str:
        return qn(meta.get_field(name).column)  # type: ignore[attr-defined]

    # Identifiers come from the models' meta, quoted; the one value is a parameter.
    return (
        f"SELECT {', '.join(columns)} FROM {qn(key.db_table)} k "  # noqa: S608  # nosec B608
        f"INNER JOIN {qn(app.db_table)} a ON a.{qn(app.pk.column)} = k.{col(key, 'application')} "
        f"WHERE k.{col(key, 'key_hash')} = %s AND k.{col(key, 'revoked_at')} IS NULL "
        f"AND a.{col(app, 'is_active')}"
    )
