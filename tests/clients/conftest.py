import pytest
from django.core.cache import cache

from tests.factories import ApplicationFactory, api_key_factory


@pytest.fixture(autouse=True)
def _empty_cache():
    # Rate-limit counters live in the cache; every test starts from none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def application(db):
    return ApplicationFactory(name="shop")


@pytest.fixture
def key_and_raw(application):
    return api_key_factory(application=application)
