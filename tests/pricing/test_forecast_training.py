"""Training forecasts from real Probe rows, recording runs, hiding models that lose to the last
value, and the hold rule reading stored forecasts through the ORM edge."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.template.loader import render_to_string
from django.urls import reverse

from catalog.models import Retailer
from pricing import services
from pricing.forecasting.selectors import (
    forecasts_for_pricing,
    product_forecasts,
)
from pricing.forecasting.services import (
    forecast_models_train,
    forecasts_prune,
    probe_history_points,
)
from pricing.models import ForecastModelRun, ListingForecast, PricingRule
from pricing.tasks import train_forecasts
from scraping.models import Probe
from tests.factories import ListingFactory, ProductFactory, RetailerFactory
from tests.pricing.test_forecast_api import a_forecast, a_run

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 13, tzinfo=UTC)
SMALL = {"max_iter": 15, "max_leaf_nodes": 7}
FAST = {"horizons": (7,), "n_folds": 2, "min_train_days": 40, "params": SMALL, "now": NOW}


def record_history(listing, prices) -> None:
    """One successful probe a day, ending the day before NOW, stored as real Probe rows."""
    probes = Probe.objects.bulk_create(
        Probe(listing=listing, status=Probe.Status.SUCCESS, price=price, currency="USD")
        for price in prices
    )
    start = NOW - timedelta(days=len(prices))
    for day, probe in enumerate(probes):
        probe.created_at = start + timedelta(days=day, hours=2)
    Probe.objects.bulk_update(probes, ["created_at"])


def mean_reverting(days: int, level: float, seed: int) -> list[Decimal]:
    rng = np.random.default_rng(seed)
    deviation, prices = 0.0, []
    for _ in range(days):
        deviation = 0.7 * deviation + rng.normal(0, 0.015)
        sale = -0.1 if rng.random() < 0.1 else 0.0
        prices.append(Decimal(str(round(level * math.exp(deviation + sale), 2))))
    return prices


@pytest.fixture
def product_with_history():
    product = ProductFactory()
    markets = [Retailer.MarketType.GRAY_MARKET, Retailer.MarketType.BIG_BOX] * 2
    listings = []
    for number, market in enumerate(markets):
        retailer = RetailerFactory(market_type=market)
        listing = ListingFactory(product=product, retailer=retailer)
        record_history(listing, mean_reverting(150, 9000 + 500 * number, seed=number))
        listings.append(listing)
    return product, listings


def test_it_trains_from_probe_rows_and_stores_every_listings_forecast(product_with_history):
    product, listings = product_with_history

    run = forecast_models_train(**FAST)

    assert run.status == ForecastModelRun.Status.SUCCEEDED, run.error
    assert run.version == 1
    assert run.series_count == 4
    assert run.window_end == (NOW - timedelta(days=1)).date()
    seven = run.metrics["7"]
    for key in ("mae_model", "mae_last_value", "mae_rolling_median", "mase_model", "coverage"):
        assert seven[key] is not None
    assert run.beaten_horizons == [7], seven
    forecasts = ListingForecast.objects.filter(model_run=run)
    assert sorted(f.listing_id for f in forecasts) == sorted(li.pk for li in listings)
    for forecast in forecasts:
        assert forecast.interval_low <= forecast.expected_price <= forecast.interval_high
        assert forecast.expected_price == forecast.expected_price.quantize(Decimal("0.01"))
        assert Decimal(0) <= forecast.drop_probability <= Decimal(1)
        assert forecast.beats_baseline
    shown = product_forecasts(product_id=product.pk)
    assert shown.model_version == 1
    assert {view.listing_id for view in shown.listings} == {li.pk for li in listings}
    assert all(h.shown and h.expected_price for v in shown.listings for h in v.horizons)


def test_a_listing_trains_only_on_prices_in_its_current_currency():
    listing = ListingFactory(currency="EUR")
    record_history(listing, [Decimal("9000")] * 3)  # USD, before the shop switched
    Probe.objects.create(
        listing=listing, status=Probe.Status.SUCCESS, price=Decimal("8200"), currency="EUR"
    )

    points = probe_history_points()

    assert points["currency"].tolist() == ["EUR"]
    assert points["price"].tolist() == [8200.0]


def test_each_run_is_a_new_version_and_only_the_latest_success_is_read(product_with_history):
    product, listings = product_with_history
    first = forecast_models_train(**FAST)
    Probe.objects.all().delete()
    failed = forecast_models_train(**FAST)

    assert (first.version, failed.version) == (1, 2)
    assert failed.status == ForecastModelRun.Status.FAILED
    assert product_forecasts(product_id=product.pk).model_version == 1
    assert set(forecasts_for_pricing(product_ids=[product.pk], now=NOW)) == {
        li.pk for li in listings
    }


def test_old_runs_lose_their_forecasts_but_keep_their_metrics():
    listing = ListingFactory()
    runs = [a_run(version=version) for version in (1, 2, 3, 4)]
    failed = a_run(version=5, status=ForecastModelRun.Status.FAILED)
    for run in runs:
        a_forecast(run, listing, 7, beats=True)

    deleted = forecasts_prune(keep=2)

    assert deleted == 2
    assert set(ListingForecast.objects.values_list("model_run__version", flat=True)) == {3, 4}
    assert ForecastModelRun.objects.count() == 5
    assert failed.metrics and ForecastModelRun.objects.get(version=1).metrics


def test_each_training_prunes_runs_beyond_the_setting(product_with_history, settings):
    settings.FORECAST_RUNS_KEPT = 1

    first = forecast_models_train(**FAST)
    second = forecast_models_train(**FAST)

    assert not ListingForecast.objects.filter(model_run=first).exists()
    assert ListingForecast.objects.filter(model_run=second).count() == 4


def test_a_failed_training_is_recorded_with_its_error():
    run = forecast_models_train(**FAST)

    assert run.status == ForecastModelRun.Status.FAILED
    assert "no price history" in run.error
    assert run.finished_at is not None


def test_a_model_that_loses_to_the_last_value_is_recorded_but_not_shown():
    product = ProductFactory()
    listing = ListingFactory(
        product=product, retailer=RetailerFactory(market_type="official_boutique")
    )
    record_history(listing, [Decimal("8000.00")] * 120)

    run = forecast_models_train(**FAST)

    assert run.status == ForecastModelRun.Status.SUCCEEDED
    assert run.beaten_horizons == []
    assert "did not beat the last-value baseline" in run.notes["7"]
    (stored,) = ListingForecast.objects.filter(model_run=run)
    assert not stored.beats_baseline
    assert forecasts_for_pricing(product_ids=[product.pk], now=NOW) == {}
    (view,) = product_forecasts(product_id=product.pk).listings
    (horizon,) = view.horizons
    assert not horizon.shown
    assert horizon.expected_price is None
    assert "did not beat the last-value baseline" in horizon.reason


def test_a_history_too_short_to_evaluate_is_not_shown():
    listing = ListingFactory()
    record_history(listing, mean_reverting(30, 9000, seed=3))

    run = forecast_models_train(**FAST)

    assert run.beaten_horizons == []
    assert "not enough history" in run.notes["7"]


def test_the_command_trains_with_progress_and_shows_the_latest_run(product_with_history):
    product, _ = product_with_history
    out = StringIO()

    call_command("forecast", "train", stdout=out)
    call_command("forecast", "show", "--product", str(product.pk), stdout=out)

    text = out.getvalue()
    assert "Model run v1 (probe history)" in text
    assert "Evaluating the 7-day horizon" in text
    assert "fold 4/4" in text
    assert "MAE model" in text
    assert "30 days" in text


def test_the_command_fails_loudly_when_training_fails():
    with pytest.raises(CommandError, match="no price history"):
        call_command("forecast", "train", stdout=StringIO())
    with pytest.raises(CommandError, match="between 0 and 1"):
        call_command("forecast", "train", "--drop-threshold", "5", stdout=StringIO())


def test_the_nightly_task_records_a_run_even_when_it_fails():
    version = train_forecasts.apply().get()

    assert ForecastModelRun.objects.get(version=version).status == ForecastModelRun.Status.FAILED


# --- the hold rule through the ORM edge -------------------------------------------------------


def stored_forecast(listing, *, expected, low, beats=True) -> ListingForecast:
    run = ForecastModelRun.objects.create(
        version=ForecastModelRun.objects.count() + 1,
        status=ForecastModelRun.Status.SUCCEEDED,
        trained_at=NOW,
        horizons=[7],
        drop_threshold=Decimal("0.05"),
        beaten_horizons=[7] if beats else [],
    )
    return ListingForecast.objects.create(
        model_run=run,
        listing=listing,
        horizon_days=7,
        origin_date=NOW.date(),
        base_price=listing.last_price,
        expected_price=Decimal(expected),
        interval_low=Decimal(low),
        interval_high=Decimal(expected) + 500,
        currency="USD",
        drop_probability=Decimal("0.1"),
        beats_baseline=beats,
        generated_at=NOW,
    )


@pytest.fixture
def dropped_competitor():
    product = ProductFactory(list_price=Decimal("10000.00"), msrp=Decimal("12000.00"))
    listing = ListingFactory(
        product=product,
        last_price=Decimal("9000.00"),
        available=True,
        last_success_at=NOW - timedelta(hours=1),
        last_probed_at=NOW - timedelta(hours=1),
        last_probe_status="success",
    )
    PricingRule.objects.create(name="Undercut by 50", kind="undercut", amount=Decimal("50"))
    PricingRule.objects.create(
        name="Hold on a revert", kind="hold_on_forecast_revert", percent=Decimal("0.05")
    )
    return product, listing


def test_a_shown_forecast_holds_the_price_in_both_pricing_paths(dropped_competitor):
    product, listing = dropped_competitor
    stored_forecast(listing, expected="9800.00", low="9400.00")

    result = services.product_recommend(product=product, now=NOW)
    summary = services.recommendations_refresh(now=NOW, dry_run=True)

    assert result.price == Decimal("10000.00")
    hold = next(step for step in result.steps if step.kind == "hold_on_forecast_revert")
    assert hold.inputs["forecast_expected"] == Decimal("9800.00")
    assert hold.inputs["model_version"] == 1
    assert summary.unchanged == 1
    assert summary.raised == 0


def test_a_hidden_forecast_never_holds(dropped_competitor):
    product, listing = dropped_competitor
    stored_forecast(listing, expected="9800.00", low="9400.00", beats=False)

    result = services.product_recommend(product=product, now=NOW)
    summary = services.recommendations_refresh(now=NOW)

    assert result.price == Decimal("8950.00")
    assert summary.raised == 1
    assert product.recommendations.get().recommended_price == Decimal("8950.00")


def test_the_demo_source_trains_on_the_demo_marketplaces_simulated_history():
    product = ProductFactory(reference="126500LN")
    gray = ListingFactory(
        product=product,
        retailer=RetailerFactory(
            name="Chrono Plaza", slug="chrono-plaza", market_type="gray_market"
        ),
    )
    ListingFactory(product=product)  # not a demo shop: no simulated history

    run = forecast_models_train(source=ForecastModelRun.Source.DEMO, history_days=150, **FAST)

    assert run.status == ForecastModelRun.Status.SUCCEEDED, run.error
    assert run.series_count == 1
    assert run.window_end == NOW.date()
    assert list(run.forecasts.values_list("listing_id", flat=True)) == [gray.pk]


def test_the_forecast_partial_shows_numbers_for_won_horizons_and_reasons_for_lost_ones():
    product = ProductFactory()
    listing = ListingFactory(
        product=product, retailer=RetailerFactory(name="Steady Boutique"), last_price=Decimal("1")
    )
    won = stored_forecast(listing, expected="9800.00", low="9400.00")
    lost = stored_forecast(listing, expected="9700.00", low="9300.00", beats=False)
    lost.model_run.notes = {"7": "the model did not beat the last-value baseline at 7 days"}
    lost.model_run.save()
    won.model_run.delete()

    html = render_to_string(
        "pricing/_forecasts.html", {"forecasts": product_forecasts(product_id=product.pk)}
    )

    assert "Steady Boutique" in html
    assert "Not shown: the model did not beat the last-value baseline at 7 days" in html
    assert "9,700" not in html
    assert "Model v2" in html


def test_the_forecast_partial_says_when_no_model_was_trained():
    html = render_to_string(
        "pricing/_forecasts.html", {"forecasts": product_forecasts(product_id=1)}
    )

    assert "No forecast model has been trained yet." in html


def test_the_forecast_partial_shows_the_expected_price_interval_and_drop_chance():
    product = ProductFactory()
    listing = ListingFactory(product=product, last_price=Decimal("9000.00"))
    stored_forecast(listing, expected="9800.00", low="9400.00")

    html = render_to_string(
        "pricing/_forecasts.html", {"forecasts": product_forecasts(product_id=product.pk)}
    )

    assert "9,800.00" in html
    assert "9,400.00\u201310,300.00" in html  # an en dash between the bounds
    assert "Drop ≥ 5%" in html
    assert ">10%<" in html
    assert "Not shown" not in html


def test_a_forecast_whose_week_has_passed_no_longer_holds(dropped_competitor):
    product, listing = dropped_competitor
    stored_forecast(listing, expected="9800.00", low="9400.00")

    week_later = NOW + timedelta(days=7)
    listing.last_success_at = listing.last_probed_at = week_later
    listing.save()

    still_held = services.product_recommend(product=product, now=week_later - timedelta(days=1))
    result = services.product_recommend(product=product, now=week_later)

    assert still_held.price == Decimal("10000.00")
    assert result.price == Decimal("8950.00")


def test_the_product_page_shows_its_listings_forecasts(client, user):
    product = ProductFactory()
    listing = ListingFactory(
        product=product, retailer=RetailerFactory(name="Steady Boutique"), last_price=Decimal("1")
    )
    stored_forecast(listing, expected="9800.00", low="9400.00")
    client.force_login(user)

    page = client.get(reverse("pricing:product-detail", args=[product.pk])).content.decode()

    assert 'id="forecast-heading"' in page
    assert f'data-listing="{listing.pk}" data-horizon="7"' in page
    assert "9,800.00" in page
