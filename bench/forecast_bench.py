"""Forecast benchmark: the price forecasts against the naive baselines, by rolling-origin CV.

    .venv/bin/python bench/forecast_bench.py [--days 365] [--probe-days 180] [--end 2026-11-30]
    .venv/bin/python bench/forecast_bench.py --skip-db      # the simulated history only

1. The demo marketplace's simulated history: every demo shop's daily price for every watch over
   `--days` days ending `--end` (scraping/demo_marketplace/history.py: the prices `offer_for`
   serves, with their trend, weekend markup, sales that revert and noise). The forecasting
   pipeline (pricing/forecasting/pipeline.py) evaluates each horizon by rolling-origin
   cross-validation (4 expanding-window folds; a fold trains only on targets known on its
   first test day), then fits on everything and forecasts every series.
2. A probe history in a throwaway database: the demo catalog is seeded, and each listing gets
   one Probe row a day over `--probe-days` days, read from the same simulation the way probes
   read it: no probe on about one day in ten, a blocked probe (no price) when the shop's bot
   wall stands at that hour, no price where the shop hides it. The nightly service,
   `pricing.forecasting.services.forecast_models_train()`, trains from those rows like it does
   in production and records a model run; the selectors then must hide every horizon the
   model did not win.

Printed per horizon: MAE and MASE of the model, of the last value and of the rolling median
(7 days), the model's 80% interval coverage, the drop-probability Brier score, and PASS/FAIL
for "the model beats the last value" (both MAE and MASE lower). Everything is measured in
this run; a FAIL is reported as it is, and the product hides that horizon.
"""

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support.database import setup_django, throwaway_django  # noqa: E402
from bench.support.measure import Verdicts, timed  # noqa: E402

HORIZONS = (7, 30)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365, help="simulated history (365)")
    parser.add_argument("--probe-days", type=int, default=180, help="probe history (180)")
    parser.add_argument(
        "--end",
        type=date.fromisoformat,
        default=date(2026, 11, 30),
        help="last day of history (2026-11-30: a fixed day, so every run prints the same)",
    )
    parser.add_argument("--skip-db", action="store_true", help="the simulated history only")
    return parser.parse_args()


def fmt(value, places=2) -> str:
    return "n/a" if value is None else f"{value:,.{places}f}"


def print_metrics(metrics_by_horizon: dict, verdicts: Verdicts, label: str) -> None:
    print(
        f"  {'horizon':>7} {'rows':>7} | {'MAE model':>10} {'last value':>10} {'roll. med.':>10}"
        f" | {'MASE model':>10} {'last value':>10} {'roll. med.':>10} | {'coverage':>8}"
        f" {'Brier':>6} {'drops':>6}"
    )
    for horizon, metrics in metrics_by_horizon.items():
        if not metrics:
            print(f"  {horizon:>5} d  not evaluated")
            verdicts.check(False, f"{label}: model beats last value at {horizon} days")
            continue
        print(
            f"  {horizon:>5} d {metrics['test_rows']:>7,} | {fmt(metrics['mae_model']):>10} "
            f"{fmt(metrics['mae_last_value']):>10} {fmt(metrics['mae_rolling_median']):>10} | "
            f"{fmt(metrics['mase_model'], 3):>10} {fmt(metrics['mase_last_value'], 3):>10} "
            f"{fmt(metrics['mase_rolling_median'], 3):>10} | {metrics['coverage']:>8.1%} "
            f"{metrics['drop_brier']:>6.3f} {metrics['drop_rate']:>6.1%}"
        )
    for horizon, metrics in metrics_by_horizon.items():
        if not metrics:
            continue
        mae_ratio = metrics["mae_model"] / metrics["mae_last_value"]
        mase_ratio = (
            metrics["mase_model"] / metrics["mase_last_value"]
            if metrics["mase_model"] is not None and metrics["mase_last_value"]
            else None
        )
        beats = metrics["mae_model"] < metrics["mae_last_value"] and (
            mase_ratio is None or mase_ratio < 1
        )
        verdicts.check(
            beats,
            f"{label}: model beats last value at {horizon} days (MAE ratio {mae_ratio:.3f}, "
            f"MASE ratio {fmt(mase_ratio, 3)})",
        )


def section_simulated(args: argparse.Namespace, verdicts: Verdicts) -> None:
    from pricing.forecasting.features import points_frame
    from pricing.forecasting.pipeline import train_and_forecast
    from scraping.demo_marketplace.history import READ_AT, market_history

    with timed() as simulating:
        rows = [
            (
                f"{point.retailer_slug}/{point.reference}",
                datetime.combine(point.day, READ_AT),
                point.price,
                point.currency,
                point.market_type,
            )
            for point in market_history(end=args.end, days=args.days)
        ]
        points = points_frame(rows)
    series = points["series_id"].nunique()
    print(
        f"{len(points):,} daily prices of {series} shop-watch series, "
        f"{points['at'].min():%Y-%m-%d} to {points['at'].max():%Y-%m-%d} "
        f"(simulated in {simulating.wall:.1f} s)"
    )
    with timed() as training:
        result = train_and_forecast(points, horizons=HORIZONS)
    print(
        f"evaluated (4 folds per horizon) and fitted in {training.wall:.1f} s wall, "
        f"{training.cpu:.1f} s CPU; {len(result.forecasts):,} forecasts"
    )
    print_metrics({h: r.metrics for h, r in result.horizons.items()}, verdicts, "simulated history")
    forecasts = result.forecasts
    inside = (forecasts["low"] <= forecasts["expected"]) & (
        forecasts["expected"] <= forecasts["high"]
    )
    verdicts.check(bool(inside.all()), "simulated history: every forecast lies inside its interval")


def record_probe_history(args: argparse.Namespace) -> int:
    from catalog.demo import seed_demo_catalog
    from catalog.models import Listing
    from scraping.demo_marketplace import offer_for
    from scraping.models import Probe

    seed_demo_catalog(today=args.end)
    rng = random.Random(7)  # which days a probe skipped: fixed, so every run is the same
    probes, stamps = [], []
    listings = Listing.objects.select_related("retailer", "product")
    for listing in listings:
        for offset in range(args.probe_days, 0, -1):
            day = args.end - timedelta(days=offset - 1)
            if rng.random() < 0.1:
                continue
            at = datetime.combine(day, clock_time(4 + rng.randrange(4), tzinfo=UTC))
            try:
                offer = offer_for(listing.retailer.slug, listing.product.reference, at)
            except KeyError:
                break
            if offer.redirect_to:
                status, price = Probe.Status.IDENTITY_MISMATCH, None
            elif offer.blocked:
                status, price = Probe.Status.BLOCKED, None
            elif offer.price_hidden:
                status, price = Probe.Status.PRICE_HIDDEN, None
            else:
                status, price = Probe.Status.SUCCESS, offer.price
            probes.append(
                Probe(
                    listing=listing,
                    status=status,
                    price=price,
                    currency=offer.currency if price is not None else "",
                    product_available=offer.available,
                )
            )
            stamps.append(at)
    created = Probe.objects.bulk_create(probes, batch_size=2000)
    for probe, at in zip(created, stamps, strict=True):
        probe.created_at = at
    Probe.objects.bulk_update(created, ["created_at"], batch_size=2000)
    return len(created)


def section_probes(args: argparse.Namespace, verdicts: Verdicts) -> None:
    from pricing.forecasting.selectors import forecasts_for_pricing, forecasts_list
    from pricing.forecasting.services import forecast_models_train
    from pricing.models import ForecastModelRun
    from scraping.models import Probe

    with timed() as recording:
        count = record_probe_history(args)
    successes = Probe.objects.filter(status=Probe.Status.SUCCESS).count()
    print(
        f"{count:,} probes recorded over {args.probe_days} days ({successes:,} with a price) "
        f"in {recording.wall:.1f} s (setup, not measured)"
    )
    now = datetime.combine(args.end + timedelta(days=1), clock_time(0, 30, tzinfo=UTC))
    with timed() as training:
        run = forecast_models_train(source="probes", now=now, history_days=args.probe_days + 1)
    if run.status != ForecastModelRun.Status.SUCCEEDED:
        print(f"model run v{run.version} failed: {run.error}")
        verdicts.check(False, "probe history: training succeeds")
        return
    print(
        f"model run v{run.version}: {run.series_count} listings, {run.price_days:,} listing-days, "
        f"{run.window_start} to {run.window_end}; trained in {training.wall:.1f} s wall"
    )
    print_metrics(
        {int(h): run.metrics.get(str(h)) for h in run.horizons}, verdicts, "probe history"
    )
    for horizon in run.horizons:
        note = run.notes.get(str(horizon))
        if note:
            print(f"  {horizon} days hidden: {note}")
    hidden_served = [
        horizon
        for horizon in run.horizons
        if horizon not in run.beaten_horizons
        and (
            forecasts_for_pricing(horizon=horizon, now=now)
            or forecasts_list(horizon=horizon).filter(beats_baseline=True).exists()
        )
    ]
    verdicts.check(
        not hidden_served, "probe history: no horizon the model lost is shown or used in pricing"
    )


def main() -> None:
    args = parse_args()
    began = time.perf_counter()
    verdicts = Verdicts()
    with throwaway_django("forecast-bench-") as database:
        setup_django()
        import numpy as np
        import pandas as pd
        import sklearn

        print(
            f"forecast benchmark, Python {sys.version.split()[0]}, scikit-learn "
            f"{sklearn.__version__}, pandas {pd.__version__}, numpy {np.__version__}"
        )
        print(f"\n1. the demo marketplace's simulated history, {args.days} days to {args.end}")
        section_simulated(args, verdicts)
        if not args.skip_db:
            print(f"\n2. a probe history in the database: {database}")
            section_probes(args, verdicts)
    verdicts.finish(began)


if __name__ == "__main__":
    main()
