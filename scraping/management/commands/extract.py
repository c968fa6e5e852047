import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from scraping.extraction import UnknownExtractor, extract
from scraping.reporting import extraction_report


class Command(BaseCommand):
    help = (
        "Print, as JSON, what extraction reads from a saved page: price, regular price, "
        "currency, availability, title, identifiers, status and the source of each field."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="A saved HTML page.")
        parser.add_argument(
            "--url", help="The page's address; picks the extractor (default: its canonical link)."
        )
        parser.add_argument("--currency", help="The retailer's currency, e.g. USD, for '$'.")
        parser.add_argument("--extractor", help="Force an extractor by name.")

    def handle(self, *args, file: Path, url=None, currency=None, extractor=None, **options):
        try:
            html = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        try:
            extraction = extract(html, url=url, retailer_currency=currency, extractor=extractor)
        except UnknownExtractor as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(extraction_report(extraction), indent=2, ensure_ascii=False))
