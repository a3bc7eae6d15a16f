from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from campaigns.calllog import durable
from campaigns.selectors import task_cache_clear
from tests.factories import ApplicationFactory

COMPLETION = "/web3/v1/task/completion"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    # Rate-limit counters live in the cache, task definitions in a per-process cache, the call
    # log in files: every test starts from none of them.
    settings.PAYSVC_WEB3_LOG_DIR = str(tmp_path / "web3-log")
    cache.clear()
    task_cache_clear()
    durable.close()
    yield
    durable.close()
    task_cache_clear()
    cache.clear()


@pytest.fixture
def application(db):
    return ApplicationFactory(name="shop")


@pytest.fixture
def web3() -> Client:
    """Binance's side of the Web3 API. CSRF checks on, as for every real caller (Django's test
    client skips them by default, which once hid a CSRF 403 behind a passing 405 test)."""
    return Client(enforce_csrf_checks=True)


def completion(
    client: Client,
    wallet: str | None,
    tasks: Any = None,
    *,
    meta: dict[str, str] | None = None,
    **params: Any,
) -> Any:
    """GET the completion endpoint; `tasks` as a list is sent as a JSON array; `meta` are
    request META entries (REMOTE_ADDR, HTTP_X_FORWARDED_FOR)."""
    query: dict[str, Any] = dict(params)
    if wallet is not None:
        query["walletAddress"] = wallet
    if tasks is not None:
        query["task"] = tasks if isinstance(tasks, str) else json.dumps(tasks)
    return client.get(COMPLETION, query, **(meta or {}))


def envelope(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) == {"code", "message", "data"}
    return body
