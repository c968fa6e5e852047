from datetime import UTC, datetime, timedelta

import pytest

from catalog.models import Retailer
from scraping.demo_marketplace import offer_for, serve_in_thread
from scraping.models import Probe
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

SPEEDMASTER = "310.30.42.50.01.002"
SPEEDMASTER_PATH = "/meridian-boutique/watches/omega/310-30-42-50-01-002"


@pytest.fixture
def marketplace(settings):
    server, base_url = serve_in_thread(port=0)
    settings.FETCH_ALLOWED_HOSTS = [f"127.0.0.1:{server.server_port}"]
    yield base_url
    server.shutdown()
    server.server_close()


def shown_prices(reference: str) -> set[str]:
    """What the Meridian page shows, this hour or the next should the hour turn mid-test."""
    now = datetime.now(tz=UTC)
    offers = (
        offer_for("meridian-boutique", reference, at) for at in (now, now + timedelta(hours=1))
    )
    return {f"{offer.shown_price:,.2f}" for offer in offers}


def test_probe_now_puts_the_new_price_in_the_row_without_reloading_the_page(page, marketplace):
    grant(UserFactory(username="pricing", is_staff=True), "catalog.change_listing")
    meridian = RetailerFactory(
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
    listing = ListingFactory(
        product=product, retailer=meridian, url=f"{marketplace}{SPEEDMASTER_PATH}"
    )
    prices = shown_prices(SPEEDMASTER)

    log_in(page, username="pricing", password="correct horse battery staple")
    page.goto(f"/products/{product.pk}/")
    row = page.locator(f"#listing-{listing.pk}")
    assert row.locator(".probe-status").inner_text().strip() == "Not probed yet"
    # A full page load would take this marker with it.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<i id=\"still-here\"></i>')")
    url_before = page.url

    row.get_by_role("button", name="Probe Now").click()

    status = row.locator(".probe-status .status")
    status.wait_for()
    assert status.inner_text() == "Success"
    assert row.locator("[data-field=last-price]").inner_text().split("\xa0")[0] in prices
    assert page.url == url_before
    assert page.locator("#still-here").count() == 1
    probe = Probe.objects.get(listing=listing)
    assert probe.status == Probe.Status.SUCCESS
    assert probe.trigger == Probe.Trigger.MANUAL
