"""Reads for the probing pages: products with their listings, listings with their probes."""

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from catalog.models import Brand, Listing, Product
from catalog.selectors import product_list_with_market
from scraping.models import Probe, ProbePage

PROBE_HISTORY_PAGE_SIZE = 25


def listings_with_latest_probe() -> QuerySet[Listing]:
    """Listings with their retailer and, as ``latest_probes`` (at most one), their last probe.

    The sliced prefetch is one windowed query for all the listings, however many there are.
    """
    latest = Probe.objects.order_by("-created_at", "-pk")[:1]
    return Listing.objects.select_related("retailer").prefetch_related(
        Prefetch("probes", queryset=latest, to_attr="latest_probes")
    )


def products_with_listings() -> QuerySet[Product]:
    """Products with their market figures and, as ``listing_rows``, every listing to show."""
    listings = listings_with_latest_probe().order_by("retailer__name")
    return product_list_with_market().prefetch_related(
        Prefetch("listings", queryset=listings, to_attr="listing_rows")
    )


def listing_with_product() -> QuerySet[Listing]:
    return listings_with_latest_probe().select_related("product__brand")


def listing_probe_history(*, listing_id: int, page_number: str | int | None) -> Page:
    """One page of a listing's probes, newest first, each knowing whether its page is kept.

    The stored page itself is not loaded: it can be megabytes, and the list only links to it.
    """
    probes = (
        Probe.objects.filter(listing_id=listing_id)
        .select_related("requested_by")
        .annotate(has_page=Exists(ProbePage.objects.filter(probe=OuterRef("pk"))))
        .order_by("-created_at", "-pk")
    )
    return Paginator(probes, PROBE_HISTORY_PAGE_SIZE).get_page(page_number)


def probe_page_for_download() -> QuerySet[ProbePage]:
    return ProbePage.objects.select_related("probe")


def brand_choices() -> QuerySet[Brand]:
    return Brand.objects.only("name", "slug").order_by("name")
