"""clients/selectors.py"""

import pytest

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
