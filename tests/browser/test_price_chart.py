"""The product page's price history chart in a real Chromium, drawn from real ledger entries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Retailer
from ledger.models import LedgerEntry
from ledger.services import AppendRequest, ledger_append_many
from pricing.models import PricingRule
from pricing.services import recommendations_refresh
from tests.browser.conftest import log_in
from tests.conftest import grant
from tests.factories import (
    BrandFactory,
    ListingFactory,
    ProductFactory,
    RetailerFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where a person looks at the page after a run.
SCREENSHOT = "/tmp/price_chart.png"  # noqa: S108


def history(product, *, ours, observed):
    """Our list price set and retailers' prices observed over the past weeks, in the ledger as
    the catalog and the probes record them."""
    now = timezone.now()
    requests = []
    previous = None
    for days_ago, price in ours:
        requests.append(
            AppendRequest(
                kind=LedgerEntry.Kind.LIST_PRICE_SET,
                product_id=product.pk,
                payload={
                    "product": {
                        "id": product.pk,
                        "brand": product.brand.name,
                        "reference": product.reference,
                    },
                    "list_price": Decimal(price),
                    "previous": previous,
                    "currency": product.currency,
                    "source": "admin",
                    "changed_by": "mia",
                },
                recorded_at=now - timedelta(days=days_ago),
            )
        )
        previous = Decimal(price)
    for listing, readings in observed:
        for days_ago, price in readings:
            requests.append(
                AppendRequest(
                    kind=LedgerEntry.Kind.OBSERVATION,
                    product_id=product.pk,
                    listing_id=listing.pk,
                    retailer_id=listing.retailer_id,
                    payload={
                        "probe": None,
                        "listing": listing.pk,
                        "product": product.pk,
                        "retailer": listing.retailer_id,
                        "price": Decimal(price),
                        "regular_price": None,
                        "currency": "USD",
                        "available": True,
                        "url": listing.url,
                        "final_url": "",
                        "page_sha256": "",
                        "observed_at": now - timedelta(days=days_ago),
                    },
                )
            )
    requests.sort(key=lambda request: request.recorded_at or now)
    ledger_append_many(requests=requests)


def test_the_product_page_charts_our_price_each_retailer_msrp_and_map(page):
    grant(UserFactory(username="pricing", is_staff=True), "pricing.change_recommendation")
    PricingRule.objects.create(name="Undercut by 50", kind="undercut", amount=Decimal("50"))
    PricingRule.objects.create(name="20% margin", kind="floor_margin", percent=Decimal("0.20"))
    PricingRule.objects.create(name="Never below MAP", kind="floor_map")
    product = ProductFactory(
        brand=BrandFactory(name="Omega", slug="omega"),
        reference="310.30.42.50.01.002",
        name="Speedmaster Moonwatch Professional",
        msrp=Decimal("10000.00"),
        cost=Decimal("6000.00"),
        list_price=Decimal("9400.00"),
    )
    seen = timezone.now() - timedelta(hours=3)

    def listing(name: str, kind: str, price: str):
        return ListingFactory(
            product=product,
            retailer=RetailerFactory(name=name, retailer_type=kind),
            last_price=Decimal(price),
            available=True,
            last_success_at=seen,
            last_probed_at=seen,
            last_probe_status="success",
        )

    plaza = listing("Chrono Plaza", Retailer.RetailerType.MARKETPLACE, "9180.00")
    hub = listing("Watch Hub", Retailer.RetailerType.MARKETPLACE, "9390.00")
    jewel = listing("Jewel Discount", Retailer.RetailerType.VENDOR, "7900.00")
    history(
        product,
        ours=[(40, "9950.00"), (26, "9700.00"), (9, "9400.00")],
        observed=[
            (
                plaza,
                [
                    (38, "9600.00"),
                    (31, "9550.00"),
                    (24, "9490.00"),
                    (15, "9350.00"),
                    (6, "9250.00"),
                    (0.2, "9180.00"),
                ],
            ),
            (hub, [(35, "9800.00"), (21, "9650.00"), (10, "9500.00"), (0.3, "9390.00")]),
            (jewel, [(12, "8200.00"), (0.5, "7900.00")]),
        ],
    )
    recommendations_refresh()

    log_in(page, username="pricing", password="correct horse battery staple")
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(f"/products/{product.pk}/")

    chart = page.locator("svg.price-chart")
    expect(chart).to_be_visible()
    assert chart.get_attribute("role") == "img"
    assert (
        "Price history of Omega 310.30.42.50.01.002" in chart.locator("title").first.text_content()
    )
    assert "Chrono Plaza, Jewel Discount, Watch Hub" in chart.locator("desc").text_content()
    expected = {"Our price": 3, "Chrono Plaza": 6, "Jewel Discount": 2, "Watch Hub": 4}
    series = chart.locator("g.series")
    assert series.count() == len(expected)
    for name, count in expected.items():
        group = chart.locator(f'g.series[data-series="{name}"]')
        assert group.locator("polyline").count() == 1
        assert group.locator("circle").count() == count
        vertices = group.locator("polyline").get_attribute("points").split()
        # Our price holds between changes (a corner per change) and to today.
        assert len(vertices) == (2 * count if name == "Our price" else count)
    assert chart.locator('g.level[data-level="MSRP"] line').count() == 1
    assert chart.locator('g.level[data-level="MAP"] line').count() == 1
    assert chart.locator('g.level[data-level="MAP"] text').text_content() == "MAP 8,000.00"
    legend = chart.locator("g.legend text").all_text_contents()
    assert legend == ["Our price", "Chrono Plaza", "Jewel Discount", "Watch Hub", "MSRP", "MAP"]
    assert chart.locator("g.axis-x text").count() >= 4
    box = chart.bounding_box()
    assert box["width"] > 600 and box["height"] > 250

    # The numbers behind it, for anyone who can't see the chart.
    page.get_by_text("The numbers").click()
    table = page.locator("details.chart-data table")
    expect(table).to_be_visible()
    assert table.locator("tbody tr").count() == sum(expected.values()) + 2

    # The recommendation and the listings (scraping's rows, Probe Now included) below it.
    # Undercutting Jewel Discount's 7,900 would go below our MAP, which floors it.
    expect(page.locator("#recommendation [data-field=recommended]")).to_contain_text("8,000.00")
    expect(page.locator(".explanation [data-field=bound]")).to_contain_text("Never below MAP")
    expect(page.get_by_role("button", name="Approve and set our price")).to_be_visible()
    expect(page.locator(".listing-row")).to_have_count(3)
    page.locator("details.chart-data").evaluate("(details) => { details.open = false; }")
    page.screenshot(path=SCREENSHOT, full_page=True)
