import json

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask


class Command(BaseCommand):
    help = (
        "Write the Celery beat schedule that each app declares (AppConfig.periodic_tasks) into "
        "the database. Idempotent: run it on every deploy."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        declared = [
            entry
            for config in apps.get_app_configs()
            for entry in getattr(config, "periodic_tasks", ())
        ]
        for entry in declared:
            minute, hour, day_of_month, month_of_year, day_of_week = entry["crontab"].split()
            schedule, _ = CrontabSchedule.objects.get_or_create(
                minute=minute,
                hour=hour,
                day_of_month=day_of_month,
                month_of_year=month_of_year,
                day_of_week=day_of_week,
                timezone="UTC",
            )
            PeriodicTask.objects.update_or_create(
                name=entry["name"],
                defaults={
                    "task": entry["task"],
                    "crontab": schedule,
                    "interval": None,
                    "kwargs": json.dumps(entry.get("kwargs", {})),
                    "enabled": True,
                },
            )
        self.stdout.write(f"Beat schedule: {len(declared)} periodic tasks in place.")
