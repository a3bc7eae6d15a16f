"""clients/throttling.py"""

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIRequestFactory

from clients.throttling import (
    ApiKeyRateThrottle,
    KeyRateThrottles,
    OrderCreateRateThrottle,
    RefundRateThrottle,
    combined,
)
from paysvc.ratelimit import parse_rate, seconds_until_allowed
from tests.clients.views import ProbeView
from tests.factories import api_key_factory
from tests.live import free_port

pytestmark = pytest.mark.django_db

factory = APIRequestFactory()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(16_667 * 60.0)  # the start of a one-minute window
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", staticmethod(clock))
    return clock


def get(raw_key, view=ProbeView):
    request = factory.get("/api/v1/probe", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return view.as_view()(request)


def test_the_request_after_the_limit_is_429_with_retry_after_and_the_error_shape(settings, clock):
    settings.PAYSVC_API_RATE = "3/min"
    _, raw_key = api_key_factory()

    answers = [get(raw_key) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    error = refused.data["error"]
    assert error["code"] == "throttled"
    assert int(refused["Retry-After"]) == error["retryAfter"] > 0
    assert "throttled" in error["message"].lower()


def test_retry_after_says_when_a_request_fits_again(settings, clock):
    settings.PAYSVC_API_RATE = "3/min"
    _, raw_key = api_key_factory()
    clock.now = 60_000 * 60 + 10.0  # 10 s into a window
    for _ in range(3):
        get(raw_key)

    refused = get(raw_key)

    # Full window: 50 s to its end, then 20 s until 3 * (40/60) + 1 <= 3.
    assert refused["Retry-After"] == "70"
    clock.now += 69
    assert get(raw_key).status_code == 429
    clock.now += 1
    assert get(raw_key).status_code == 200


def test_a_burst_straddling_two_windows_is_still_limited(settings, clock):
    settings.PAYSVC_API_RATE = "3/min"
    _, raw_key = api_key_factory()
    clock.now = 60_000 * 60 + 59.9
    assert [get(raw_key).status_code for _ in range(3)] == [200, 200, 200]

    clock.now += 0.2  # the next window has begun

    assert get(raw_key).status_code == 429


def test_refused_requests_do_not_use_up_the_next_allowance(settings, clock):
    settings.PAYSVC_API_RATE = "2/min"
    _, raw_key = api_key_factory()
    for _ in range(10):
        get(raw_key)

    clock.now += 120  # two windows later nothing of the burst counts

    assert [get(raw_key).status_code for _ in range(3)] == [200, 200, 429]


def test_each_key_has_its_own_allowance(settings, clock):
    settings.PAYSVC_API_RATE = "1/min"
    _, raw_a = api_key_factory()
    _, raw_b = api_key_factory()

    assert get(raw_a).status_code == 200
    assert get(raw_a).status_code == 429
    assert get(raw_b).status_code == 200


def test_the_rate_is_read_from_settings_at_call_time(settings, clock):
    _, raw_key = api_key_factory()
    settings.PAYSVC_API_RATE = "1/min"
    assert get(raw_key).status_code == 200
    assert get(raw_key).status_code == 429

    settings.PAYSVC_API_RATE = "100/min"

    assert get(raw_key).status_code == 200


def test_no_rate_turns_the_throttle_off(settings, clock):
    settings.PAYSVC_API_RATE = None
    _, raw_key = api_key_factory()

    assert all(get(raw_key).status_code == 200 for _ in range(5))


class CreateView(ProbeView):
    throttle_classes = [ApiKeyRateThrottle, OrderCreateRateThrottle]


class RefundView(ProbeView):
    throttle_classes = [ApiKeyRateThrottle, RefundRateThrottle]


@pytest.mark.parametrize(
    ("view", "setting"),
    [(CreateView, "PAYSVC_ORDER_CREATE_RATE"), (RefundView, "PAYSVC_REFUND_RATE")],
)
def test_stricter_scopes_have_their_own_setting_and_counter(settings, clock, view, setting):
    settings.PAYSVC_API_RATE = "100/min"
    setattr(settings, setting, "2/min")
    _, raw_key = api_key_factory()

    assert [get(raw_key, view).status_code for _ in range(3)] == [200, 200, 429]
    assert get(raw_key, ProbeView).status_code == 200  # the general allowance is not spent


def test_default_rates():
    assert ApiKeyRateThrottle.default_rate == "600/min"
    assert OrderCreateRateThrottle.default_rate == "120/min"
    assert RefundRateThrottle.default_rate == "60/min"


def test_a_cache_outage_lets_requests_through(settings, clock):
    settings.PAYSVC_API_RATE = "1/min"
    _, raw_key = api_key_factory()
    # A Redis nobody listens on: every cache call fails at once.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    assert [get(raw_key).status_code for _ in range(3)] == [200, 200, 200]


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        ("600/min", (600, 60)),
        ("10/s", (10, 1)),
        ("5/second", (5, 1)),
        ("100/5min", (100, 300)),
        ("2/hour", (2, 3600)),
        ("1/day", (1, 86400)),
        (" 7 / m ", (7, 60)),
    ],
)
def test_parse_rate(rate, expected):
    assert parse_rate(rate) == expected


@pytest.mark.parametrize("rate", ["600", "600/fortnight", "0/min", "x/min", "10/0min", "-1/s"])
def test_parse_rate_names_the_setting_of_a_bad_rate(rate):
    with pytest.raises(ImproperlyConfigured, match="PAYSVC_API_RATE"):
        parse_rate(rate, setting="PAYSVC_API_RATE")


def test_a_bad_rate_setting_fails_loudly(settings, clock):
    settings.PAYSVC_API_RATE = "lots"
    _, raw_key = api_key_factory()

    with pytest.raises(ImproperlyConfigured):
        get(raw_key)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"limit": 3, "window": 60, "elapsed": 10, "previous": 0, "current": 3}, 70),
        ({"limit": 3, "window": 60, "elapsed": 30, "previous": 4, "current": 1}, 15),
        ({"limit": 3, "window": 60, "elapsed": 0, "previous": 6, "current": 1}, 50),
        ({"limit": 1, "window": 60, "elapsed": 0, "previous": 0, "current": 1}, 120),
    ],
)
def test_seconds_until_allowed(kwargs, expected):
    assert seconds_until_allowed(**kwargs) == pytest.approx(expected)


class CombinedCreateView(ProbeView):
    """As the merchant API counts them (clients.apis.MerchantApi.get_throttles)."""

    def get_throttles(self):
        return combined([ApiKeyRateThrottle(), OrderCreateRateThrottle()])


def test_combined_throttles_refuse_at_either_limit_with_retry_after(settings, clock):
    settings.PAYSVC_API_RATE = "3/min"
    settings.PAYSVC_ORDER_CREATE_RATE = "2/min"
    _, raw_key = api_key_factory()

    assert [get(raw_key, CombinedCreateView).status_code for _ in range(3)] == [200, 200, 429]
    refused = get(raw_key, CombinedCreateView)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    # Refused requests were counted against neither: the general allowance has one left.
    assert [get(raw_key, ProbeView).status_code for _ in range(2)] == [200, 429]


def test_combined_throttles_cost_one_redis_round_trip(settings, clock, monkeypatch):
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the one-round-trip script is Redis's")
    from redis.connection import Connection

    settings.PAYSVC_API_RATE = "100/min"
    settings.PAYSVC_ORDER_CREATE_RATE = "100/min"
    _, raw_key = api_key_factory()
    get(raw_key, CombinedCreateView)  # warm: the script is registered on first use
    sent = []
    original = Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)

    assert get(raw_key, CombinedCreateView).status_code == 200
    assert len(sent) == 1


def test_combined_leaves_a_lone_throttle_and_others_alone():
    general, other = ApiKeyRateThrottle(), object()

    assert combined([general]) == [general]
    both = combined([general, other, OrderCreateRateThrottle()])
    assert isinstance(both[0], KeyRateThrottles) and both[1] is other
    assert [t.scope for t in both[0].throttles] == ["api", "order_create"]
