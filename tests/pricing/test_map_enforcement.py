"""MAP enforcement over real probes: the demo marketplace on loopback, the real fetcher and
extractor, the database and the ledger; probes recorded by `save_probe` for the edge cases."""

import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections

from catalog.demo import retailer_path_part
from catalog.models import Listing, Retailer
from ledger.models import LedgerEntry
from pricing import map_enforcement
from pricing.map_enforcement import map_price, map_price_for, map_violations_update
from pricing.models import MapPolicy, MapViolation
from pricing.receivers import map_violations_on_probe
from scraping.assessment import Assessment
from scraping.demo_marketplace import JEWEL_DISCOUNT_SELECTORS, offer_for
from scraping.demo_marketplace.inventory import inventory
from scraping.models import Probe, ProbePage
from scraping.services import listing_probe, save_probe
from scraping.signals import probe_finished
from scraping.transports import PageFetch
from tests.factories import BrandFactory, ListingFactory, ProductFactory, RetailerFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 2, 12, tzinfo=UTC)
# Jewel Discount, a vendor (1P) gray-market shop, dumps this Seamaster under MAP on some days.
JEWEL = "jewel-discount"
SEAMASTER = "220.10.41.21.01.001"
# MegaMart prices this one under MAP in the cart; the page only says "add to cart".
MEGAMART = "megamart"
HIDDEN_SEAMASTER = "210.30.42.20.03.001"
RECEIVER = "pricing.map_violations_update"
MAP_KINDS = (LedgerEntry.Kind.MAP_VIOLATION_OPENED, LedgerEntry.Kind.MAP_VIOLATION_CLOSED)


@pytest.fixture
def clock():
    return {"now": START}


def demo_listing(base_url: str, shop: str, reference: str, **retailer) -> Listing:
    """The demo shop's listing of the demo watch, priced as the demo prices it."""
    watch = inventory().watch(reference)
    product = ProductFactory(
        brand=BrandFactory(name=watch.brand, slug=watch.brand_part),
        reference=reference,
        mpn=reference,
        msrp=watch.msrp,
    )
    retailer = RetailerFactory(
        name=shop.replace("-", " ").title(),
        slug=shop,
        base_url=f"{base_url}/{shop}",
        selectors=JEWEL_DISCOUNT_SELECTORS if shop == JEWEL else {},
        **retailer,
    )
    path = f"/watches/{retailer_path_part(watch.brand)}/{retailer_path_part(reference)}"
    return ListingFactory(product=product, retailer=retailer, url=f"{base_url}/{shop}{path}")


def demo_map(reference: str) -> Decimal:
    return (inventory().watch(reference).msrp * Decimal("0.800")).quantize(Decimal("0.01"))


def below_map(reference: str):
    return lambda offer: offer.shown_price is not None and offer.shown_price < demo_map(reference)


def at_or_above_map(reference: str):
    return lambda offer: offer.shown_price is not None and offer.shown_price >= demo_map(reference)


def first_days(shop: str, reference: str, *conditions) -> list[datetime]:
    """The first run of consecutive days from START whose pages meet the conditions in turn."""
    for start in range(60):
        days = [START + timedelta(days=start + n) for n in range(len(conditions))]
        if all(
            condition(offer_for(shop, reference, day))
            for condition, day in zip(conditions, days, strict=True)
        ):
            return days
    raise AssertionError(f"the demo never shows {shop} {reference} that way")


def probe_on(day: datetime, listing: Listing, transport, clock) -> Probe:
    clock["now"] = day
    probe = listing_probe(listing_id=listing.pk, transport=transport)
    assert probe.status == Probe.Status.SUCCESS, probe.error_message
    return probe


def recorded_probe(listing: Listing, *, price: str | None, status=Probe.Status.SUCCESS) -> Probe:
    """A probe as `save_probe` records it after reading a page that says `price`."""
    page = PageFetch(
        url=listing.url,
        final_url=listing.url,
        http_status=200,
        body=f"<html><body>{price or 'no price'}</body></html>".encode(),
        content_type="text/html",
        transport=Probe.Transport.DIRECT,
    )
    assessment = Assessment(
        status=status,
        price=Decimal(price) if price else None,
        currency="USD" if price else "",
        available=True,
    )
    return save_probe(
        listing=listing, page=page, assessment=assessment, trigger=Probe.Trigger.SCHEDULE
    )


def processed(probe: Probe) -> MapViolation | None:
    return map_violations_update(probe_id=probe.pk)


def pinned(probe: Probe) -> bool:
    return ProbePage.objects.get(probe=probe).pinned


def map_entries() -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(kind__in=MAP_KINDS).order_by("seq"))


@pytest.fixture
def vendor_listing():
    """A vendor listing of a 10,000.00 watch: MAP 8,000.00."""
    return ListingFactory(
        product=ProductFactory(msrp=Decimal("10000.00")),
        retailer=RetailerFactory(retailer_type=Retailer.RetailerType.VENDOR),
    )


# --- The MAP price ---------------------------------------------------------------------------


def test_map_is_msrp_times_the_retailers_map_percentage():
    assert map_price(msrp=Decimal("10000.00"), map_percentage=Decimal("0.800")) == Decimal(
        "8000.00"
    )
    assert map_price(msrp=Decimal("6350.55"), map_percentage=Decimal("0.925")) == Decimal("5874.26")


def test_a_listing_gets_its_retailers_share_of_the_products_msrp():
    listing = ListingFactory(
        product=ProductFactory(msrp=Decimal("12000.00")),
        retailer=RetailerFactory(map_percentage=Decimal("0.850")),
    )

    assert map_price_for(listing) == Decimal("10200.00")


def test_a_products_own_map_wins_over_the_retailers_percentage():
    listing = ListingFactory(product=ProductFactory(msrp=Decimal("12000.00")))
    MapPolicy.objects.create(product=listing.product, map_price=Decimal("11500.00"))

    assert map_price_for(listing) == Decimal("11500.00")


def test_a_product_without_msrp_or_override_has_no_map():
    listing = ListingFactory(product=ProductFactory(msrp=None))

    assert map_price_for(listing) is None


# --- Episodes from real probes ---------------------------------------------------------------


def test_a_vendor_advertising_below_map_opens_an_episode_with_the_page_as_evidence(
    marketplace, transport, clock
):
    listing = demo_listing(marketplace, JEWEL, SEAMASTER)
    [day] = first_days(JEWEL, SEAMASTER, below_map(SEAMASTER))
    probe = probe_on(day, listing, transport, clock)
    assert probe.price == offer_for(JEWEL, SEAMASTER, day).price

    episode = processed(probe)

    assert episode == MapViolation.objects.get()
    assert episode.is_open
    assert episode.listing == listing
    assert (episode.map_price, episode.currency) == (demo_map(SEAMASTER), "USD")
    assert episode.lowest_price == episode.last_price == probe.price
    assert (episode.opening_probe, episode.opened_at) == (probe, probe.created_at)
    assert list(episode.evidence.all()) == [probe]
    assert pinned(probe)
    [entry] = map_entries()
    assert entry.kind == LedgerEntry.Kind.MAP_VIOLATION_OPENED
    assert entry.seq == episode.opened_ledger_seq
    assert entry.idempotency_key == f"map-open:{probe.pk}"
    assert (entry.listing_id, entry.retailer_id) == (listing.pk, listing.retailer_id)
    payload = json.loads(entry.payload)
    assert payload["price"] == str(probe.price)
    assert payload["map_price"] == str(demo_map(SEAMASTER))
    assert payload["page_sha256"] == probe.body_sha256
    assert payload["observation_seq"] == probe.ledger_seq


def test_a_price_back_at_map_closes_the_episode(marketplace, transport, clock):
    listing = demo_listing(marketplace, JEWEL, SEAMASTER)
    below, back = first_days(JEWEL, SEAMASTER, below_map(SEAMASTER), at_or_above_map(SEAMASTER))
    opening = probe_on(below, listing, transport, clock)
    processed(opening)
    closing = probe_on(back, listing, transport, clock)

    episode = processed(closing)

    assert episode == MapViolation.objects.get()
    assert not episode.is_open
    assert (episode.closing_probe, episode.closed_at) == (closing, closing.created_at)
    assert episode.last_price == closing.price >= demo_map(SEAMASTER)
    assert list(episode.evidence.all()) == [opening]
    assert pinned(opening)
    assert pinned(closing)
    opened, closed = map_entries()
    assert closed.kind == LedgerEntry.Kind.MAP_VIOLATION_CLOSED
    assert closed.seq == episode.closed_ledger_seq
    assert closed.idempotency_key == f"map-close:{closing.pk}"
    payload = json.loads(closed.payload)
    assert payload["evidence"] == [opening.pk]
    assert payload["opened_seq"] == opened.seq


def test_a_later_drop_below_map_opens_a_new_episode(marketplace, transport, clock):
    listing = demo_listing(marketplace, JEWEL, SEAMASTER)
    days = first_days(
        JEWEL,
        SEAMASTER,
        below_map(SEAMASTER),
        at_or_above_map(SEAMASTER),
        below_map(SEAMASTER),
    )
    first = probe_on(days[0], listing, transport, clock)
    processed(first)
    back = probe_on(days[1], listing, transport, clock)
    processed(back)
    again = probe_on(days[2], listing, transport, clock)

    episode = processed(again)

    first_episode = MapViolation.objects.get(opening_probe=first)
    assert episode != first_episode
    assert first_episode.closing_probe == back
    assert episode.is_open
    assert list(episode.evidence.all()) == [again]
    assert [entry.kind for entry in map_entries()] == [
        LedgerEntry.Kind.MAP_VIOLATION_OPENED,
        LedgerEntry.Kind.MAP_VIOLATION_CLOSED,
        LedgerEntry.Kind.MAP_VIOLATION_OPENED,
    ]


def test_a_price_shown_only_in_the_cart_never_opens_a_violation(marketplace, transport, clock):
    listing = demo_listing(marketplace, MEGAMART, HIDDEN_SEAMASTER)
    for hours in range(48):
        clock["now"] = START + timedelta(hours=hours)
        offer = offer_for(MEGAMART, HIDDEN_SEAMASTER, clock["now"])
        if not offer.blocked:
            break
    assert offer.price < demo_map(HIDDEN_SEAMASTER), "the cart price is under MAP"
    probe = listing_probe(listing_id=listing.pk, transport=transport)
    assert probe.status == Probe.Status.PRICE_HIDDEN

    assert processed(probe) is None

    assert not MapViolation.objects.exists()
    assert not pinned(probe)
    assert map_entries() == []


def test_a_marketplace_retailer_is_never_in_violation(marketplace, transport, clock):
    listing = demo_listing(
        marketplace, JEWEL, SEAMASTER, retailer_type=Retailer.RetailerType.MARKETPLACE
    )
    [day] = first_days(JEWEL, SEAMASTER, below_map(SEAMASTER))
    probe = probe_on(day, listing, transport, clock)
    assert probe.price < demo_map(SEAMASTER)

    assert processed(probe) is None

    assert not MapViolation.objects.exists()
    assert map_entries() == []


def test_the_check_runs_when_the_probe_commits(
    marketplace, transport, clock, django_capture_on_commit_callbacks
):
    listing = demo_listing(marketplace, JEWEL, SEAMASTER)
    [clock["now"]] = first_days(JEWEL, SEAMASTER, below_map(SEAMASTER))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        probe = listing_probe(listing_id=listing.pk, transport=transport)
        assert not MapViolation.objects.exists(), "nothing happens before the commit"

    assert callbacks
    episode = MapViolation.objects.get()
    assert episode.opening_probe == probe
    assert pinned(probe)


# --- Edge cases from recorded probes ---------------------------------------------------------


def test_a_second_probe_below_map_extends_the_open_episode(vendor_listing):
    probes = []
    episodes = set()
    for price in ("7900.00", "7500.00", "7700.00"):
        probes.append(recorded_probe(vendor_listing, price=price))
        episodes.add(processed(probes[-1]))
    first, lowest, latest = probes

    [episode] = episodes
    episode.refresh_from_db()
    assert MapViolation.objects.get() == episode
    assert episode.is_open
    assert episode.opening_probe == first
    assert (episode.lowest_price, episode.last_price) == (Decimal("7500.00"), Decimal("7700.00"))
    assert set(episode.evidence.all()) == {first, lowest, latest}
    assert all(pinned(probe) for probe in (first, lowest, latest))
    assert [entry.kind for entry in map_entries()] == [LedgerEntry.Kind.MAP_VIOLATION_OPENED]


def test_a_price_exactly_at_map_is_no_violation(vendor_listing):
    probe = recorded_probe(vendor_listing, price="8000.00")

    assert processed(probe) is None

    assert not MapViolation.objects.exists()


@pytest.mark.parametrize(
    "status",
    [
        Probe.Status.BLOCKED,
        Probe.Status.FAILED,
        Probe.Status.NOT_FOUND,
        Probe.Status.IDENTITY_MISMATCH,
        Probe.Status.NO_PRICE,
        Probe.Status.PRICE_HIDDEN,
    ],
)
def test_a_probe_without_an_advertised_price_neither_opens_nor_closes(vendor_listing, status):
    opening = recorded_probe(vendor_listing, price="7000.00")
    processed(opening)
    entries = map_entries()
    priceless = recorded_probe(vendor_listing, price=None, status=status)

    assert processed(priceless) is None

    episode = MapViolation.objects.get()
    assert episode.is_open
    assert list(episode.evidence.all()) == [opening]
    assert episode.last_price == Decimal("7000.00")
    assert not pinned(priceless)
    assert map_entries() == entries


def test_a_probe_without_a_price_opens_nothing(vendor_listing):
    processed(recorded_probe(vendor_listing, price=None, status=Probe.Status.BLOCKED))

    assert not MapViolation.objects.exists()


def test_processing_the_same_probes_twice_records_each_once(vendor_listing):
    opening = recorded_probe(vendor_listing, price="7000.00")
    episode = processed(opening)
    assert processed(opening) is None
    closing = recorded_probe(vendor_listing, price="8100.00")
    processed(closing)

    assert processed(closing) is None
    assert processed(opening) is None

    episode = MapViolation.objects.get()
    assert episode.closing_probe == closing
    assert list(episode.evidence.all()) == [opening]
    assert [entry.idempotency_key for entry in map_entries()] == [
        f"map-open:{opening.pk}",
        f"map-close:{closing.pk}",
    ]


def test_a_probe_processed_after_a_newer_one_neither_opens_nor_closes(vendor_listing):
    below = recorded_probe(vendor_listing, price="7000.00")
    back = recorded_probe(vendor_listing, price="8500.00")
    processed(back)

    assert processed(below) is None
    assert not MapViolation.objects.exists()

    again = recorded_probe(vendor_listing, price="7200.00")
    processed(again)
    assert processed(back) is None
    assert MapViolation.objects.get().is_open


def test_a_late_probe_below_map_joins_the_open_episode_without_moving_its_last_price(
    vendor_listing,
):
    opening = recorded_probe(vendor_listing, price="7000.00")
    processed(opening)
    late = recorded_probe(vendor_listing, price="6500.00")
    newest = recorded_probe(vendor_listing, price="7400.00")
    processed(newest)

    processed(late)

    episode = MapViolation.objects.get()
    assert set(episode.evidence.all()) == {opening, late, newest}
    assert (episode.lowest_price, episode.last_price) == (Decimal("6500.00"), Decimal("7400.00"))


def test_the_products_own_map_decides(vendor_listing):
    MapPolicy.objects.create(product=vendor_listing.product, map_price=Decimal("9000.00"))
    probe = recorded_probe(vendor_listing, price="8500.00")

    episode = processed(probe)

    assert episode.map_price == Decimal("9000.00")


def test_a_price_in_another_currency_than_the_msrp_is_not_compared(vendor_listing):
    probe = recorded_probe(vendor_listing, price="10.00")
    Probe.objects.filter(pk=probe.pk).update(currency="EUR")

    assert processed(probe) is None

    assert not MapViolation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_workers_processing_the_same_probe_at_once_record_one_episode(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks: run with DATABASE_URL=postgres://…")
    listing = ListingFactory(product=ProductFactory(msrp=Decimal("10000.00")))
    # Outside a test transaction the commit would run the receiver now; only the workers may.
    probe_finished.disconnect(dispatch_uid=RECEIVER)
    try:
        probe = recorded_probe(listing, price="7000.00")
    finally:
        probe_finished.connect(map_violations_on_probe, dispatch_uid=RECEIVER)
    assert not MapViolation.objects.exists()
    workers = 6
    start, looked = threading.Barrier(workers), threading.Barrier(workers)
    errors: list[BaseException] = []
    first_look = map_enforcement.open_episode_locked
    waited = threading.local()

    def open_episode_once_everyone_looked(*, listing_id: int):
        # Every worker finds no open episode before any opens one: the race the lock must win.
        episode = first_look(listing_id=listing_id)
        if not getattr(waited, "done", False):
            waited.done = True
            looked.wait(timeout=30)
        return episode

    monkeypatch.setattr(map_enforcement, "open_episode_locked", open_episode_once_everyone_looked)

    def work() -> None:
        try:
            start.wait(timeout=30)
            map_violations_update(probe_id=probe.pk)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    episode = MapViolation.objects.get()
    assert list(episode.evidence.all()) == [probe]
    assert [entry.idempotency_key for entry in map_entries()] == [f"map-open:{probe.pk}"]
