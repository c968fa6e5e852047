from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"
    periodic_tasks = (
        {
            "name": "alerts: recommendations waiting for a decision",
            "task": "alerts.tasks.evaluate_time_based",
            "crontab": "*/15 * * * *",
        },
        {
            # Retries whose time has come, and deliveries whose task was lost.
            "name": "alerts: send due deliveries",
            "task": "alerts.tasks.deliver_due",
            "crontab": "*/5 * * * *",
        },
        {
            "name": "alerts: daily digests",
            "task": "alerts.tasks.send_digests",
            "crontab": "0 7 * * *",
        },
    )

    def ready(self) -> None:
        from alerts import receivers  # noqa: F401 - connects the signal receivers
