from celery import shared_task

from pricing.forecasting.services import forecast_models_train
from pricing.market.services import market_rollups_refresh
from pricing.services import recommendations_refresh


@shared_task(acks_late=True, ignore_result=True)
def refresh_recommendations() -> int:
    return recommendations_refresh().raised


@shared_task(acks_late=True, ignore_result=True)
def train_forecasts(source: str = "probes") -> int:
    """Nightly: a new forecast model run; a failed run is recorded, not raised."""
    return forecast_models_train(source=source).version


@shared_task(acks_late=True, ignore_result=True)
def refresh_market_rollups() -> int:
    """Every 15 minutes: the market dashboard's rollups brought up to now (idempotent: a second
    run only recomputes today's and yesterday's rows and rebuilds the snapshots)."""
    return market_rollups_refresh().refresh.pk
