from django.apps import AppConfig


class ScrapingConfig(AppConfig):
    name = "scraping"
    verbose_name = "Scraping"
    periodic_tasks = (
        {
            # Picks up provider jobs whose callback was lost (or never sent, in development).
            "name": "scraping: poll the scraping provider for finished jobs",
            "task": "scraping.tasks.poll_provider_jobs",
            "crontab": "*/15 * * * *",
            "kwargs": {"older_than_seconds": 900},
        },
        {
            "name": "scraping: daily probe of every enabled listing",
            "task": "scraping.tasks.probe_all",
            "crontab": "0 4 * * *",
        },
        {
            "name": "scraping: purge stored pages past retention",
            "task": "scraping.tasks.purge_probe_pages",
            "crontab": "30 3 * * *",
        },
    )
