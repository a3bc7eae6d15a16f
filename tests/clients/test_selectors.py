"""clients/selectors.py"""

import psycopg
import pytest
from django.db import connection

from clients.keys import generate_raw_key
from clients.selectors import api_key_get_active_by_raw
from clients.services import api_key_revoke, application_update
from tests.factories import api_key_factory

pytestmark = pytest.mark.django_db


def test_finds_the_key_with_its_application_in_one_query(key_and_raw, django_assert_num_queries):
    api_key, raw_key = key_and_raw

    with django_assert_num_queries(1):
        found = api_key_get_active_by_raw(raw_key=raw_key)
        assert found.application.name == "shop"

    assert found == api_key


def test_unknown_key_is_none(key_and_raw):
    assert api_key_get_active_by_raw(raw_key=generate_raw_key()) is None


def test_malformed_key_is_none_without_a_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert api_key_get_active_by_raw(raw_key="psk_live_short") is None
        assert api_key_get_active_by_raw(raw_key="") is None


def test_revoked_key_is_none(key_and_raw):
    api_key, raw_key = key_and_raw
    api_key_revoke(api_key=api_key)

    assert api_key_get_active_by_raw(raw_key=raw_key) is None


def test_key_of_an_inactive_application_is_none(key_and_raw, application):
    _, raw_key = key_and_raw
    other_key, other_raw = api_key_factory()
    application_update(application=application, is_active=False)

    assert api_key_get_active_by_raw(raw_key=raw_key) is None
    assert api_key_get_active_by_raw(raw_key=other_raw) == other_key


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="CONN_HEALTH_CHECKS is on for PostgreSQL only"
)
@pytest.mark.django_db(transaction=True)
def test_on_a_dead_connection_the_lookup_reconnects_and_finds_the_key(key_and_raw):
    """The lookup is each request's health check (paysvc.dbhealth): a connection the database
    dropped costs a reconnect, not a failed request."""
    api_key, raw_key = key_and_raw
    connection.ensure_connection()
    old_pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [old_pid])
    connection.health_check_enabled = True
    connection.health_check_done = False  # as at the start of a request

    found = api_key_get_active_by_raw(raw_key=raw_key)

    assert found == api_key and found.application.name == "shop"
    assert found.scopes == api_key.scopes  # JSON decoded as the ORM does
    assert connection.connection.info.backend_pid != old_pid
