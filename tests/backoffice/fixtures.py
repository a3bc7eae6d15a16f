"""Fixtures of the back-office tests (also imported by tests/orders/test_admin.py): staff users per
role, logged-in clients, a clean cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from tests.backoffice.factories import staff_user


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Every login hashes a password; the production hasher takes ~0.3 s on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def support_user(db):
    return staff_user("support", "Support")


@pytest.fixture
def finance_user(db):
    return staff_user("finance", "Finance")


@pytest.fixture
def superuser(db):
    return staff_user("root", superuser=True)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def support(support_user) -> Client:
    return _client(support_user)


@pytest.fixture
def finance(finance_user) -> Client:
    return _client(finance_user)


@pytest.fixture
def root(superuser) -> Client:
    return _client(superuser)
