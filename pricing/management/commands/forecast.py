from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from pricing.forecasting.selectors import forecast_hidden_reason, forecasts_list
from pricing.forecasting.services import forecast_models_train
from pricing.models import ForecastModelRun


def share(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CommandError(f"--drop-threshold: {text!r} is not a number") from None
    if not 0 < value < 1:
        raise CommandError("--drop-threshold must be between 0 and 1, e.g. 0.05 for 5%")
    return value


class Command(BaseCommand):
    help = (
        "Price forecasts. `forecast train` trains, evaluates against the naive baselines and "
        "stores every listing's forecasts as a new model run; `forecast show` prints the latest "
        "run's metrics and forecasts."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="Train a new model run.")
        train.add_argument(
            "--source",
            choices=ForecastModelRun.Source.values,
            default=ForecastModelRun.Source.PROBES,
            help="probes (the project's own history, default) or demo (the demo marketplace's "
            "simulated history of the listings at demo shops)",
        )
        train.add_argument("--drop-threshold", type=share, default=Decimal("0.05"))
        train.add_argument("--days", type=int, default=365, help="history to learn from (365)")
        show = sub.add_parser("show", help="The latest run and its forecasts.")
        show.add_argument("--listing", type=int)
        show.add_argument("--product", type=int)

    def handle(self, *args, action, **options):
        if action == "train":
            self.train(**options)
        else:
            self.show(**options)

    def train(self, *, source, drop_threshold, days, **options):
        run = forecast_models_train(
            source=source,
            drop_threshold=drop_threshold,
            history_days=days,
            progress=lambda message: self.stdout.write(message),
        )
        if run.status == ForecastModelRun.Status.FAILED:
            raise CommandError(f"Model run v{run.version} failed: {run.error}")
        self.print_run(run)

    def print_run(self, run: ForecastModelRun) -> None:
        self.stdout.write(
            f"Model run v{run.version}: {run.status}, {run.series_count} listings, "
            f"{run.window_start} to {run.window_end}"
        )
        for horizon in run.horizons:
            metrics = run.metrics.get(str(horizon)) or {}
            verdict = "shown" if horizon in run.beaten_horizons else "hidden"
            if not metrics:
                self.stdout.write(f"  {horizon:>2} days: {verdict}: {run.notes.get(str(horizon))}")
                continue
            self.stdout.write(
                f"  {horizon:>2} days: {verdict}; MAE model {metrics['mae_model']:.2f}, last value "
                f"{metrics['mae_last_value']:.2f}, rolling median "
                f"{metrics['mae_rolling_median']:.2f}; MASE model {fmt(metrics['mase_model'])}, "
                f"last value {fmt(metrics['mase_last_value'])}; coverage "
                f"{metrics['coverage']:.0%}"
            )

    def show(self, *, listing, product, **options):
        run = ForecastModelRun.objects.order_by("-version").first()
        if run is None:
            raise CommandError("No model run yet: run `manage.py forecast train`.")
        if run.status == ForecastModelRun.Status.FAILED:
            self.stdout.write(f"Latest run v{run.version} failed: {run.error}")
        latest = ForecastModelRun.objects.filter(status=ForecastModelRun.Status.SUCCEEDED).first()
        if latest is None:
            return
        self.print_run(latest)
        for forecast in forecasts_list(listing_id=listing, product_id=product)[:200]:
            head = (
                f"listing {forecast.listing_id} ({forecast.listing.retailer.name}), "
                f"{forecast.horizon_days} days: "
            )
            if forecast.beats_baseline:
                self.stdout.write(
                    f"{head}{forecast.expected_price} {forecast.currency} "
                    f"[{forecast.interval_low}, {forecast.interval_high}], drop ≥ "
                    f"{latest.drop_threshold:.0%}: {forecast.drop_probability:.0%}"
                )
            else:
                self.stdout.write(f"{head}not shown: {forecast_hidden_reason(forecast)}")


def fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
