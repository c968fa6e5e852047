"""The forecast API: per listing and product, the runs with their metrics, and a forecast whose
model lost to the last value saying so instead of a number."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from pricing.models import ForecastModelRun, ListingForecast
from tests.factories import ListingFactory, ProductFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 13, tzinfo=UTC)
METRICS = {
    "mae_model": 80.0,
    "mae_last_value": 100.0,
    "mae_rolling_median": 95.0,
    "mase_model": 0.8,
    "mase_last_value": 1.0,
    "mase_rolling_median": 0.95,
    "coverage": 0.81,
}


@pytest.fixture
def api():
    return APIClient()


def a_run(version=1, status=ForecastModelRun.Status.SUCCEEDED, **fields) -> ForecastModelRun:
    defaults = {
        "trained_at": NOW,
        "horizons": [7, 30],
        "drop_threshold": Decimal("0.05"),
        "metrics": {"7": METRICS, "30": METRICS | {"mae_model": 120.0}},
        "beaten_horizons": [7],
        "notes": {"30": "the model did not beat the last-value baseline at 30 days"},
    }
    return ForecastModelRun.objects.create(version=version, status=status, **(defaults | fields))


def a_forecast(run, listing, horizon, beats) -> ListingForecast:
    return ListingForecast.objects.create(
        model_run=run,
        listing=listing,
        horizon_days=horizon,
        origin_date=NOW.date(),
        base_price=Decimal("9000.00"),
        expected_price=Decimal("9400.00"),
        interval_low=Decimal("9100.00"),
        interval_high=Decimal("9700.00"),
        currency="USD",
        drop_probability=Decimal("0.125"),
        beats_baseline=beats,
        generated_at=NOW,
    )


@pytest.fixture
def forecasts():
    product = ProductFactory()
    listing = ListingFactory(product=product)
    other = ListingFactory()
    run = a_run()
    a_forecast(run, listing, 7, beats=True)
    a_forecast(run, listing, 30, beats=False)
    a_forecast(run, other, 7, beats=True)
    return product, listing, other


def test_forecasts_need_an_account(api, forecasts):
    assert api.get("/api/forecasts").status_code == 401
    assert api.get("/api/forecast-models").status_code == 401


def test_a_products_forecasts_show_numbers_only_where_the_model_beat_last_value(
    api, user, forecasts
):
    product, listing, _ = forecasts
    api.force_authenticate(user)

    body = api.get("/api/forecasts", {"product": product.pk}).json()

    seven, thirty = body["results"]
    assert (seven["listing"], seven["horizon_days"], seven["shown"]) == (listing.pk, 7, True)
    assert seven["expected_price"] == "9400.00"
    assert seven["interval_low"] == "9100.00"
    assert seven["drop_probability"] == "0.125000"
    assert seven["drop_threshold"] == "0.050000"
    assert seven["model_version"] == 1
    assert seven["hidden_reason"] == ""
    assert thirty["shown"] is False
    assert thirty["expected_price"] is None
    assert thirty["interval_low"] is None
    assert thirty["drop_probability"] is None
    assert thirty["hidden_reason"] == "the model did not beat the last-value baseline at 30 days"


def test_forecasts_filter_by_listing_and_horizon(api, user, forecasts):
    _, _, other = forecasts
    api.force_authenticate(user)

    by_listing = api.get("/api/forecasts", {"listing": other.pk}).json()["results"]
    by_horizon = api.get("/api/forecasts", {"horizon": 30}).json()["results"]

    assert [row["listing"] for row in by_listing] == [other.pk]
    assert [row["horizon_days"] for row in by_horizon] == [30]


@pytest.mark.parametrize(
    ("field", "value"),
    [("listing", "1e30"), ("listing", "99999999999999999999"), ("product", "-1"), ("horizon", "8")],
)
def test_a_filter_value_that_cannot_match_is_a_400_naming_the_field(
    api, user, forecasts, field, value
):
    api.force_authenticate(user)

    response = api.get("/api/forecasts", {field: value})

    assert response.status_code == 400
    assert field in response.json()


def test_only_the_latest_successful_run_is_served(api, user, forecasts):
    _, listing, _ = forecasts
    a_run(version=2, status=ForecastModelRun.Status.FAILED, error="ValueError: boom")
    newer = a_run(version=3)
    a_forecast(newer, listing, 7, beats=True)
    api.force_authenticate(user)

    rows = api.get("/api/forecasts").json()["results"]

    assert [row["model_version"] for row in rows] == [3]


def test_model_runs_list_their_metrics_and_failures(api, user, forecasts):
    a_run(version=2, status=ForecastModelRun.Status.FAILED, error="ValueError: boom")
    api.force_authenticate(user)

    failed, succeeded = api.get("/api/forecast-models").json()["results"]

    assert failed["status"] == "failed"
    assert failed["error"] == "ValueError: boom"
    assert succeeded["metrics"]["7"]["mase_model"] == 0.8
    assert succeeded["beaten_horizons"] == [7]


def test_forecasts_are_read_only(api, admin_user, forecasts):
    api.force_authenticate(admin_user)

    assert api.post("/api/forecasts", {}, format="json").status_code == 405
    assert api.post("/api/forecast-models", {}, format="json").status_code == 405
