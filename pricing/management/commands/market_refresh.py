from django.core.management.base import BaseCommand

from pricing.market.services import market_rollups_refresh


class Command(BaseCommand):
    help = (
        "Refresh the market dashboard's rollups (product snapshot, probe days, movers) up to "
        "now, as the 15-minute beat task does; prints each step's rows and time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--full",
            action="store_true",
            help="recompute every day, not only those since the previous refresh (after a "
            "product's brand, category or list price changed and the history must follow)",
        )

    def handle(self, *args, full: bool = False, **options):
        report = market_rollups_refresh(full=full, progress=self.stdout.write)
        total = sum(report.seconds.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"market rollups as of {report.refresh.computed_at:%Y-%m-%d %H:%M:%S} UTC "
                f"in {total:.2f} s"
            )
        )
