"""Deciding recommendations on the review page in a real Chromium, with real rules and market."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Retailer
from ledger.models import LedgerEntry
from pricing.models import PricingRule, Recommendation
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
SCREENSHOT = "/tmp/price_review.png"  # noqa: S108


def market(references: list[str]) -> dict[str, Recommendation]:
    """Undercut-by-50 and margin rules, a competitor at 9,200 for each watch, recomputed."""
    PricingRule.objects.create(name="Undercut by 50", kind="undercut", amount=Decimal("50"))
    PricingRule.objects.create(name="20% margin", kind="floor_margin", percent=Decimal("0.20"))
    PricingRule.objects.create(name="Never above MSRP", kind="ceiling_msrp")
    omega = BrandFactory(name="Omega", slug="omega")
    seen = timezone.now() - timedelta(hours=2)
    plaza = RetailerFactory(name="Chrono Plaza", retailer_type=Retailer.RetailerType.MARKETPLACE)
    hub = RetailerFactory(name="Watch Hub", retailer_type=Retailer.RetailerType.MARKETPLACE)
    for index, reference in enumerate(references):
        product = ProductFactory(
            brand=omega,
            reference=reference,
            name=f"Speedmaster {index + 1}",
            msrp=Decimal("10000.00"),
            cost=Decimal("6000.00"),
            list_price=Decimal("9500.00"),
        )
        for retailer, price in ((plaza, 9200 + index * 10), (hub, 9420 - index * 5)):
            ListingFactory(
                product=product,
                retailer=retailer,
                last_price=Decimal(price),
                available=True,
                last_success_at=seen,
                last_probed_at=seen,
                last_probe_status="success",
            )
    recommendations_refresh()
    return {
        r.product.reference: r
        for r in Recommendation.objects.select_related("product").filter(status="proposed")
    }


def drop_marker(page) -> None:
    # A full page load would take this marker with it.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<i id=\"still-here\"></i>')")


def test_approving_in_the_row_applies_our_new_price_without_reloading(page):
    grant(UserFactory(username="pricing", is_staff=True), "pricing.change_recommendation")
    proposals = market(["310.30.42.50.01.001", "310.30.42.50.01.002", "310.30.42.50.01.003"])
    recommendation = proposals["310.30.42.50.01.002"]

    log_in(page, username="pricing", password="correct horse battery staple")
    page.goto("/review/")
    row = page.locator(f"#rec-{recommendation.pk}")
    expect(row.locator("[data-field=status]")).to_have_text("Proposed")
    page.set_viewport_size({"width": 1440, "height": 900})
    row.get_by_role("link", name="Why?").click()
    why = page.locator(f"#why-{recommendation.pk}")
    expect(why).to_contain_text("Steps, in the order they ran")
    expect(why).to_contain_text("Chrono Plaza 9,210.00 - 50.00 = 9,160.00")
    page.screenshot(path=SCREENSHOT, full_page=True)
    drop_marker(page)
    url_before = page.url

    row.get_by_role("button", name="Approve").click()

    expect(row.locator("[data-field=status]")).to_have_text("Applied")
    expect(row).to_contain_text("pricing")
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)
    assert page.url == url_before
    assert page.locator("#still-here").count() == 1
    product = recommendation.product
    product.refresh_from_db()
    assert product.list_price == Decimal("9160.00")
    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.APPLIED
    entry = LedgerEntry.objects.get(seq=recommendation.ledger_seq)
    assert entry.kind == LedgerEntry.Kind.LIST_PRICE_SET
    assert entry.product_id == product.pk
    assert '"list_price":"9160.00"' in entry.payload
    assert '"previous":"9500.00"' in entry.payload


def test_rejecting_several_at_once_reloads_the_table_with_what_happened(page):
    grant(UserFactory(username="pricing", is_staff=True), "pricing.change_recommendation")
    proposals = market(["A-1", "A-2", "A-3"])
    first, second = proposals["A-1"], proposals["A-2"]

    log_in(page, username="pricing", password="correct horse battery staple")
    page.goto("/review/")
    drop_marker(page)
    page.get_by_label("Tick Omega A-1").check()
    page.get_by_label("Tick Omega A-2").check()

    page.locator("#bulk-decide").get_by_role("button", name="Reject").click()

    table = page.locator("#review-table")
    expect(table.locator(".message-success")).to_have_text("Rejected 2 recommendations.")
    expect(table.locator(".review-row")).to_have_count(1)
    assert page.locator("#still-here").count() == 1
    statuses = set(
        Recommendation.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
    )
    assert statuses == {Recommendation.Status.REJECTED}
    assert Recommendation.objects.get(pk=proposals["A-3"].pk).status == "proposed"
