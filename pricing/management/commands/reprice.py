from django.core.management.base import BaseCommand

from pricing.services import recommendations_refresh


class Command(BaseCommand):
    help = "Recompute recommended prices for the whole catalog and raise proposals."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Compute and summarise; write nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        summary = recommendations_refresh(dry_run=dry_run)
        verb = "would raise" if dry_run else "raised"
        self.stdout.write(
            f"{summary.evaluated} products evaluated: {verb} {summary.raised} new "
            f"recommendations, {summary.kept} open ones still right, {summary.superseded} "
            f"superseded, {summary.unchanged} already at the recommended price, "
            f"{summary.without_price} without a price to start from, {summary.warnings} with "
            "warnings."
        )
        if dry_run and summary.raised_product_ids:
            shown = ", ".join(map(str, summary.raised_product_ids[:20]))
            more = len(summary.raised_product_ids) - 20
            self.stdout.write(f"Products: {shown}" + (f" and {more} more" if more > 0 else ""))
