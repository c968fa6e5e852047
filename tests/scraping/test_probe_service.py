"""Probing listings end to end: the demo marketplace on loopback, the real fetcher and extractor,
the database and the ledger."""

import json
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from catalog.demo import retailer_path_part
from catalog.models import Listing
from ledger.models import LedgerEntry
from scraping.demo_marketplace import offer_for
from scraping.models import Probe
from scraping.services import listing_claim, listing_probe
from scraping.signals import probe_finished
from tests.factories import BrandFactory, ListingFactory, ProductFactory, RetailerFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 2, 10, tzinfo=UTC)


def demo_listing(base_url: str, shop: str, brand: str, reference: str, **product) -> Listing:
    product = ProductFactory(
        brand=BrandFactory(name=brand, slug=retailer_path_part(brand)),
        reference=reference,
        mpn=reference,
        **product,
    )
    retailer = RetailerFactory(
        name=shop.replace("-", " ").title(), slug=shop, base_url=f"{base_url}/{shop}"
    )
    path = f"/watches/{retailer_path_part(brand)}/{retailer_path_part(reference)}"
    return ListingFactory(product=product, retailer=retailer, url=f"{base_url}/{shop}{path}")


def first_hour(shop: str, reference: str, condition) -> datetime:
    """The first hour from START at which the demo shop's page is in the wanted state."""
    for hours in range(24 * 60):
        moment = START + timedelta(hours=hours)
        if condition(offer_for(shop, reference, moment)):
            return moment
    raise AssertionError(f"the demo never shows {shop} {reference} in that state")


def test_a_probe_of_a_json_ld_page_records_the_price_and_appends_it_to_the_ledger(
    marketplace, transport, clock
):
    listing = demo_listing(marketplace, "meridian-boutique", "Omega", "310.30.42.50.01.002")
    clock["now"] = first_hour(
        "meridian-boutique", "310.30.42.50.01.002", lambda o: o.available and not o.blocked
    )
    expected = offer_for("meridian-boutique", "310.30.42.50.01.002", clock["now"])

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.SUCCESS
    assert probe.price == expected.price
    assert probe.currency == "USD"
    assert probe.product_available is True
    assert probe.identity_matched_on
    listing.refresh_from_db()
    assert (listing.last_price, listing.available) == (expected.price, True)
    assert listing.last_success_at == probe.created_at
    entry = LedgerEntry.objects.get(seq=probe.ledger_seq)
    assert entry.kind == LedgerEntry.Kind.OBSERVATION
    assert entry.listing_id == listing.pk
    assert json.loads(entry.payload)["price"] == str(expected.price)
    assert json.loads(entry.payload)["page_sha256"] == probe.body_sha256


def test_the_page_is_kept_compressed_with_its_hash_as_evidence(marketplace, transport):
    listing = demo_listing(marketplace, "meridian-boutique", "Omega", "310.30.42.50.01.002")

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    body = zlib.decompress(bytes(probe.page.body))
    assert b"310.30.42.50.01.002" in body
    assert probe.page.size == len(body)
    assert probe.page.sha256 == probe.body_sha256


def test_a_captcha_page_is_blocked_and_keeps_the_last_good_price_and_stock(
    marketplace, transport, clock
):
    reference = "124300"
    listing = demo_listing(marketplace, "megamart", "Rolex", reference)
    Listing.objects.filter(pk=listing.pk).update(last_price=Decimal("6100.00"), available=True)
    clock["now"] = first_hour("megamart", reference, lambda o: o.blocked)

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.BLOCKED
    assert probe.price is None
    assert probe.product_available is None
    listing.refresh_from_db()
    assert (listing.last_price, listing.available) == (Decimal("6100.00"), True)
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.OBSERVATION).exists()


def test_a_redirect_to_another_product_is_an_identity_mismatch_without_a_price(
    marketplace, transport
):
    listing = demo_listing(marketplace, "hallmark-jewelers", "Rolex", "124060", sku="WP-0003")
    Listing.objects.filter(pk=listing.pk).update(last_price=Decimal("9100.00"))

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.IDENTITY_MISMATCH
    assert probe.price is None
    assert "126610ln" in probe.final_url
    assert probe.error_message
    listing.refresh_from_db()
    assert listing.last_price == Decimal("9100.00")


def test_a_price_shown_only_in_the_cart_is_recorded_as_hidden_not_as_a_price(
    marketplace, transport, clock
):
    reference = "210.30.42.20.03.001"
    listing = demo_listing(marketplace, "megamart", "Omega", reference)
    clock["now"] = first_hour("megamart", reference, lambda o: o.price_hidden and not o.blocked)

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.PRICE_HIDDEN
    assert probe.price is None


def test_an_unknown_product_page_is_not_found(marketplace, transport):
    listing = demo_listing(marketplace, "meridian-boutique", "Omega", "310.30.42.50.01.002")
    Listing.objects.filter(pk=listing.pk).update(url=f"{marketplace}/meridian-boutique/watches/x/y")

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.NOT_FOUND
    assert probe.http_status == 404


def test_a_host_that_is_not_allowed_is_refused_before_any_connection(
    marketplace, transport, unused_loopback_port
):
    listing = demo_listing(marketplace, "meridian-boutique", "Omega", "310.30.42.50.01.002")
    # Nothing listens there: a connection attempt would fail differently from the refusal.
    Listing.objects.filter(pk=listing.pk).update(
        url=f"http://127.0.0.1:{unused_loopback_port}/watches/omega/x"
    )

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.FAILED
    assert "Blocked" in probe.error_message
    assert probe.attempts == 0


def test_a_listing_without_a_url_is_found_through_the_search_page_and_the_url_saved(
    marketplace, transport
):
    listing = demo_listing(marketplace, "chrono-plaza", "Rolex", "126610LN")
    Listing.objects.filter(pk=listing.pk).update(url="")
    listing.retailer.search_url_pattern = "/search?q={query}"
    listing.retailer.save()

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.SUCCESS
    listing.refresh_from_db()
    assert listing.url == f"{marketplace}/chrono-plaza/watches/rolex/126610ln"


def test_a_listing_already_being_probed_is_left_alone(marketplace, transport):
    listing = demo_listing(marketplace, "meridian-boutique", "Omega", "310.30.42.50.01.002")
    assert listing_claim(listing_id=listing.pk)

    assert listing_probe(listing_id=listing.pk, transport=transport) is None
    assert not Probe.objects.exists()


def test_the_claim_is_released_after_a_probe(marketplace, transport):
    listing = demo_listing(marketplace, "meridian-boutique", "Omega", "310.30.42.50.01.002")

    listing_probe(listing_id=listing.pk, transport=transport)

    assert listing_claim(listing_id=listing.pk)


def test_probe_finished_is_announced_only_after_the_commit(
    marketplace, transport, django_capture_on_commit_callbacks
):
    listing = demo_listing(marketplace, "meridian-boutique", "Omega", "310.30.42.50.01.002")
    heard = []

    def listener(sender, probe_id, **kwargs):
        heard.append(probe_id)

    probe_finished.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            probe = listing_probe(listing_id=listing.pk, transport=transport)
        assert heard == []
        for callback in callbacks:
            callback()
    finally:
        probe_finished.disconnect(listener)

    assert heard == [probe.pk]
