from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger"
    periodic_tasks = (
        {
            "name": "ledger: hourly checkpoint",
            "task": "ledger.tasks.make_checkpoint",
            "crontab": "5 * * * *",
        },
    )

    def ready(self) -> None:
        from ledger import receivers  # noqa: F401 - connects the signal receivers
