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
    )

    def ready(self) -> None:
        from pricing import receivers  # noqa: F401 - connects the signal receivers
