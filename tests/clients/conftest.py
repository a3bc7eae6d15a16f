import pytest
from django.core.cache import cache

from tests.clients.factories import api_key_factory, application_factory


@pytest.fixture(autouse=True)
def _empty_cache():
    # Rate-limit counters live in the cache; every test starts from none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def application(db):
    return application_factory(name="shop")


@pytest.fixture
def key_and_raw(application):
    return api_key_factory(application=application)
