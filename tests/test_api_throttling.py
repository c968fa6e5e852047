"""Rate limits on the API: seed 1's 100 an hour anonymous, 1000 an hour for an account.

DRF reads the rates once, into SimpleRateThrottle.THROTTLE_RATES, so override_settings cannot
change them; these tests patch that dict instead.
"""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def throttle_counts_start_empty(settings):
    # The default file cache outlives the test run; throttle counts kept there would add up
    # across runs until the suite itself is throttled.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def three_an_hour(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/hour", "user": "3/hour"})


@pytest.fixture
def clock(monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(lambda: now[0]))
    return now


def api_views(patterns=None):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from api_views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            if view is not None and issubclass(view, APIView):
                yield pattern.pattern, view


def test_every_api_view_is_throttled_at_the_rates_in_settings():
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    views = list(api_views())

    assert len(views) >= 12  # the catalog's list and detail routes, the schema and its docs
    for route, view in views:
        throttles = view().get_throttles()
        assert [type(t) for t in throttles] == [AnonRateThrottle, UserRateThrottle], route
        assert [t.rate for t in throttles] == [rates["anon"], rates["user"]], route


def test_a_signed_in_account_gets_a_429_once_its_hourly_allowance_is_spent(
    api_client, user, three_an_hour
):
    api_client.force_login(user)

    statuses = [api_client.get("/api/watches").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_a_429_says_when_to_come_back(api_client, user, three_an_hour, clock):
    api_client.force_login(user)
    for _ in range(3):
        api_client.get("/api/watches")
    clock[0] += 600

    response = api_client.get("/api/watches")

    assert response.status_code == 429
    assert response["Retry-After"] == "3000"


def test_the_allowance_comes_back_as_the_hour_passes(api_client, user, three_an_hour, clock):
    api_client.force_login(user)
    for _ in range(3):
        api_client.get("/api/watches")
    clock[0] += 3601

    assert api_client.get("/api/watches").status_code == 200


def test_each_account_has_its_own_allowance(api_client, user, three_an_hour):
    api_client.force_login(user)
    for _ in range(3):
        api_client.get("/api/watches")
    other = APIClient()
    other.force_login(UserFactory())

    assert api_client.get("/api/watches").status_code == 429
    assert other.get("/api/watches").status_code == 200


def test_one_allowance_covers_every_endpoint_the_schema_included(api_client, user, three_an_hour):
    api_client.force_login(user)
    api_client.get("/api/watches")
    api_client.get("/api/retailers")
    api_client.get("/api/listings")

    assert api_client.get("/api/schema/").status_code == 429


def test_an_anonymous_caller_is_refused_and_then_throttled_at_the_anonymous_rate(api_client, db):
    allowance, _ = AnonRateThrottle().parse_rate(AnonRateThrottle().get_rate())

    statuses = [api_client.get("/api/watches").status_code for _ in range(allowance + 1)]

    assert statuses[:allowance] == [401] * allowance
    assert statuses[allowance] == 429
