from django.core.management.base import BaseCommand

from catalog import sentiment, services
from catalog.models import Review


class Command(BaseCommand):
    help = (
        "Score review sentiment again, in batches. By default every review; --stale only those "
        "not yet scored by the current scorer."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--stale",
            action="store_true",
            help=f"Only reviews not scored by {sentiment.SCORER} (new scorer, or never scored).",
        )

    def handle(self, *args, batch_size: int, stale: bool, **options):
        queryset = Review.objects.all()
        if stale:
            queryset = queryset.exclude(sentiment_scorer=sentiment.SCORER)

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  {done:,} / {total:,} reviews scored")

        count = services.reviews_rescore(
            queryset=queryset, batch_size=max(1, batch_size), progress=progress
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Scored {count:,} review{'s' if count != 1 else ''} with {sentiment.SCORER}."
            )
        )
