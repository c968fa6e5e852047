from django.apps import AppConfig


class ScrapingConfig(AppConfig):
    name = "scraping"
    verbose_name = "Scraping"
    periodic_tasks = (
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
