"""The product, listing and evidence pages, and Probe Now, through Django's test client.

Probe Now fetches a real page from the demo marketplace on loopback.
"""

import hashlib
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Retailer
from scraping.demo_marketplace import offer_for, serve_in_thread
from scraping.models import Probe, ProbePage
from tests.conftest import grant
from tests.factories import (
    BrandFactory,
    ListingFactory,
    ProductFactory,
    RetailerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SPEEDMASTER = "310.30.42.50.01.002"
SPEEDMASTER_PATH = "/meridian-boutique/watches/omega/310-30-42-50-01-002"


def make_probe(listing, *, status=Probe.Status.SUCCESS, minutes_ago=0, **fields) -> Probe:
    probe = Probe.objects.create(
        listing=listing, status=status, url=listing.url or "https://example.com/", **fields
    )
    # created_at is auto_now_add; history order is set afterwards.
    Probe.objects.filter(pk=probe.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return probe


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def shown_prices(reference: str) -> set[str]:
    """What the Meridian page shows for the reference, this hour or the next one if it turns."""
    now = datetime.now(tz=UTC)
    offers = (
        offer_for("meridian-boutique", reference, at) for at in (now, now + timedelta(hours=1))
    )
    return {money(offer.shown_price) for offer in offers}


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer")


@pytest.fixture
def prober(db):
    return grant(UserFactory(username="prober"), "catalog.change_listing")


@pytest.fixture
def marketplace(settings):
    server, base_url = serve_in_thread(port=0)
    settings.FETCH_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_port}"]
    yield base_url
    server.shutdown()
    server.server_close()


@pytest.fixture
def speedmaster_listing(marketplace):
    retailer = RetailerFactory(
        name="Meridian Boutique",
        slug="meridian-boutique",
        domain="127.0.0.1",
        base_url=f"{marketplace}/meridian-boutique",
        retailer_type=Retailer.RetailerType.VENDOR,
        requests_per_minute=600,
    )
    product = ProductFactory(
        brand=BrandFactory(name="Omega", slug="omega"),
        reference=SPEEDMASTER,
        name="Speedmaster Moonwatch Professional",
    )
    return ListingFactory(
        product=product, retailer=retailer, url=f"{marketplace}{SPEEDMASTER_PATH}"
    )


def probe_now(client, listing, **extra):
    return client.post(reverse("scraping:probe-now", args=[listing.pk]), **extra)


# --- Logging in ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "scraping:product-list"),
        ("get", "scraping:product-detail"),
        ("get", "scraping:listing-detail"),
        ("get", "scraping:probe-page"),
        ("post", "scraping:probe-now"),
    ],
)
def test_every_page_sends_anonymous_visitors_to_log_in(client, method, name):
    listing = ListingFactory()
    probe = make_probe(listing)
    args = {
        "scraping:product-list": [],
        "scraping:product-detail": [listing.product_id],
        "scraping:listing-detail": [listing.pk],
        "scraping:probe-page": [probe.pk],
        "scraping:probe-now": [listing.pk],
    }[name]
    url = reverse(name, args=args)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert Probe.objects.count() == 1


# --- The product page ------------------------------------------------------------------------


def test_the_product_page_lists_each_listing_with_its_latest_probe(client, viewer):
    product = ProductFactory(reference="126610LN", name="Submariner Date")
    vendor = ListingFactory(
        product=product,
        retailer=RetailerFactory(name="Hallmark Jewelers"),
        last_price=Decimal("10250.00"),
        available=True,
    )
    marketplace = ListingFactory(
        product=product,
        retailer=RetailerFactory(
            name="Chrono Plaza", retailer_type=Retailer.RetailerType.MARKETPLACE
        ),
    )
    make_probe(vendor, status=Probe.Status.FAILED, minutes_ago=60, error_message="timed out")
    make_probe(vendor, minutes_ago=5, price=Decimal("10250.00"), identity_matched_on="reference")
    make_probe(
        marketplace,
        status=Probe.Status.IDENTITY_MISMATCH,
        error_message="The page shows 126610LV, not this product.",
    )
    client.force_login(viewer)

    page = client.get(reverse("scraping:product-detail", args=[product.pk])).content.decode()

    vendor_row = row_html(page, vendor.pk)
    assert "Hallmark Jewelers" in vendor_row
    assert "Vendor 1P" in vendor_row
    assert "10,250.00" in vendor_row
    assert "status-success" in vendor_row
    assert "Identity matched on reference" in vendor_row
    assert "timed out" not in vendor_row
    marketplace_row = row_html(page, marketplace.pk)
    assert "Marketplace 3P" in marketplace_row
    assert "status-identity_mismatch" in marketplace_row
    assert "The page shows 126610LV, not this product." in marketplace_row


def row_html(page: str, listing_id: int) -> str:
    start = page.index(f'<tr id="listing-{listing_id}"')
    return page[start : page.index("</tr>", start)]


def test_only_users_who_may_change_listings_see_probe_now(client, viewer, prober):
    listing = ListingFactory()
    url = reverse("scraping:product-detail", args=[listing.product_id])

    client.force_login(viewer)
    assert "Probe Now" not in client.get(url).content.decode()
    client.force_login(prober)
    assert "Probe Now" in client.get(url).content.decode()


def test_the_product_page_makes_as_many_queries_for_eight_listings_as_for_two(
    client, prober, django_assert_max_num_queries
):
    def product_with(listings: int):
        product = ProductFactory()
        for _ in range(listings):
            listing = ListingFactory(product=product)
            make_probe(listing, minutes_ago=10, price=Decimal("100.00"))
            make_probe(listing, status=Probe.Status.BLOCKED)
        return reverse("scraping:product-detail", args=[product.pk])

    two, eight = product_with(2), product_with(8)
    client.force_login(prober)
    client.get(two)  # session and permission caches warm up

    with CaptureQueriesContext(connection) as for_two:
        assert client.get(two).status_code == 200
    with django_assert_max_num_queries(len(for_two)):
        response = client.get(eight)

    assert response.content.decode().count('class="status status-blocked"') == 8


# --- Probe Now -------------------------------------------------------------------------------


def test_probe_now_is_forbidden_without_permission_to_change_listings(client, viewer):
    listing = ListingFactory()
    client.force_login(viewer)

    response = probe_now(client, listing)

    assert response.status_code == 403
    assert not Probe.objects.exists()


def test_probe_now_only_answers_post(client, prober):
    listing = ListingFactory()
    client.force_login(prober)

    response = client.get(reverse("scraping:probe-now", args=[listing.pk]))

    assert response.status_code == 405
    assert not Probe.objects.exists()


def test_probe_now_refuses_a_post_without_the_csrf_token(prober):
    listing = ListingFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(prober)

    response = probe_now(client, listing, HTTP_HX_REQUEST="true")

    assert response.status_code == 403
    assert not Probe.objects.exists()


def test_probe_now_with_htmx_answers_with_the_updated_row_only(client, prober, speedmaster_listing):
    client.force_login(prober)
    prices = shown_prices(SPEEDMASTER)

    response = probe_now(client, speedmaster_listing, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="listing-{speedmaster_listing.pk}"')
    assert "<html" not in html
    assert any(price in html for price in prices)
    assert "status-success" in html
    assert "probe-finished" in response["HX-Trigger"]
    probe = Probe.objects.get()
    assert probe.trigger == Probe.Trigger.MANUAL
    assert probe.requested_by == prober
    assert money(probe.price) in prices


def test_probe_now_without_htmx_goes_back_to_the_product_page_with_a_message(
    client, prober, speedmaster_listing
):
    client.force_login(prober)

    response = probe_now(client, speedmaster_listing)

    product_url = reverse("scraping:product-detail", args=[speedmaster_listing.product_id])
    assert response.status_code == 302
    assert response["Location"] == product_url
    page = client.get(product_url).content.decode()
    assert "Probed Meridian Boutique: success." in page
    assert money(Probe.objects.get().price) in row_html(page, speedmaster_listing.pk)


def test_probe_now_goes_back_to_the_page_it_came_from_only_on_this_site(client, prober):
    listing = ListingFactory()
    listing.probe_lease_until = timezone.now() + timedelta(minutes=5)
    listing.save()
    client.force_login(prober)
    listing_url = reverse("scraping:listing-detail", args=[listing.pk])

    assert probe_now(client, listing, data={"next": listing_url})["Location"] == listing_url
    elsewhere = probe_now(client, listing, data={"next": "https://evil.example.com/"})
    assert elsewhere["Location"] == reverse("scraping:product-detail", args=[listing.product_id])


def test_probe_now_says_so_when_the_listing_is_already_being_probed(client, prober):
    listing = ListingFactory()
    listing.probe_lease_until = timezone.now() + timedelta(minutes=5)
    listing.save()
    client.force_login(prober)

    response = probe_now(client, listing, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "A probe of this listing is already running" in response.content.decode()
    assert not Probe.objects.exists()


# --- The listing page and its evidence -------------------------------------------------------


def test_the_listing_page_shows_the_probe_history_a_page_at_a_time(client, viewer):
    listing = ListingFactory()
    for minutes_ago in range(30, 0, -1):
        make_probe(listing, minutes_ago=minutes_ago, price=Decimal(1000 + minutes_ago))
    newest = listing.probes.order_by("-created_at").first()
    ProbePage.objects.create(
        probe=newest, body=zlib.compress(b"<html></html>"), size=13, sha256="0" * 64
    )
    client.force_login(viewer)
    url = reverse("scraping:listing-detail", args=[listing.pk])

    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}, HTTP_HX_REQUEST="true").content.decode()

    assert first.count('<tr id="probe-') == 25
    assert "1,001.00" in first
    assert reverse("scraping:probe-page", args=[newest.pk]) in first
    assert "Page 1 of 2" in first
    assert second.strip().startswith('<section id="probe-history"')
    assert second.count('<tr id="probe-') == 5
    assert "1,030.00" in second


def test_the_stored_page_downloads_as_plain_text_with_its_hash(client, viewer):
    body = b"<html><body><script>alert('retailer')</script>$7,150.00</body></html>"
    sha256 = hashlib.sha256(body).hexdigest()
    probe = make_probe(ListingFactory(), price=Decimal("7150.00"), body_sha256=sha256)
    ProbePage.objects.create(
        probe=probe,
        body=zlib.compress(body),
        content_type="text/html",
        size=len(body),
        sha256=sha256,
    )
    client.force_login(viewer)

    response = client.get(reverse("scraping:probe-page", args=[probe.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-SHA256"] == sha256
    assert response.content == body


def test_a_probe_without_a_stored_page_has_nothing_to_download(client, viewer):
    probe = make_probe(ListingFactory(), status=Probe.Status.FAILED)
    client.force_login(viewer)

    assert client.get(reverse("scraping:probe-page", args=[probe.pk])).status_code == 404


# --- The product list ------------------------------------------------------------------------


def test_the_product_list_filters_by_brand_and_search(client, viewer):
    omega = BrandFactory(name="Omega", slug="omega")
    rolex = BrandFactory(name="Rolex", slug="rolex")
    ProductFactory(brand=omega, reference="310.30.42.50.01.002", name="Speedmaster")
    ProductFactory(brand=omega, reference="210.30.42.20.03.001", name="Seamaster Diver 300M")
    ProductFactory(brand=rolex, reference="126610LN", name="Submariner Date")
    client.force_login(viewer)
    url = reverse("scraping:product-list")

    everything = client.get(url).content.decode()
    omegas = client.get(url, {"brand": "omega"}).content.decode()
    divers = client.get(url, {"brand": "omega", "q": "seamaster"}, HTTP_HX_REQUEST="true")

    assert everything.count('class="product-row"') == 3
    assert omegas.count('class="product-row"') == 2
    assert "126610LN" not in omegas
    html = divers.content.decode()
    assert html.strip().startswith('<section id="product-table"')
    assert html.count('class="product-row"') == 1
    assert "210.30.42.20.03.001" in html
    assert "HX-Request" in divers["Vary"]


def test_the_product_list_shows_market_figures_and_links_to_each_product(client, viewer):
    product = ProductFactory(list_price=Decimal("9500.00"), msrp=Decimal("10000.00"))
    ListingFactory(product=product, last_price=Decimal("8875.00"), available=True)
    ListingFactory(product=product, last_price=Decimal("8600.00"), available=False)
    client.force_login(viewer)

    page = client.get(reverse("scraping:product-list")).content.decode()

    assert reverse("scraping:product-detail", args=[product.pk]) in page
    assert "9,500.00" in page
    assert "10,000.00" in page
    assert "8,875.00" in page
    assert "8,600.00" not in page
    assert '<td class="num">2</td>' in page
