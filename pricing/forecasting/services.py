"""Training forecasts from the database: read the price history, run the pipeline, record the
model run (failed ones too) and every listing's forecasts.

The fitted estimators are not persisted. Training takes seconds to a minute on this data and
runs nightly, and every forecast the product needs is stored when it is made; keeping a
pickle would add a file that executes code when loaded and breaks on a scikit-learn upgrade,
for nothing the stored forecasts don't already give.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from catalog.models import Listing
from pricing.forecasting import pipeline
from pricing.forecasting.features import points_frame
from pricing.models import ForecastModelRun, ListingForecast
from scraping.models import Probe

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
SHARE_PLACES = Decimal("0.000001")


def probe_history_points(*, since=None) -> pd.DataFrame:
    """Every successful probe's price of an active listing in the listing's current currency:
    the project's own price history. Prices in a currency the listing has since left are not
    the same series (a shop that switched from EUR to USD did not move its price by the rate)."""
    probes = Probe.objects.filter(
        status=Probe.Status.SUCCESS,
        price__isnull=False,
        listing__active=True,
        currency=F("listing__currency"),
    )
    if since is not None:
        probes = probes.filter(created_at__gte=since)
    rows = probes.order_by("listing_id", "created_at", "pk").values_list(
        "listing_id", "created_at", "price", "currency", "listing__retailer__market_type"
    )
    return points_frame(list(rows))


def demo_history_points(*, end: date, days: int) -> pd.DataFrame:
    """The demo marketplace's simulated daily prices for the active listings at demo shops."""
    from scraping.demo_marketplace.history import READ_AT, shop_history
    from scraping.demo_marketplace.inventory import inventory

    stock = inventory()
    known = {watch.reference for watch in stock.watches}
    rows = []
    listings = Listing.objects.filter(
        active=True, retailer__slug__in=list(stock.shops), product__reference__in=known
    ).values_list("pk", "retailer__slug", "product__reference")
    for listing_id, slug, reference in listings:
        for point in shop_history(slug, reference, end=end, days=days):
            rows.append(
                (
                    listing_id,
                    pd.Timestamp.combine(point.day, READ_AT),
                    point.price,
                    point.currency,
                    point.market_type,
                )
            )
    return points_frame(rows)


def _money(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(CENT, rounding=ROUND_HALF_UP)


def _share(value: float) -> Decimal:
    return Decimal(repr(min(max(float(value), 0.0), 1.0))).quantize(SHARE_PLACES)


def _next_version() -> int:
    return (ForecastModelRun.objects.aggregate(top=Max("version"))["top"] or 0) + 1


def forecast_models_train(
    *,
    source: str = ForecastModelRun.Source.PROBES,
    horizons: Sequence[int] = pipeline.HORIZONS,
    drop_threshold: Decimal = Decimal("0.05"),
    history_days: int = 365,
    n_folds: int = pipeline.N_FOLDS,
    min_train_days: int = pipeline.MIN_TRAIN_DAYS,
    params: dict | None = None,
    now=None,
    progress: Callable[[str], None] = lambda message: None,
) -> ForecastModelRun:
    """Train, evaluate and forecast; the run is recorded whatever happens, with its error."""
    now = now or timezone.now()
    with transaction.atomic():
        run = ForecastModelRun.objects.create(
            version=_next_version(),
            source=source,
            trained_at=now,
            horizons=list(horizons),
            drop_threshold=drop_threshold,
            parameters={
                "n_folds": n_folds,
                "min_train_days": min_train_days,
                "history_days": history_days,
                **(params or {}),
            },
        )
    progress(f"Model run v{run.version} ({run.get_source_display().lower()})")
    try:
        if source == ForecastModelRun.Source.DEMO:
            points = demo_history_points(end=now.date(), days=history_days)
        else:
            points = probe_history_points(since=now - timedelta(days=history_days))
        if points.empty:
            raise ValueError("no price history: no successful probe with a price")
        result = pipeline.train_and_forecast(
            points,
            horizons=horizons,
            drop_threshold=float(drop_threshold),
            n_folds=n_folds,
            min_train_days=min_train_days,
            params=params,
            progress=progress,
        )
        _record(run, result, now=now)
    except Exception as exc:
        logger.exception("Forecast model run v%s failed", run.version)
        run.status = ForecastModelRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        progress(f"Failed: {run.error}")
    return run


def _record(run: ForecastModelRun, result: pipeline.TrainingResult, *, now) -> None:
    beaten = [h for h, r in result.horizons.items() if r.beats_baseline]
    forecasts = result.forecasts
    existing = set(
        Listing.objects.filter(
            pk__in=[int(i) for i in forecasts["series_id"].unique()]
        ).values_list("pk", flat=True)
    )
    rows = [
        ListingForecast(
            model_run=run,
            listing_id=int(row.series_id),
            horizon_days=int(row.horizon),
            origin_date=row.origin_day.date(),
            base_price=_money(row.price),
            expected_price=_money(row.expected),
            interval_low=_money(row.low),
            interval_high=_money(row.high),
            currency=row.currency,
            drop_probability=_share(row.drop_probability),
            beats_baseline=int(row.horizon) in beaten,
            generated_at=now,
        )
        for row in forecasts.itertuples()
        if int(row.series_id) in existing
    ]
    with transaction.atomic():
        ListingForecast.objects.bulk_create(rows, batch_size=1000)
        run.status = ForecastModelRun.Status.SUCCEEDED
        run.finished_at = timezone.now()
        run.window_start = result.window_start.date() if result.window_start is not None else None
        run.window_end = result.window_end.date() if result.window_end is not None else None
        run.series_count = result.series
        run.price_days = result.rows
        run.features = list(result.features)
        run.metrics = {str(h): r.metrics for h, r in result.horizons.items()}
        run.beaten_horizons = beaten
        run.notes = {str(h): r.reason for h, r in result.horizons.items() if r.reason}
        run.save()
    pruned = forecasts_prune(keep=settings.FORECAST_RUNS_KEPT)
    if pruned:
        logger.info(
            "Deleted %s forecasts of runs before the latest %s", pruned, settings.FORECAST_RUNS_KEPT
        )


def forecasts_prune(*, keep: int) -> int:
    """Deletes the forecasts of every run but the latest `keep` successful ones (and any failed
    or running run after the oldest of those); the runs and their metrics stay. Returns the
    number of forecasts deleted."""
    kept = list(
        ForecastModelRun.objects.filter(status=ForecastModelRun.Status.SUCCEEDED)
        .order_by("-version")
        .values_list("version", flat=True)[: max(keep, 1)]
    )
    if not kept:
        return 0
    deleted, _ = ListingForecast.objects.filter(model_run__version__lt=min(kept)).delete()
    return deleted
