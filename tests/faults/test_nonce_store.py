"""The nonce store when the cache fails (in-process; the live case is test_broker's hung Redis).

A hung Redis answers nothing: every cache call waits for its socket timeout (0.5 s). Before the
fix each delivery paid it, so a 5 s hang at 50 webhooks/s queued requests up to 2.3 s (p50 1.5 s).
Now one failure pauses the store for NONCE_STORE_PAUSE_SECONDS, as webhooks.publish does for the
broker; the deliveries meanwhile are verified without it (signature, window, unique key).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from webhooks import verification

pytestmark = pytest.mark.django_db


class HungCache:
    """Counts calls; raises like redis-py after its socket timeout."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        raise TimeoutError("Timeout reading from socket")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(verification.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(verification, "_nonce_store_paused_until", 0.0)
    return now


def test_after_one_failure_the_nonce_store_is_left_alone_for_a_while(monkeypatch, clock):
    hung = HungCache()
    monkeypatch.setattr(cache, "add", hung)
    monkeypatch.setattr(cache, "get", hung)

    verification._check_nonce("a" * 32, b"{}")  # fails: skipped, logged, paused
    for _ in range(100):
        verification._check_nonce("b" * 32, b"{}")
    assert hung.calls == 1

    clock[0] += verification.NONCE_STORE_PAUSE_SECONDS + 0.1
    verification._check_nonce("c" * 32, b"{}")  # tried again after the pause
    assert hung.calls == 2


def test_once_the_cache_is_back_a_reused_nonce_is_refused_again(monkeypatch, clock):
    hung = HungCache()
    with monkeypatch.context() as patch:
        patch.setattr(cache, "add", hung)
        verification._check_nonce("d" * 32, b"{}")
    clock[0] += verification.NONCE_STORE_PAUSE_SECONDS + 0.1

    verification._check_nonce("e" * 32, b'{"a":1}')
    with pytest.raises(verification.Rejected) as refused:
        verification._check_nonce("e" * 32, b'{"a":2}')
    assert refused.value.reason == "nonce_reused"
