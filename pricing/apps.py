from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = "Pricing"
    periodic_tasks = (
        {
            # After the daily probe run (04:00) has had time to finish.
            "name": "pricing: recompute recommendations",
            "task": "pricing.tasks.refresh_recommendations",
            "crontab": "0 6 * * *",
        },
        {
            # After the probes, before repricing, so the hold rule reads tonight's forecasts.
            "name": "pricing: train price forecasts",
            "task": "pricing.tasks.train_forecasts",
            "crontab": "30 5 * * *",
        },
        {
            # The dashboard shows its figures "as of" this refresh: at most 15 minutes old.
            "name": "pricing: refresh the market dashboard rollups",
            "task": "pricing.tasks.refresh_market_rollups",
            "crontab": "*/15 * * * *",
        },
    )

    def ready(self) -> None:
        from pricing import receivers  # noqa: F401 - connects the signal receivers
