from django.core.management.base import BaseCommand

from catalog.demo import seed_demo_catalog


class Command(BaseCommand):
    help = "Build the demo luxury-watch catalog. Running it again changes nothing."

    def handle(self, *args, **options):
        summary = seed_demo_catalog()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalog: {summary.brands} brands, {summary.products} products, "
                f"{summary.retailers} retailers, {summary.listings} listings, "
                f"{summary.reviews} reviews ({summary.created} rows new, "
                f"{summary.scored} reviews scored for sentiment)."
            )
        )
