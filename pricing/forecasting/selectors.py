"""Reading forecasts: only the latest successful model run counts, and a horizon whose model did
not beat the last-value baseline is never shown as a number, only with the reason why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from pricing import engine
from pricing.models import ForecastModelRun, ListingForecast

PRICING_HORIZON = 7


def forecast_run_latest() -> ForecastModelRun | None:
    return (
        ForecastModelRun.objects.filter(status=ForecastModelRun.Status.SUCCEEDED)
        .order_by("-version")
        .first()
    )


def forecasts_list(
    *, listing_id: int | None = None, product_id: int | None = None, horizon: int | None = None
) -> QuerySet[ListingForecast]:
    """The latest successful run's forecasts, shown and hidden (each says which)."""
    run = forecast_run_latest()
    queryset = ListingForecast.objects.select_related(
        "model_run", "listing__retailer", "listing__product"
    ).order_by("listing_id", "horizon_days")
    if run is None:
        return queryset.none()
    queryset = queryset.filter(model_run=run)
    if listing_id is not None:
        queryset = queryset.filter(listing_id=listing_id)
    if product_id is not None:
        queryset = queryset.filter(listing__product_id=product_id)
    if horizon is not None:
        queryset = queryset.filter(horizon_days=horizon)
    return queryset


def forecast_hidden_reason(forecast: ListingForecast) -> str:
    """Why a forecast is not shown, or "" when it is."""
    if forecast.beats_baseline:
        return ""
    run = forecast.model_run
    note = run.notes.get(str(forecast.horizon_days))
    return note or (
        f"model v{run.version} did not beat the last-value baseline at {forecast.horizon_days} days"
    )


def forecasts_for_pricing(
    *, product_ids=None, horizon: int = PRICING_HORIZON, now=None
) -> dict[int, engine.Forecast]:
    """Listing id -> the shown forecast the hold_on_forecast_revert rule reads.

    A forecast whose horizon has passed (nightly training kept failing since) says nothing about
    the coming week, so it is left out.
    """
    now = now or timezone.now()
    queryset = forecasts_list(horizon=horizon).filter(
        beats_baseline=True, origin_date__gt=(now - timedelta(days=horizon)).date()
    )
    if product_ids is not None:
        queryset = queryset.filter(listing__product_id__in=list(product_ids))
    rows = queryset.values_list(
        "listing_id",
        "expected_price",
        "interval_low",
        "interval_high",
        "currency",
        "model_run__version",
        "horizon_days",
    )
    return {row[0]: engine.Forecast(*row) for row in rows}


@dataclass(frozen=True)
class HorizonView:
    horizon_days: int
    shown: bool
    expected_price: Decimal | None = None
    interval_low: Decimal | None = None
    interval_high: Decimal | None = None
    drop_probability: Decimal | None = None
    reason: str = ""


@dataclass
class ListingForecastView:
    listing_id: int
    retailer: str
    currency: str
    base_price: Decimal
    origin_date: object
    horizons: list[HorizonView] = field(default_factory=list)


@dataclass
class ProductForecasts:
    """What the product page shows: per listing, each horizon's forecast or why there is none."""

    model_version: int | None
    drop_threshold: Decimal | None
    generated_at: object
    listings: list[ListingForecastView] = field(default_factory=list)


def product_forecasts(*, product_id: int) -> ProductForecasts:
    run = forecast_run_latest()
    if run is None:
        return ProductForecasts(None, None, None)
    views: dict[int, ListingForecastView] = {}
    for forecast in forecasts_list(product_id=product_id).order_by(
        "listing__retailer__name", "horizon_days"
    ):
        view = views.setdefault(
            forecast.listing_id,
            ListingForecastView(
                forecast.listing_id,
                forecast.listing.retailer.name,
                forecast.currency,
                forecast.base_price,
                forecast.origin_date,
            ),
        )
        if forecast.beats_baseline:
            view.horizons.append(
                HorizonView(
                    forecast.horizon_days,
                    True,
                    forecast.expected_price,
                    forecast.interval_low,
                    forecast.interval_high,
                    forecast.drop_probability,
                )
            )
        else:
            view.horizons.append(
                HorizonView(forecast.horizon_days, False, reason=forecast_hidden_reason(forecast))
            )
    return ProductForecasts(
        run.version, run.drop_threshold, run.finished_at or run.trained_at, list(views.values())
    )
