import json

from django.core.management.base import BaseCommand, CommandError

from catalog.models import Listing, Retailer
from scraping.extraction import extract
from scraping.models import Probe
from scraping.reporting import extraction_report
from scraping.services import listing_probe
from scraping.transports import DirectTransport, PageUnavailable


class Command(BaseCommand):
    help = (
        "Fetch a page and show what extraction reads, as JSON. With --listing the probe is "
        "recorded like any other; with --url nothing is saved."
    )

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--listing", type=int, metavar="ID", help="Probe this listing.")
        target.add_argument("--url", help="Fetch and read this page without saving anything.")
        parser.add_argument("--currency", default="USD", help="Currency hint for --url.")

    def handle(self, *args, listing=None, url=None, currency="USD", **options):
        if listing is not None:
            self.stdout.write(json.dumps(self.probe_listing(listing), indent=2))
        else:
            self.stdout.write(json.dumps(self.read_url(url, currency), indent=2))

    def probe_listing(self, listing_id: int) -> dict:
        if not Listing.objects.filter(pk=listing_id).exists():
            raise CommandError(f"No listing with id {listing_id}.")
        probe = listing_probe(listing_id=listing_id, trigger=Probe.Trigger.COMMAND)
        if probe is None:
            raise CommandError(f"Listing {listing_id} is being probed by a worker right now.")
        return {
            "probe": probe.pk,
            "status": probe.status,
            "price": None if probe.price is None else str(probe.price),
            "regular_price": None if probe.regular_price is None else str(probe.regular_price),
            "currency": probe.currency,
            "available": probe.product_available,
            "title": probe.raw_title,
            "url": probe.url,
            "final_url": probe.final_url,
            "http_status": probe.http_status,
            "identity_matched_on": probe.identity_matched_on,
            "error": probe.error_message,
            "sources": probe.sources,
            "disagreements": probe.disagreements,
            "ledger_seq": probe.ledger_seq,
            "duration_ms": probe.duration_ms,
        }

    def read_url(self, url: str, currency: str) -> dict:
        try:
            page = DirectTransport().fetch(url, requests_per_minute=30)
        except PageUnavailable as exc:
            raise CommandError(f"{exc.status}: {exc}") from None
        retailer = retailer_for_url(url)
        report = extraction_report(
            extract(
                page.body,
                url=page.final_url,
                retailer_currency=retailer.currency if retailer else currency,
                extractor=retailer.extractor if retailer else None,
                selectors=retailer.selectors if retailer else None,
            )
        )
        return {
            "url": url,
            "final_url": page.final_url,
            "http_status": page.http_status,
            "retailer": retailer.name if retailer else None,
            **report,
        }


def retailer_for_url(url: str) -> Retailer | None:
    """The retailer whose base URL is the longest prefix of the URL: its extractor and
    selectors read the page as a probe of one of its listings would."""
    matches = [r for r in Retailer.objects.all() if url.startswith(r.base_url.rstrip("/") + "/")]
    return max(matches, key=lambda r: len(r.base_url), default=None)
