"""The price review, MAP violation and product pages, through Django's test client.

Recommendations come from real rules and listings through `recommendations_refresh()`; MAP
episodes from price points recorded by scraping's service and checked by MAP enforcement.
"""

import csv
import io
import zlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Retailer
from ledger.models import LedgerEntry
from ledger.services import AppendRequest, ledger_append_many
from pricing.map_enforcement import map_violations_update
from pricing.models import MapViolation, PricingRule, Recommendation
from pricing.services import recommendation_reject, recommendations_refresh
from scraping.models import ProbePage
from scraping.services import price_point_record
from tests.conftest import grant
from tests.factories import (
    BrandFactory,
    ListingFactory,
    ProductFactory,
    RetailerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# --- Fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer")


@pytest.fixture
def decider(db):
    return grant(UserFactory(username="mia"), "pricing.change_recommendation")


@pytest.fixture
def rules(db):
    PricingRule.objects.create(name="Undercut by 50", kind="undercut", amount=Decimal("50"))
    PricingRule.objects.create(name="20% margin", kind="floor_margin", percent=Decimal("0.20"))
    PricingRule.objects.create(name="Never above MSRP", kind="ceiling_msrp")


def competitor(product, price: str, *, name: str, hours_ago: float = 1, available=True, **extra):
    seen = timezone.now() - timedelta(hours=hours_ago)
    return ListingFactory(
        product=product,
        retailer=RetailerFactory(name=name, retailer_type=Retailer.RetailerType.MARKETPLACE),
        last_price=Decimal(price),
        available=available,
        last_success_at=seen,
        last_probed_at=seen,
        last_probe_status="success",
        **extra,
    )


def watch(reference: str, *, brand: str = "Omega", category: str = "sports", **fields):
    values = {
        "msrp": Decimal("10000.00"),
        "cost": Decimal("6000.00"),
        "list_price": Decimal("9500.00"),
    }
    values.update(fields)
    return ProductFactory(
        brand=BrandFactory(name=brand, slug=brand.lower()),
        reference=reference,
        name=f"Watch {reference}",
        category=category,
        **values,
    )


def proposal_for(product) -> Recommendation:
    return Recommendation.objects.get(product=product, status=Recommendation.Status.PROPOSED)


def row_html(page: str, recommendation_id: int) -> str:
    start = page.index(f'<tr id="rec-{recommendation_id}"')
    return page[start : page.index("</tr>", start)]


def htmx(**extra):
    return {"HTTP_HX_REQUEST": "true", **extra}


@pytest.fixture
def speedmaster(rules):
    product = watch("310.30.42.50.01.002")
    competitor(product, "9200.00", name="Chrono Plaza")
    competitor(product, "9350.00", name="Watch Hub")
    competitor(product, "9900.00", name="Time Bazaar")
    competitor(product, "9990.00", name="Hour Mart")
    competitor(product, "8000.00", name="Sold Out Shop", available=False)
    recommendations_refresh()
    return product


# --- Logging in ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "needs_id"),
    [
        ("get", "pricing:review", False),
        ("get", "pricing:why", True),
        ("get", "pricing:map-violations", False),
        ("get", "pricing:map-violations-export", False),
        ("get", "pricing:product-detail", "product"),
        ("post", "pricing:approve", True),
        ("post", "pricing:reject", True),
        ("post", "pricing:decide", False),
        ("post", "pricing:recompute", False),
    ],
)
def test_every_page_sends_anonymous_visitors_to_log_in(client, speedmaster, method, name, needs_id):
    recommendation = proposal_for(speedmaster)
    args = {True: [recommendation.pk], "product": [speedmaster.pk], False: []}[needs_id]

    response = getattr(client, method)(reverse(name, args=args), {"ids": [recommendation.pk]})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert proposal_for(speedmaster).status == Recommendation.Status.PROPOSED


def test_the_product_page_is_pricings_at_the_address_scraping_links_to(speedmaster):
    assert reverse("pricing:product-detail", args=[speedmaster.pk]) == reverse(
        "scraping:product-detail", args=[speedmaster.pk]
    )


# --- The review page -------------------------------------------------------------------------


def test_the_review_page_shows_each_open_recommendation_with_its_market(
    client, viewer, speedmaster
):
    recommendation = proposal_for(speedmaster)
    client.force_login(viewer)

    page = client.get(reverse("pricing:review")).content.decode()

    row = row_html(page, recommendation.pk)
    assert "Omega" in row
    assert "310.30.42.50.01.002" in row
    assert "Watch 310.30.42.50.01.002" in row
    assert "9,500.00" in row  # our price
    assert "9,150.00" in row  # Chrono Plaza 9,200 - 50
    assert "-350.00" in row
    assert "-3.7%" in row
    assert "delta-down" in row
    # The three cheapest usable competitors, cheapest first; the out-of-stock one is not used.
    assert row.index("Chrono Plaza") < row.index("Watch Hub") < row.index("Time Bazaar")
    assert "Hour Mart" not in row
    assert "and 1 more" in row
    assert "Sold Out Shop" not in row
    assert "8,000.00" in row  # our MAP: MSRP x 0.80
    assert "Violation open" not in row
    assert 'class="status status-proposed"' in row


def test_viewers_see_no_decision_buttons(client, viewer, decider, speedmaster):
    url = reverse("pricing:review")

    client.force_login(viewer)
    as_viewer = client.get(url).content.decode()
    client.force_login(decider)
    as_decider = client.get(url).content.decode()

    assert "Approve" not in as_viewer
    assert "Recompute now" not in as_viewer
    assert 'name="ids"' not in as_viewer
    assert "Approve" in as_decider
    assert "Recompute now" in as_decider
    assert 'name="ids"' in as_decider


def test_a_product_with_a_vendor_below_map_is_flagged(client, viewer, speedmaster):
    vendor = ListingFactory(
        product=speedmaster,
        retailer=RetailerFactory(name="Jewel Discount", retailer_type=Retailer.RetailerType.VENDOR),
    )
    probe = price_point_record(listing=vendor, price=Decimal("7500.00"), currency="USD")
    map_violations_update(probe_id=probe.pk)
    client.force_login(viewer)

    page = client.get(reverse("pricing:review")).content.decode()

    assert "Violation open" in row_html(page, proposal_for(speedmaster).pk)


def test_the_review_page_filters_by_brand_category_retailer_and_status(client, viewer, rules):
    omega = watch("OMEGA-1", brand="Omega", category="dress")
    rolex = watch("ROLEX-1", brand="Rolex", category="sports")
    tudor = watch("TUDOR-1", brand="Tudor", category="sports")
    competitor(omega, "9000.00", name="Chrono Plaza")
    competitor(rolex, "9100.00", name="Watch Hub")
    competitor(tudor, "9200.00", name="Watch Hub")
    recommendations_refresh()
    recommendation_reject(recommendation_id=proposal_for(tudor).pk, user=viewer)
    client.force_login(viewer)
    url = reverse("pricing:review")

    def references(**query) -> set[str]:
        html = client.get(url, query).content.decode()
        return {ref for ref in ("OMEGA-1", "ROLEX-1", "TUDOR-1") if ref in html}

    assert references() == {"OMEGA-1", "ROLEX-1"}
    assert references(brand="rolex") == {"ROLEX-1"}
    assert references(category="dress") == {"OMEGA-1"}
    assert references(retailer="watch-hub") == {"ROLEX-1"}
    assert references(status="rejected") == {"TUDOR-1"}
    assert references(status="all", retailer="watch-hub") == {"ROLEX-1", "TUDOR-1"}
    assert references(status="applied") == set()


def test_filtering_with_htmx_answers_with_the_table_only(client, viewer, speedmaster):
    client.force_login(viewer)

    response = client.get(reverse("pricing:review"), {"brand": "omega"}, **htmx())

    html = response.content.decode()
    assert html.strip().startswith('<section id="review-table"')
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_the_review_page_reads_as_many_queries_for_25_rows_as_for_5(
    client, decider, rules, django_assert_num_queries
):
    def proposals(count: int, brand: str) -> None:
        for index in range(count):
            product = watch(f"{brand.upper()}-{index}", brand=brand)
            competitor(product, f"{9000 + index}.00", name=f"{brand} shop {index}")
            ListingFactory(
                product=product,
                retailer=RetailerFactory(
                    name=f"{brand} vendor {index}", retailer_type=Retailer.RetailerType.VENDOR
                ),
            )
        recommendations_refresh()

    proposals(5, "Five")
    proposals(25, "Many")
    client.force_login(decider)
    url = reverse("pricing:review")
    client.get(url, {"brand": "five"})  # session and permission caches warm up

    with CaptureQueriesContext(connection) as for_five:
        five = client.get(url, {"brand": "five"}).content.decode()
    with django_assert_num_queries(len(for_five)):
        many = client.get(url, {"brand": "many"}).content.decode()

    assert five.count('class="review-row') == 5
    assert many.count('class="review-row') == 25


# --- Deciding --------------------------------------------------------------------------------


def test_approving_with_htmx_answers_with_the_row_in_its_applied_state(
    client, decider, speedmaster
):
    recommendation = proposal_for(speedmaster)
    client.force_login(decider)

    response = client.post(reverse("pricing:approve", args=[recommendation.pk]), **htmx())

    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith(f'<tr id="rec-{recommendation.pk}"')
    assert "<html" not in html
    assert 'class="status status-applied"' in html
    assert "mia" in html
    assert "Approve</button>" not in html
    speedmaster.refresh_from_db()
    assert speedmaster.list_price == Decimal("9150.00")
    entry = LedgerEntry.objects.filter(
        product_id=speedmaster.pk, kind=LedgerEntry.Kind.LIST_PRICE_SET
    ).last()
    assert '"list_price":"9150.00"' in entry.payload


def test_approving_without_htmx_goes_back_with_a_message(client, decider, speedmaster):
    recommendation = proposal_for(speedmaster)
    client.force_login(decider)
    back_to = reverse("pricing:review") + "?brand=omega"

    response = client.post(reverse("pricing:approve", args=[recommendation.pk]), {"next": back_to})

    assert response.status_code == 302
    assert response["Location"] == back_to
    page = client.get(back_to).content.decode()
    assert "Approved Omega 310.30.42.50.01.002: our price is now 9,150.00 USD." in page


def test_rejecting_leaves_our_price_alone(client, decider, speedmaster):
    recommendation = proposal_for(speedmaster)
    client.force_login(decider)

    response = client.post(reverse("pricing:reject", args=[recommendation.pk]), **htmx())

    assert 'class="status status-rejected"' in response.content.decode()
    speedmaster.refresh_from_db()
    assert speedmaster.list_price == Decimal("9500.00")
    assert proposal_for_status(recommendation) == Recommendation.Status.REJECTED


def proposal_for_status(recommendation) -> str:
    recommendation.refresh_from_db()
    return recommendation.status


def test_deciding_again_shows_why_it_was_refused_in_the_row(client, decider, speedmaster):
    recommendation = proposal_for(speedmaster)
    recommendation_reject(recommendation_id=recommendation.pk, user=decider)
    client.force_login(decider)

    response = client.post(reverse("pricing:approve", args=[recommendation.pk]), **htmx())

    html = response.content.decode()
    assert "This recommendation was already rejected." in html
    assert 'class="status status-rejected"' in html
    speedmaster.refresh_from_db()
    assert speedmaster.list_price == Decimal("9500.00")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("pricing:approve", {}),
        ("pricing:reject", {}),
        ("pricing:decide", {"decision": "approve"}),
        ("pricing:recompute", {}),
    ],
)
def test_deciding_without_permission_is_forbidden_and_changes_nothing(
    client, viewer, speedmaster, name, data
):
    recommendation = proposal_for(speedmaster)
    args = [recommendation.pk] if name in ("pricing:approve", "pricing:reject") else []
    client.force_login(viewer)

    response = client.post(reverse(name, args=args), {"ids": [recommendation.pk], **data})

    assert response.status_code == 403
    assert proposal_for_status(recommendation) == Recommendation.Status.PROPOSED
    speedmaster.refresh_from_db()
    assert speedmaster.list_price == Decimal("9500.00")
    assert Recommendation.objects.count() == 1


@pytest.mark.parametrize("name", ["pricing:approve", "pricing:decide", "pricing:recompute"])
def test_a_post_without_the_csrf_token_is_refused(decider, speedmaster, name):
    recommendation = proposal_for(speedmaster)
    args = [recommendation.pk] if name == "pricing:approve" else []
    client = Client(enforce_csrf_checks=True)
    client.force_login(decider)

    response = client.post(
        reverse(name, args=args), {"ids": [recommendation.pk], "decision": "approve"}, **htmx()
    )

    assert response.status_code == 403
    assert proposal_for_status(recommendation) == Recommendation.Status.PROPOSED
    speedmaster.refresh_from_db()
    assert speedmaster.list_price == Decimal("9500.00")


def test_deciding_only_answers_post(client, decider, speedmaster):
    client.force_login(decider)

    response = client.get(reverse("pricing:approve", args=[proposal_for(speedmaster).pk]))

    assert response.status_code == 405


def test_bulk_approve_applies_the_open_ones_and_reports_the_refused_one(client, decider, rules):
    first, second, third = (watch(f"BULK-{n}") for n in range(3))
    for product in (first, second, third):
        competitor(product, "9200.00", name=f"Shop for {product.reference}")
    recommendations_refresh()
    already = proposal_for(second)
    recommendation_reject(recommendation_id=already.pk, user=decider)
    ids = [proposal_for(first).pk, already.pk, proposal_for(third).pk]
    client.force_login(decider)

    response = client.post(
        reverse("pricing:decide"),
        {"ids": ids, "decision": "approve", "next": reverse("pricing:review")},
        follow=True,
    )

    page = response.content.decode()
    assert response.redirect_chain == [(reverse("pricing:review"), 302)]
    assert "Approved 2 recommendations and applied their prices." in page
    assert "1 not decided. Omega BULK-1: This recommendation was already rejected." in page
    statuses = dict(Recommendation.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses == {ids[0]: "applied", ids[1]: "rejected", ids[2]: "applied"}
    for product in (first, third):
        product.refresh_from_db()
        assert product.list_price == Decimal("9150.00")


def test_bulk_reject_with_htmx_comes_back_as_the_table_with_the_message(client, decider, rules):
    products = [watch(f"HX-{n}") for n in range(2)]
    for product in products:
        competitor(product, "9200.00", name=f"Shop for {product.reference}")
    recommendations_refresh()
    ids = [proposal_for(product).pk for product in products]
    client.force_login(decider)

    response = client.post(
        reverse("pricing:decide"),
        {"ids": ids, "decision": "reject", "next": reverse("pricing:review") + "?status=all"},
        follow=True,
        **htmx(),
    )

    html = response.content.decode()
    assert html.strip().startswith('<section id="review-table"')
    assert "Rejected 2 recommendations." in html
    assert html.count('class="status status-rejected"') == 2


def test_bulk_deciding_with_nothing_ticked_says_so(client, decider, speedmaster):
    client.force_login(decider)

    response = client.post(reverse("pricing:decide"), {"decision": "approve"}, follow=True)

    assert "Tick at least one recommendation first." in response.content.decode()
    assert proposal_for(speedmaster).status == Recommendation.Status.PROPOSED


def test_recompute_now_raises_proposals_and_summarises(client, decider, rules):
    product = watch("RECOMPUTE-1")
    competitor(product, "9200.00", name="Chrono Plaza")
    watch("RECOMPUTE-2", list_price=None, msrp=None)
    client.force_login(decider)

    response = client.post(reverse("pricing:recompute"), follow=True)

    page = response.content.decode()
    assert (
        "Recomputed 2 products: 1 new proposal, 0 kept, 0 superseded, "
        "0 already at the right price, 1 without a price to start from, 1 with warnings." in page
    )
    assert proposal_for(product).recommended_price == Decimal("9150.00")
    assert "RECOMPUTE-1" in page


# --- Why? ------------------------------------------------------------------------------------


@pytest.fixture
def bound_by_margin(rules):
    """Undercutting to 9,150 would go below cost + 20% (10,200), above MSRP: the floor wins."""
    product = watch("FLOOR-1", cost=Decimal("8500.00"))
    competitor(product, "9200.00", name="Chrono Plaza")
    competitor(product, "9000.00", name="Stale Shop", hours_ago=24 * 10)
    competitor(product, "8800.00", name="Sold Out Shop", available=False)
    recommendations_refresh()
    return proposal_for(product)


def test_why_with_htmx_answers_with_the_explanation_row(client, viewer, bound_by_margin):
    client.force_login(viewer)

    response = client.get(reverse("pricing:why", args=[bound_by_margin.pk]), **htmx())

    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="why-{bound_by_margin.pk}" class="why-row open"')
    assert "<html" not in html
    steps = ["start", "Undercut by 50", "Never above MSRP", "20% margin"]
    positions = [html.index(f'<span class="rule">{step}</span>') for step in steps]
    assert positions == sorted(positions)
    assert "start from the list price, 9,500.00" in html
    assert "Chrono Plaza 9,200.00 - 50.00 = 9,150.00" in html
    assert "binds, price raised to 10,200.00" in html
    assert '<span class="badge badge-bound">20% margin</span> set the final price' in html
    assert "10,200.00" in html
    assert "floor 10,200.00 (margin) is above ceiling 10,000.00 (MSRP): the floor wins" in html
    assert "Stale Shop" in html and "stale: 10 days old" in html
    assert "Sold Out Shop" in html and "out of stock" in html
    used = html[html.index("Competitor prices used") : html.index("Ignored")]
    assert "Chrono Plaza" in used and "9,200.00" in used


def test_why_hides_again(client, viewer, bound_by_margin):
    client.force_login(viewer)

    response = client.get(
        reverse("pricing:why", args=[bound_by_margin.pk]), {"hide": "1"}, **htmx()
    )

    assert response.content.decode().strip() == (
        f'<tr id="why-{bound_by_margin.pk}" class="why-row" hidden></tr>'
    )


def test_why_without_javascript_is_a_page_of_its_own(client, viewer, bound_by_margin):
    client.force_login(viewer)

    page = client.get(reverse("pricing:why", args=[bound_by_margin.pk])).content.decode()

    assert "<html" in page
    assert "Steps, in the order they ran" in page
    assert "binds, price raised to 10,200.00" in page


# --- MAP violations --------------------------------------------------------------------------


@pytest.fixture
def violations(db):
    """Jewel Discount below MAP now (two readings); Gold Coast below MAP once, then back at MAP."""
    omega, rolex = (
        BrandFactory(name="Omega", slug="omega"),
        BrandFactory(name="Rolex", slug="rolex"),
    )
    jewel = RetailerFactory(name="Jewel Discount", retailer_type=Retailer.RetailerType.VENDOR)
    gold = RetailerFactory(name="Gold Coast", retailer_type=Retailer.RetailerType.VENDOR)
    seamaster = ProductFactory(brand=omega, reference="210.30.42.20.03.001", msrp=Decimal("6000"))
    submariner = ProductFactory(brand=rolex, reference="126610LN", msrp=Decimal("10000"))
    at_jewel = ListingFactory(product=seamaster, retailer=jewel)
    at_gold = ListingFactory(product=submariner, retailer=gold)

    def read(listing, price: str):
        probe = price_point_record(listing=listing, price=Decimal(price), currency="USD")
        map_violations_update(probe_id=probe.pk)
        return probe

    first = read(at_jewel, "4500.00")
    ProbePage.objects.create(
        probe=first, body=zlib.compress(b"<html>4500</html>"), size=17, sha256="0" * 64
    )
    read(at_jewel, "4400.00")
    read(at_gold, "7600.00")
    read(at_gold, "10000.00")
    return {
        "open": MapViolation.objects.get(listing=at_jewel),
        "closed": MapViolation.objects.get(listing=at_gold),
        "first_probe": first,
    }


def test_the_map_violation_page_shows_open_episodes_with_their_evidence(client, viewer, violations):
    episode = violations["open"]
    first = violations["first_probe"]
    client.force_login(viewer)

    page = client.get(reverse("pricing:map-violations")).content.decode()

    assert page.count('class="violation-row') == 1
    row = page[page.index(f'<tr id="violation-{episode.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Jewel Discount" in row
    assert "210.30.42.20.03.001" in row
    assert "4,800.00" in row  # MAP: 6,000 x 0.80
    assert "4,400.00" in row  # lowest and last
    assert reverse("scraping:listing-detail", args=[episode.listing_id]) in row
    assert reverse("scraping:probe-page", args=[first.pk]) in row
    assert f"/api/ledger/entries/{first.ledger_seq}" in row
    assert f"/api/ledger/entries/{episode.opened_ledger_seq}" in row
    assert "Still open" in row


def test_the_map_violation_page_filters_by_state_retailer_and_brand(client, viewer, violations):
    client.force_login(viewer)
    url = reverse("pricing:map-violations")

    def retailers(**query) -> set[str]:
        html = client.get(url, query).content.decode()
        html = html[html.index('<section id="violation-table"') :]
        return {name for name in ("Jewel Discount", "Gold Coast") if name in html}

    assert retailers() == {"Jewel Discount"}
    assert retailers(state="closed") == {"Gold Coast"}
    assert retailers(state="all") == {"Jewel Discount", "Gold Coast"}
    assert retailers(state="all", retailer="gold-coast") == {"Gold Coast"}
    assert retailers(state="all", brand="omega") == {"Jewel Discount"}
    closed = client.get(url, {"state": "closed"}).content.decode()
    closed_episode = violations["closed"]
    assert f"/api/ledger/entries/{closed_episode.closed_ledger_seq}" in closed


def test_the_csv_export_keeps_the_filters(client, viewer, violations):
    client.force_login(viewer)
    page = client.get(reverse("pricing:map-violations"), {"state": "all", "brand": "rolex"})
    export_url = reverse("pricing:map-violations-export") + "?state=all&amp;brand=rolex"
    assert export_url in page.content.decode()

    response = client.get(
        reverse("pricing:map-violations-export"), {"state": "all", "brand": "rolex"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="map-violations-all-')
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["retailer"], row["status"]) for row in rows] == [("Gold Coast", "closed")]
    assert rows[0]["reference"] == "126610LN"
    assert rows[0]["map_price"] == "8000.00"
    assert rows[0]["lowest_price"] == "7600.00"
    assert rows[0]["closed_ledger_seq"] == str(violations["closed"].closed_ledger_seq)


def test_the_csv_export_shows_open_episodes_by_default(client, viewer, violations):
    client.force_login(viewer)

    response = client.get(reverse("pricing:map-violations-export"))

    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["retailer"] for row in rows] == ["Jewel Discount"]
    assert rows[0]["evidence_probes"].split() == [
        str(pk) for pk in violations["open"].evidence.order_by("pk").values_list("pk", flat=True)
    ]


def test_the_map_violation_page_reads_as_many_queries_for_25_episodes_as_for_5(
    client, viewer, django_assert_num_queries
):
    def episodes(count: int, brand: str) -> None:
        maker = BrandFactory(name=brand, slug=brand.lower())
        for index in range(count):
            listing = ListingFactory(
                product=ProductFactory(brand=maker, msrp=Decimal("10000")),
                retailer=RetailerFactory(
                    name=f"{brand} vendor {index}", retailer_type=Retailer.RetailerType.VENDOR
                ),
            )
            for price in ("7000.00", "6900.00"):
                probe = price_point_record(listing=listing, price=Decimal(price), currency="USD")
                map_violations_update(probe_id=probe.pk)

    episodes(5, "Five")
    episodes(25, "Many")
    client.force_login(viewer)
    url = reverse("pricing:map-violations")
    client.get(url, {"brand": "five"})

    with CaptureQueriesContext(connection) as for_five:
        five = client.get(url, {"brand": "five"}).content.decode()
    with django_assert_num_queries(len(for_five)):
        many = client.get(url, {"brand": "many"}).content.decode()

    assert five.count('class="violation-row') == 5
    assert many.count('class="violation-row') == 25


# --- The product page ------------------------------------------------------------------------


def test_the_product_page_shows_the_chart_recommendation_and_listings(client, decider, speedmaster):
    grant(decider, "catalog.change_listing")
    client.force_login(decider)

    page = client.get(reverse("pricing:product-detail", args=[speedmaster.pk])).content.decode()

    assert '<svg xmlns="http://www.w3.org/2000/svg" class="price-chart"' in page
    assert '<g class="level" data-level="MSRP"' in page
    assert '<g class="level" data-level="MAP" data-value="8000.00"' in page
    assert "<summary>The numbers" in page
    assert "Approve and set our price" in page
    assert "9,150.00" in page
    assert "Steps, in the order they ran" in page
    # The listing rows are scraping's partial, Probe Now included.
    for listing in speedmaster.listings.all():
        assert f'<tr id="listing-{listing.pk}" class="listing-row' in page
    assert page.count("Probe Now</button>") == speedmaster.listings.count()


def test_the_product_page_hides_decisions_from_viewers(client, viewer, speedmaster):
    client.force_login(viewer)

    page = client.get(reverse("pricing:product-detail", args=[speedmaster.pk])).content.decode()

    assert "Approve and set our price" not in page
    assert "Probe Now" not in page
    assert "9,150.00" in page


def test_approving_on_the_product_page_comes_back_to_it(client, decider, speedmaster):
    url = reverse("pricing:product-detail", args=[speedmaster.pk])
    client.force_login(decider)

    response = client.post(
        reverse("pricing:approve", args=[proposal_for(speedmaster).pk]), {"next": url}, follow=True
    )

    assert response.redirect_chain == [(url, 302)]
    page = response.content.decode()
    assert "our price is now 9,150.00 USD" in page
    assert 'class="status status-applied"' in page


def test_the_product_page_charts_our_price_and_each_retailers_observations(client, viewer, rules):
    product = watch("CHART-1")
    plaza = competitor(product, "9200.00", name="Chrono Plaza")
    for price in ("9300.00", "9250.00", "9200.00"):
        price_point_record(listing=plaza, price=Decimal(price), currency="USD", available=True)
    client.force_login(viewer)

    page = client.get(reverse("pricing:product-detail", args=[product.pk])).content.decode()

    assert 'data-series="Chrono Plaza" data-index="0" data-points="3"' in page
    assert '<g class="legend-item" data-name="Chrono Plaza">' in page


def test_the_chart_covers_a_year_starting_from_our_price_then_in_force(client, viewer):
    product = watch("CHART-2")
    plaza = ListingFactory(product=product, retailer=RetailerFactory(name="Chrono Plaza"))
    now = timezone.now()

    def our_price(price: str, days_ago: int) -> AppendRequest:
        return AppendRequest(
            kind=LedgerEntry.Kind.LIST_PRICE_SET,
            product_id=product.pk,
            payload={"list_price": Decimal(price), "currency": "USD"},
            recorded_at=now - timedelta(days=days_ago),
        )

    def observed(price: str, days_ago: int) -> AppendRequest:
        return AppendRequest(
            kind=LedgerEntry.Kind.OBSERVATION,
            product_id=product.pk,
            listing_id=plaza.pk,
            retailer_id=plaza.retailer_id,
            payload={"retailer": plaza.retailer_id, "price": Decimal(price), "currency": "USD"},
            recorded_at=now - timedelta(days=days_ago),
        )

    ledger_append_many(
        requests=[
            our_price("9900.00", 500),
            observed("9111.00", 450),
            our_price("9800.00", 400),
            observed("9222.00", 100),
            our_price("9500.00", 30),
        ]
    )
    client.force_login(viewer)

    page = client.get(reverse("pricing:product-detail", args=[product.pk])).content.decode()

    # 9,800 was our price when the year began; 9,900 and the 450-day-old reading are older.
    assert 'data-series="Our price" data-index="0" data-points="2"' in page
    assert 'data-series="Chrono Plaza" data-index="1" data-points="1"' in page
    numbers = page[page.index('<details class="chart-data">') :]
    assert "9,800.00" in numbers and "9,500.00" in numbers and "9,222.00" in numbers
    assert "9,900.00" not in numbers and "9,111.00" not in numbers


def test_a_missing_product_is_not_found(client, viewer):
    client.force_login(viewer)

    assert client.get(reverse("pricing:product-detail", args=[999_999])).status_code == 404
