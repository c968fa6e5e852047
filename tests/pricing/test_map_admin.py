"""The back office for MAP: retailers with their open violations, the read-only episodes with
their evidence, MAP overrides, and the CSV export."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Listing, Retailer
from pricing.map_enforcement import map_violations_update
from pricing.models import MapPolicy, MapViolation
from pricing.selectors import MAP_VIOLATION_CSV_COLUMNS, map_violations_csv_rows
from pricing.selectors import map_violations_list as violations
from scraping.assessment import Assessment
from scraping.models import Probe
from scraping.services import save_probe
from scraping.transports import PageFetch
from tests.factories import BrandFactory, ListingFactory, ProductFactory, RetailerFactory
from watchprice.urls import urlpatterns as project_urlpatterns

pytestmark = pytest.mark.django_db

RETAILERS_URL = reverse("admin:catalog_retailer_changelist")
VIOLATIONS_URL = reverse("admin:pricing_mapviolation_changelist")

# The site without the scraping pages, for the evidence links' fallback.
urlpatterns = [
    pattern for pattern in project_urlpatterns if getattr(pattern, "namespace", None) != "scraping"
]


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def probed(listing: Listing, price: str) -> Probe:
    """A page read at `price`, recorded by the probing code and checked against MAP."""
    page = PageFetch(
        url=listing.url,
        final_url=listing.url,
        http_status=200,
        body=f"<html><body>{price}</body></html>".encode(),
        content_type="text/html",
        transport=Probe.Transport.DIRECT,
    )
    probe = save_probe(
        listing=listing,
        page=page,
        assessment=Assessment(
            status=Probe.Status.SUCCESS, price=Decimal(price), currency="USD", available=True
        ),
        trigger=Probe.Trigger.SCHEDULE,
    )
    map_violations_update(probe_id=probe.pk)
    return probe


def vendor_listing(retailer: Retailer | None = None, **product) -> Listing:
    """A listing of a 10,000.00 watch at a vendor: MAP 8,000.00."""
    return ListingFactory(
        product=ProductFactory(msrp=Decimal("10000.00"), **product),
        retailer=retailer or RetailerFactory(retailer_type=Retailer.RetailerType.VENDOR),
    )


def closed_episode(listing: Listing) -> MapViolation:
    opening = probed(listing, "7000.00")
    probed(listing, "8200.00")
    return MapViolation.objects.get(opening_probe=opening)


def open_episode(listing: Listing, price: str = "7000.00") -> MapViolation:
    return MapViolation.objects.get(opening_probe=probed(listing, price))


# --- The retailer pages ----------------------------------------------------------------------


def test_the_retailer_list_shows_the_type_badge_the_map_share_and_the_open_violations(
    staff_client,
):
    jewel = RetailerFactory(name="Jewel Discount", retailer_type=Retailer.RetailerType.VENDOR)
    first, second = vendor_listing(jewel), vendor_listing(jewel)
    closed_episode(first)
    open_episode(first)
    open_episode(second)
    clean = RetailerFactory(name="Hallmark Jewelers", retailer_type=Retailer.RetailerType.VENDOR)
    RetailerFactory(name="Chrono Plaza", retailer_type=Retailer.RetailerType.MARKETPLACE)
    open_episode(vendor_listing())  # another vendor's

    page = staff_client.get(RETAILERS_URL).content.decode()

    assert '<span class="retailer-type-badge"' in page
    assert "Vendor (1P)</span>" in page
    assert "Marketplace (3P)</span>" in page
    assert "80% of MSRP" in page
    assert (
        f'<a href="{VIOLATIONS_URL}?listing__retailer__id__exact={jewel.pk}&amp;status=open">'
        "2 open MAP violations</a>"
    ) in page
    assert (
        f'<a href="{VIOLATIONS_URL}?listing__retailer__id__exact={clean.pk}&amp;status=open">'
        "0 open MAP violations</a>"
    ) in page
    assert page.count("open MAP violation") == 3, "none for the marketplace"


def test_counting_violations_leaves_the_listing_count_alone(staff_client):
    jewel = RetailerFactory(retailer_type=Retailer.RetailerType.VENDOR)
    listing = vendor_listing(jewel)
    vendor_listing(jewel)
    closed_episode(listing)
    closed_episode(listing)
    open_episode(listing)

    response = staff_client.get(RETAILERS_URL)

    [row] = response.context["cl"].result_list
    assert (row.listing_count, row.open_map_violation_count) == (2, 1)


def test_the_retailer_page_links_to_its_open_violations(staff_client):
    retailer = RetailerFactory(retailer_type=Retailer.RetailerType.VENDOR)
    open_episode(vendor_listing(retailer))

    page = staff_client.get(
        reverse("admin:catalog_retailer_change", args=[retailer.pk])
    ).content.decode()

    assert f"?listing__retailer__id__exact={retailer.pk}&amp;status=open" in page
    assert "1 open MAP violation</a>" in page


def test_the_retailer_link_lands_on_that_retailers_open_episodes(staff_client):
    retailer = RetailerFactory(retailer_type=Retailer.RetailerType.VENDOR)
    listing = vendor_listing(retailer)
    closed_episode(listing)
    current = open_episode(listing)
    open_episode(vendor_listing())

    response = staff_client.get(
        VIOLATIONS_URL, {"listing__retailer__id__exact": retailer.pk, "status": "open"}
    )

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [current]


# --- MAP violations ----------------------------------------------------------------------------


def test_map_violations_filter_by_retailer_brand_and_status(staff_client):
    omega = BrandFactory(name="Omega")
    at_jewel = vendor_listing(brand=omega)
    closed = closed_episode(at_jewel)
    still_open = open_episode(at_jewel)
    elsewhere = open_episode(vendor_listing())

    def shown(**filters) -> set[MapViolation]:
        response = staff_client.get(VIOLATIONS_URL, filters)
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert shown() == {closed, still_open, elsewhere}
    assert shown(listing__retailer__id__exact=at_jewel.retailer_id) == {closed, still_open}
    assert shown(listing__product__brand__id__exact=omega.pk) == {closed, still_open}
    assert shown(status="open") == {still_open, elsewhere}
    assert shown(status="closed") == {closed}


def test_map_violations_are_read_only(staff_client):
    episode = open_episode(vendor_listing())
    change_url = reverse("admin:pricing_mapviolation_change", args=[episode.pk])

    listing_page = staff_client.get(VIOLATIONS_URL).content.decode()
    detail = staff_client.get(change_url)
    edit = staff_client.post(change_url, {"lowest_price": "1.00", "_save": "Save"})

    assert reverse("admin:pricing_mapviolation_add") not in listing_page
    assert staff_client.get(reverse("admin:pricing_mapviolation_add")).status_code == 403
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert edit.status_code == 403
    delete_url = reverse("admin:pricing_mapviolation_delete", args=[episode.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    episode.refresh_from_db()
    assert episode.lowest_price == Decimal("7000.00")


def test_a_violation_shows_its_evidence_with_links_to_the_stored_pages(staff_client):
    listing = vendor_listing()
    first = probed(listing, "7000.00")
    second = probed(listing, "6800.00")
    episode = MapViolation.objects.get()

    page = staff_client.get(
        reverse("admin:pricing_mapviolation_change", args=[episode.pk])
    ).content.decode()

    for probe in (first, second):
        assert reverse("admin:scraping_probe_change", args=[probe.pk]) in page
        assert reverse("scraping:probe-page", args=[probe.pk]) in page
    assert "6,800.00" in page
    assert "Open for 0 hours" in page


@pytest.mark.urls(__name__)
def test_without_the_probe_page_url_the_evidence_still_links_the_probes(staff_client):
    probe = probed(vendor_listing(), "7000.00")
    episode = MapViolation.objects.get()

    response = staff_client.get(reverse("admin:pricing_mapviolation_change", args=[episode.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("admin:scraping_probe_change", args=[probe.pk]) in page
    assert f"/probes/{probe.pk}/page" not in page


def test_the_violation_list_costs_the_same_queries_for_more_episodes(staff_client):
    open_episode(vendor_listing())
    with CaptureQueriesContext(connection) as few:
        staff_client.get(VIOLATIONS_URL)
    for _ in range(5):
        open_episode(vendor_listing())
    with CaptureQueriesContext(connection) as many:
        staff_client.get(VIOLATIONS_URL)

    assert len(many) == len(few)


# --- MAP overrides -----------------------------------------------------------------------------


def test_a_map_override_is_added_through_the_product_autocomplete(staff_client):
    product = ProductFactory(reference="5711/1A-010", msrp=Decimal("34890.00"))
    add_url = reverse("admin:pricing_mappolicy_add")

    form = staff_client.get(add_url).content.decode()
    found = staff_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "pricing",
            "model_name": "mappolicy",
            "field_name": "product",
            "term": "5711",
        },
    ).json()
    response = staff_client.post(
        add_url, {"product": product.pk, "map_price": "31000.00", "note": "Brand agreement"}
    )

    assert "admin-autocomplete" in form
    assert [result["id"] for result in found["results"]] == [str(product.pk)]
    assert response.status_code == 302, response.context["adminform"].form.errors
    policy = MapPolicy.objects.get()
    assert (policy.product, policy.map_price) == (product, Decimal("31000.00"))
    listing = staff_client.get(reverse("admin:pricing_mappolicy_changelist")).content.decode()
    assert "88.9% of MSRP" in listing


# --- Lists and CSV -----------------------------------------------------------------------------


def test_the_violation_list_narrows_by_status_retailer_brand_and_period():
    omega = BrandFactory(name="Omega")
    listing = vendor_listing(brand=omega)
    closed = closed_episode(listing)
    current = open_episode(listing)
    other = open_episode(vendor_listing())
    now = timezone.now()
    MapViolation.objects.filter(pk=closed.pk).update(
        opened_at=now - timedelta(days=10), closed_at=now - timedelta(days=8)
    )
    MapViolation.objects.filter(pk__in=[current.pk, other.pk]).update(
        opened_at=now - timedelta(days=2)
    )

    assert set(violations()) == {closed, current, other}
    assert set(violations(open_only=True)) == {current, other}
    assert set(violations(retailer_id=listing.retailer_id)) == {closed, current}
    assert set(violations(brand_id=omega.pk)) == {closed, current}
    assert set(violations(since=now - timedelta(days=5))) == {current, other}
    assert set(violations(until=now - timedelta(days=5))) == {closed}
    assert set(violations(since=now - timedelta(days=9), until=now - timedelta(days=3))) == {closed}


def test_csv_rows_describe_each_episode_with_its_evidence():
    listing = vendor_listing(reference="126610LN")
    first = probed(listing, "7000.00")
    lowest = probed(listing, "6900.00")
    closing = probed(listing, "8000.00")
    closed = MapViolation.objects.get()
    opened_at = closed.closed_at - timedelta(hours=30)
    MapViolation.objects.filter(pk=closed.pk).update(opened_at=opened_at)
    current = open_episode(listing, "7500.00")
    now = current.opened_at + timedelta(hours=1, minutes=30)

    header, *rows = map_violations_csv_rows(violations().order_by("opened_at"), now=now)

    assert header == list(MAP_VIOLATION_CSV_COLUMNS)
    records = [dict(zip(header, row, strict=True)) for row in rows]
    first_row, open_row = records
    assert first_row["violation"] == str(closed.pk)
    assert first_row["status"] == "closed"
    assert first_row["listing"] == str(listing.pk)
    assert first_row["retailer"] == listing.retailer.name
    assert first_row["reference"] == "126610LN"
    assert first_row["product"] == listing.product.name
    assert first_row["map_price"] == "8000.00"
    assert first_row["lowest_price"] == "6900.00"
    assert first_row["last_price"] == "8000.00"
    assert first_row["opened_at"] == opened_at.isoformat()
    assert first_row["closed_at"] == closing.created_at.isoformat()
    assert first_row["duration_hours"] == "30.00"
    assert first_row["opening_probe"] == str(first.pk)
    assert first_row["closing_probe"] == str(closing.pk)
    assert first_row["evidence_probes"] == f"{first.pk} {lowest.pk}"
    assert open_row["status"] == "open"
    assert open_row["closed_at"] == open_row["closing_probe"] == ""
    assert open_row["duration_hours"] == "1.50"
    assert open_row["lowest_price"] == "7500.00"


def test_a_retailer_named_like_a_formula_is_exported_as_text():
    retailer = RetailerFactory(name="=HYPERLINK(1)", retailer_type=Retailer.RetailerType.VENDOR)
    open_episode(vendor_listing(retailer))

    _, row = map_violations_csv_rows(violations())

    assert row[MAP_VIOLATION_CSV_COLUMNS.index("retailer")] == "'=HYPERLINK(1)"


def test_the_admin_exports_the_selected_violations_as_csv(staff_client):
    wanted = open_episode(vendor_listing())
    open_episode(vendor_listing())

    response = staff_client.post(
        VIOLATIONS_URL, {"action": "export_selected_as_csv", "_selected_action": [wanted.pk]}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    assert header == list(MAP_VIOLATION_CSV_COLUMNS)
    assert [row[0] for row in rows] == [str(wanted.pk)]
