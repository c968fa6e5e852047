"""Probes save the reviews a product page carries: the demo marketplace on loopback, the real
fetcher and extractor, the database."""

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from catalog.demo import retailer_path_part
from catalog.models import Listing, Review
from catalog.sentiment import SCORER
from scraping.demo_marketplace.inventory import inventory
from scraping.demo_marketplace.product_pages import shop_reviews
from scraping.models import Probe
from scraping.services import listing_probe, probe_record_page, probe_record_reviews
from tests.factories import BrandFactory, ListingFactory, ProductFactory, RetailerFactory

pytestmark = pytest.mark.django_db

OMEGA = ("Omega", "310.30.42.50.01.002")


def demo_listing(base_url: str, shop: str, brand: str, reference: str, page_of=None) -> Listing:
    product = ProductFactory(
        brand=BrandFactory(name=brand, slug=retailer_path_part(brand)),
        reference=reference,
        mpn=reference,
    )
    retailer = RetailerFactory(
        name=shop.replace("-", " ").title(), slug=shop, base_url=f"{base_url}/{shop}"
    )
    page_brand, page_reference = page_of or (brand, reference)
    path = f"/watches/{retailer_path_part(page_brand)}/{retailer_path_part(page_reference)}"
    return ListingFactory(product=product, retailer=retailer, url=f"{base_url}/{shop}{path}")


def expected_reviews(shop: str, reference: str, at) -> list:
    return shop_reviews(inventory().shop(shop), inventory().watch(reference), at)


@pytest.mark.parametrize("shop", ["meridian-boutique", "megamart"])
def test_a_probe_saves_the_pages_reviews_scored_and_the_average_rating(
    marketplace, transport, clock, shop
):
    listing = demo_listing(marketplace, shop, *OMEGA)
    expected = expected_reviews(shop, OMEGA[1], clock["now"])
    assert expected, "the demo page should carry reviews at this time"

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status in (Probe.Status.SUCCESS, Probe.Status.NO_PRICE, Probe.Status.PRICE_HIDDEN)
    saved = Review.objects.filter(product=listing.product, source=shop)
    assert sorted((r.title, r.rating) for r in saved) == sorted(
        (review.title, review.rating) for _, review, _ in expected
    )
    assert all(r.sentiment_label and r.sentiment_scorer == SCORER for r in saved)
    assert {r.posted_at for r in saved} == {posted.replace(hour=0) for _, _, posted in expected}
    listing.refresh_from_db()
    assert listing.rating_count == len(expected)
    average = Decimal(sum(review.rating for _, review, _ in expected)) / len(expected)
    assert listing.rating_value == average.quantize(Decimal("0.1"))


def test_probing_again_later_adds_only_the_new_reviews(marketplace, transport, clock):
    listing = demo_listing(marketplace, "meridian-boutique", *OMEGA)
    clock["now"] -= timedelta(days=300)
    listing_probe(listing_id=listing.pk, transport=transport)
    first = set(Review.objects.values_list("pk", "external_id"))

    clock["now"] += timedelta(days=300)
    listing_probe(listing_id=listing.pk, transport=transport)
    listing_probe(listing_id=listing.pk, transport=transport)

    now = set(Review.objects.values_list("pk", "external_id"))
    assert first <= now
    assert len(now) == len(expected_reviews("meridian-boutique", OMEGA[1], clock["now"]))
    assert len({external_id for _, external_id in now}) == len(now)


def test_a_page_that_shows_another_product_gives_no_reviews(marketplace, transport):
    omega = demo_listing(marketplace, "meridian-boutique", *OMEGA)
    page = transport.fetch(omega.url, requests_per_minute=600, geo_location="")
    rolex = ListingFactory(
        product=ProductFactory(reference="126610LN", mpn="126610LN"),
        retailer=omega.retailer,
        url=f"{marketplace}/meridian-boutique/item/55",
    )
    # The listing's address redirected to the Omega page.
    elsewhere = replace(page, url=rolex.url)

    probe = probe_record_page(listing=rolex, page=elsewhere, trigger=Probe.Trigger.MANUAL)

    assert probe.status == Probe.Status.IDENTITY_MISMATCH, probe.identity_matched_on
    assert not Review.objects.exists()
    rolex.refresh_from_db()
    assert rolex.rating_value is None


def test_reviews_without_words_or_stars_are_skipped_counted_and_logged(caplog):
    listing = ListingFactory()
    product = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Speedmaster",
        "review": [
            {"@type": "Review", "reviewBody": "Superb.", "reviewRating": {"ratingValue": 5}},
            {"@type": "Review", "reviewBody": "", "reviewRating": {"ratingValue": 2}},
            {"@type": "Review", "reviewBody": "No stars."},
        ],
    }
    body = f'<script type="application/ld+json">{json.dumps(product)}</script>'.encode()

    with caplog.at_level(logging.INFO, logger="scraping.services"):
        ingest = probe_record_reviews(
            listing=listing, body=body, url=listing.url, seen_at=datetime(2026, 5, 1, tzinfo=UTC)
        )

    assert (ingest.created, ingest.skipped) == (1, {"no_text": 1, "no_rating": 1})
    assert "skipped {'no_text': 1, 'no_rating': 1}" in caplog.text
    saved = Review.objects.get()
    assert saved.posted_at == datetime(2026, 5, 1, tzinfo=UTC)
    assert saved.source == listing.retailer.slug
