"""Probing a listing: claim it, fetch its page, read it, record the probe, and on success update
the listing and append the observation to the ledger.

A probe that fails in any way records why and leaves the listing's last good price alone.
"""

import hashlib
import logging
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote, urljoin

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import Listing, Product, Retailer
from catalog.services import ReviewIngest, ReviewInput, listing_rating_record, reviews_ingest
from ledger.models import LedgerEntry
from ledger.services import ledger_append
from scraping import discovery
from scraping.assessment import Assessment, assess_page
from scraping.extraction.reviews import extract_reviews
from scraping.models import Probe, ProbePage
from scraping.signals import probe_finished
from scraping.transports import DirectTransport, PageFetch, PageUnavailable, Transport

logger = logging.getLogger(__name__)


# --- Claiming -------------------------------------------------------------------------------


def listing_claim(*, listing_id: int) -> bool:
    """Take the listing for one probe; False when another worker holds it.

    One conditional UPDATE decides, so two workers never probe the same listing at once. The
    lease expires on its own, so a worker that dies does not hold the listing forever.
    """
    now = timezone.now()
    claimed = (
        Listing.objects.filter(pk=listing_id)
        .filter(Q(probe_lease_until__isnull=True) | Q(probe_lease_until__lt=now))
        .update(probe_lease_until=now + timedelta(seconds=settings.PROBE_LEASE_SECONDS))
    )
    return claimed == 1


def listing_release(*, listing_id: int) -> None:
    Listing.objects.filter(pk=listing_id).update(probe_lease_until=None)


# --- URLs -----------------------------------------------------------------------------------


def listing_probe_url(listing: Listing) -> str | None:
    """The listing's stored URL, else one made from the retailer's product URL pattern; None
    when only a search (discovery) can find it."""
    if listing.url:
        return listing.url
    retailer, product = listing.retailer, listing.product
    if retailer.product_url_pattern:
        path = retailer.product_url_pattern.format(
            brand=quote(slugify(product.brand.name)),
            reference=quote(slugify(product.reference.replace("/", "-").replace(".", "-"))),
            sku=quote(product.sku or listing.retailer_item_id),
            item_id=quote(listing.retailer_item_id),
        )
        return urljoin(retailer.base_url.rstrip("/") + "/", path.lstrip("/"))
    return None


def listing_discover_url(*, listing: Listing, transport: Transport) -> str:
    """Find the listing's page through the retailer's search page and save it on the listing.

    Raises PageUnavailable when the search cannot be read or shows no page for the product.
    """
    retailer = listing.retailer
    if not retailer.search_url_pattern:
        raise PageUnavailable(
            f"{listing} has no URL, and {retailer} has neither a product URL pattern nor a "
            "search URL pattern to find one.",
            status=Probe.Status.FAILED,
        )
    query = listing.product.reference
    page = transport.fetch(
        discovery.search_url(retailer.search_url_pattern, base_url=retailer.base_url, query=query),
        requests_per_minute=retailer.requests_per_minute,
        geo_location=retailer.geo_location,
    )
    link = discovery.find_product_link(
        page.body, page_url=page.final_url, identifiers=listing_identifiers(listing)
    )
    if link is None:
        raise PageUnavailable(
            f"{retailer}'s search for {query!r} shows no page for this product.",
            status=Probe.Status.NOT_FOUND,
            final_url=page.final_url,
        )
    Listing.objects.filter(pk=listing.pk).update(url=link)
    listing.url = link
    return link


# --- Probing ---------------------------------------------------------------------------------


def transport_for(retailer: Retailer) -> Transport:
    """How to fetch this retailer's pages: its own choice, else the deployment's default."""
    method = retailer.fetch_method
    if method == Retailer.FetchMethod.DEFAULT:
        method = settings.SCRAPING_TRANSPORT
    if method in (Retailer.FetchMethod.PROVIDER, Retailer.FetchMethod.PROVIDER_RENDER):
        from scraping.provider.transport import ProviderRealtimeTransport

        return ProviderRealtimeTransport.from_settings(
            render=method == Retailer.FetchMethod.PROVIDER_RENDER
        )
    if method == Retailer.FetchMethod.BROWSER:
        from scraping.provider.browser import BrowserTransport

        return BrowserTransport.from_settings()
    return DirectTransport()


def listing_probe(
    *,
    listing_id: int,
    trigger: str = Probe.Trigger.SCHEDULE,
    transport: Transport | None = None,
    user=None,
) -> Probe | None:
    """Probe one listing now. None when another worker is already probing it."""
    if not listing_claim(listing_id=listing_id):
        return None
    try:
        listing = Listing.objects.select_related("product__brand", "retailer").get(pk=listing_id)
        transport = transport or transport_for(listing.retailer)
        started = time.monotonic()
        url = listing_probe_url(listing)
        try:
            url = url or listing_discover_url(listing=listing, transport=transport)
            page = transport.fetch(
                url,
                requests_per_minute=listing.retailer.requests_per_minute,
                geo_location=listing.retailer.geo_location,
            )
        except PageUnavailable as failure:
            return probe_record_failure(
                listing=listing,
                url=url or failure.final_url or listing.retailer.base_url,
                failure=failure,
                transport=transport.name,
                trigger=trigger,
                user=user,
                duration_ms=elapsed_ms(started),
            )
        return probe_record_page(
            listing=listing, page=page, trigger=trigger, user=user, duration_ms=elapsed_ms(started)
        )
    finally:
        listing_release(listing_id=listing_id)


def elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def listing_identifiers(listing: Listing) -> dict[str, str]:
    identifiers = listing.product.identifiers()
    if listing.retailer_item_id:
        identifiers["item_id"] = listing.retailer_item_id
    return identifiers


def probe_record_page(
    *,
    listing: Listing,
    page: PageFetch,
    trigger: str,
    user=None,
    duration_ms: int | None = None,
) -> Probe:
    """Read a fetched page and record what it says about the listing."""
    try:
        assessment = assess_page(
            page.body,
            url=page.url,
            final_url=page.final_url,
            retailer_currency=listing.retailer.currency,
            extractor=listing.retailer.extractor,
            selectors=listing.retailer.selectors,
            identifiers=listing_identifiers(listing),
        )
    except Exception as exc:
        # A page that breaks the reader is recorded, with the page kept, rather than lost.
        logger.exception("extraction failed for %s", page.final_url)
        assessment = Assessment(status=Probe.Status.FAILED, error_message=f"extraction: {exc}")
    probe = save_probe(
        listing=listing,
        page=page,
        assessment=assessment,
        trigger=trigger,
        user=user,
        duration_ms=duration_ms,
    )
    if probe.status in REVIEWED_STATUSES:
        probe_record_reviews(
            listing=listing,
            body=page.body,
            url=page.final_url or page.url,
            seen_at=probe.created_at,
        )
    return probe


# Pages that passed the identity check: their reviews are our product's.
REVIEWED_STATUSES = frozenset(
    {Probe.Status.SUCCESS, Probe.Status.NO_PRICE, Probe.Status.PRICE_HIDDEN}
)


def probe_record_reviews(
    *, listing: Listing, body: bytes, url: str, seen_at: datetime
) -> ReviewIngest | None:
    """Save the reviews and the average rating a probed page carries, through the catalog.

    Reading the same page again creates nothing (reviews are matched on their id, else on a
    fingerprint of author, day and words). Reviews the page gives without words or a rating are
    skipped and counted in the log. A failure here is logged and leaves the probe recorded: the
    price is what a probe is for.
    """
    try:
        found = extract_reviews(body, url=url)
        ingest = reviews_ingest(
            product=listing.product,
            source=listing.retailer.slug,
            reviews=[
                ReviewInput(
                    text=review.text,
                    rating=review.rating,
                    posted_at=review.posted_at,
                    author=review.author,
                    title=review.title,
                    external_id=review.external_id,
                )
                for review in found.reviews
            ],
            seen_at=seen_at,
        )
        if found.rating is not None:
            listing_rating_record(
                listing=listing, value=found.rating.value, count=found.rating.count
            )
    except Exception:
        logger.exception("reading the reviews on %s failed", url)
        return None
    for reason, count in found.skipped.items():
        ingest.skip(reason, count)
    if ingest.created or ingest.updated or ingest.skipped:
        # Skipped reviews are worth a look (a page the extractor reads badly); the rest is routine.
        logger.log(
            logging.INFO if ingest.skipped else logging.DEBUG,
            "reviews of %s from %s: %d new, %d updated, %d unchanged, skipped %s",
            listing.product_id,
            listing.retailer.slug,
            ingest.created,
            ingest.updated,
            ingest.unchanged,
            ingest.skipped or "none",
        )
    return ingest


def probe_record_failure(
    *,
    listing: Listing,
    url: str,
    failure: PageUnavailable,
    transport: str,
    trigger: str,
    user=None,
    duration_ms: int | None = None,
) -> Probe:
    with transaction.atomic():
        probe = Probe.objects.create(
            listing=listing,
            status=failure.status,
            trigger=trigger,
            transport=transport,
            url=url,
            final_url=failure.final_url,
            http_status=failure.http_status,
            page_accessible=False,
            error_message=str(failure),
            attempts=failure.attempts,
            duration_ms=duration_ms,
            geo_location=listing.retailer.geo_location,
            requested_by=user,
        )
        Listing.objects.filter(pk=listing.pk).update(
            last_probed_at=probe.created_at, last_probe_status=probe.status
        )
        announce(probe)
    return probe


def save_probe(
    *,
    listing: Listing,
    page: PageFetch,
    assessment: Assessment,
    trigger: str,
    user=None,
    duration_ms: int | None = None,
) -> Probe:
    body_sha256 = hashlib.sha256(page.body).hexdigest()
    with transaction.atomic():
        probe = Probe.objects.create(
            listing=listing,
            status=assessment.status,
            trigger=trigger,
            transport=page.transport,
            extractor=assessment.extractor,
            url=page.url,
            final_url=page.final_url,
            http_status=page.http_status,
            price=assessment.price,
            regular_price=assessment.regular_price,
            currency=assessment.currency,
            product_available=assessment.available,
            page_accessible=True,
            error_message=assessment.error_message,
            raw_title=assessment.title,
            geo_location=listing.retailer.geo_location,
            identity_matched_on=assessment.identity_matched_on,
            sources=assessment.sources,
            disagreements=assessment.disagreements,
            attempts=page.attempts,
            duration_ms=duration_ms,
            body_sha256=body_sha256,
            requested_by=user,
        )
        ProbePage.objects.create(
            probe=probe,
            body=zlib.compress(page.body, 6),
            content_type=page.content_type,
            size=len(page.body),
            sha256=body_sha256,
        )
        listing_changes: dict = {
            "last_probed_at": probe.created_at,
            "last_probe_status": probe.status,
        }
        if assessment.status == Probe.Status.SUCCESS:
            listing_changes.update(
                last_price=assessment.price,
                last_regular_price=assessment.regular_price,
                available=assessment.available,
                last_success_at=probe.created_at,
            )
            if assessment.currency:
                listing_changes["currency"] = assessment.currency
            probe.ledger_seq = record_observation(probe=probe, listing=listing).seq
            probe.save(update_fields=["ledger_seq"])
        elif (
            assessment.status in (Probe.Status.NO_PRICE, Probe.Status.PRICE_HIDDEN)
            and assessment.available is not None
        ):
            # The page is ours and says whether it can be bought, even without a price.
            listing_changes["available"] = assessment.available
        Listing.objects.filter(pk=listing.pk).update(**listing_changes)
        Product.objects.filter(pk=listing.product_id).update(last_scraped_at=probe.created_at)
        announce(probe)
    return probe


def price_point_record(
    *,
    listing: Listing,
    price: Decimal,
    currency: str,
    available: bool | None = None,
    regular_price: Decimal | None = None,
    source_url: str = "",
    user=None,
) -> Probe:
    """A price an integration reports for a listing, recorded like a successful probe: the
    listing updated, the ledger entry appended, pricing and alerts told."""
    with transaction.atomic():
        probe = Probe.objects.create(
            listing=listing,
            status=Probe.Status.SUCCESS,
            trigger=Probe.Trigger.API,
            transport=Probe.Transport.INTEGRATION,
            url=source_url or listing.url or listing.retailer.base_url,
            price=price,
            regular_price=regular_price,
            currency=currency,
            product_available=available,
            requested_by=user,
        )
        probe.ledger_seq = record_observation(
            probe=probe, listing=listing, kind=LedgerEntry.Kind.PRICE_POINT
        ).seq
        probe.save(update_fields=["ledger_seq"])
        Listing.objects.filter(pk=listing.pk).update(
            last_price=price,
            last_regular_price=regular_price,
            available=available,
            currency=currency,
            last_success_at=probe.created_at,
            last_probed_at=probe.created_at,
            last_probe_status=probe.status,
        )
        announce(probe)
    return probe


def record_observation(
    *, probe: Probe, listing: Listing, kind: str = LedgerEntry.Kind.OBSERVATION
) -> LedgerEntry:
    return ledger_append(
        kind=kind,
        product_id=listing.product_id,
        listing_id=listing.pk,
        retailer_id=listing.retailer_id,
        payload={
            "probe": probe.pk,
            "listing": listing.pk,
            "product": listing.product_id,
            "retailer": listing.retailer_id,
            "price": probe.price,
            "regular_price": probe.regular_price,
            "currency": probe.currency or listing.currency,
            "available": probe.product_available,
            "url": probe.url,
            "final_url": probe.final_url,
            "page_sha256": probe.body_sha256,
            "observed_at": probe.created_at,
        },
        idempotency_key=f"probe:{probe.pk}",
    )


def announce(probe: Probe) -> None:
    """Tell the apps above (pricing, alerts) once the probe is committed."""
    transaction.on_commit(lambda: probe_finished.send(sender=Probe, probe_id=probe.pk), robust=True)


def fetch_method_of(retailer: Retailer) -> str:
    method = retailer.fetch_method
    return settings.SCRAPING_TRANSPORT if method == Retailer.FetchMethod.DEFAULT else method


@dataclass(frozen=True)
class QueuedProbes:
    tasks: int
    provider_jobs: int


def probes_queue(*, retailer_id: int | None = None) -> QueuedProbes:
    """Probe every active listing at retailers with external checks enabled.

    Listings fetched through the scraping provider go to it in batches (its push-pull API,
    answered by callback or poll); the rest become one task each, sent by name after the
    surrounding transaction commits so a worker never looks for rows that are not there yet.
    """
    listings = Listing.objects.filter(active=True, retailer__external_price_checks_enabled=True)
    if retailer_id is not None:
        listings = listings.filter(retailer_id=retailer_id)
    by_method: dict[str, list[int]] = {}
    for listing in listings.select_related("retailer").order_by("retailer_id", "pk"):
        by_method.setdefault(fetch_method_of(listing.retailer), []).append(listing.pk)
    provider_jobs = 0
    task_ids = by_method.pop(Retailer.FetchMethod.DIRECT, []) + by_method.pop(
        Retailer.FetchMethod.BROWSER, []
    )
    for method, listing_ids in by_method.items():
        from scraping.provider.batch import provider_batch_submit

        submitted = provider_batch_submit(
            listing_ids=listing_ids, render=method == Retailer.FetchMethod.PROVIDER_RENDER
        )
        provider_jobs += len(submitted.jobs)
        task_ids += submitted.needs_discovery

    def send() -> None:
        for listing_id in task_ids:
            current_app.send_task("scraping.tasks.probe_listing", args=[listing_id])

    transaction.on_commit(send)
    return QueuedProbes(tasks=len(task_ids), provider_jobs=provider_jobs)


# --- Housekeeping ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    pages_deleted: int


def probe_pages_purge() -> PurgeResult:
    """Delete stored pages past the retention period, except those pinned as evidence."""
    cutoff = timezone.now() - timedelta(days=settings.PROBE_PAGE_RETENTION_DAYS)
    deleted, _ = ProbePage.objects.filter(created_at__lt=cutoff, pinned=False).delete()
    return PurgeResult(pages_deleted=deleted)
