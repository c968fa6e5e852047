"""The market dashboard in a real Chromium: filters and ranges update the sections in place."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pricing.market.services import market_rollups_refresh
from tests.browser.conftest import log_in
from tests.factories import UserFactory
from tests.pricing.test_market_dashboard import build_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where a person looks at the page after a run.
SCREENSHOT = "/tmp/market_dashboard.png"  # noqa: S108


def drop_marker(page) -> None:
    # A full page load would take this marker with it.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<i id=\"still-here\"></i>')")


def test_brand_and_date_range_update_the_sections_in_place(page):
    UserFactory(username="analyst", is_staff=True)
    build_market()
    market_rollups_refresh()
    today = timezone.now().date()

    log_in(page, username="analyst", password="correct horse battery staple")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/market/")
    sections = page.locator("#market-sections")
    expect(sections).to_have_attribute("data-scope", "Whole catalog")
    expect(page.locator(".market-as-of")).to_contain_text("Figures as of")
    expect(page.locator("[data-field=cheapest] dd")).to_have_text("2")
    expect(page.locator("[data-field=above] dd")).to_have_text("1")
    expect(page.locator(".mover-down tbody tr")).to_have_count(2)
    expect(page.locator("#market-trend svg.price-chart")).to_have_count(1)
    page.screenshot(path=SCREENSHOT, full_page=True)
    drop_marker(page)

    page.get_by_label("Brand").select_option("rolex")

    expect(sections).to_have_attribute("data-scope", "Rolex")
    expect(page).to_have_url(re.compile(r"/market/\?brand=rolex&"))
    expect(page.locator("[data-field=cheapest] dd")).to_have_text("1")
    expect(page.locator("[data-field=above] dd")).to_have_text("0")
    expect(page.locator(".mover-down tbody tr")).to_have_count(1)
    expect(page.locator(".mover-down tbody tr")).to_contain_text("S1")
    expect(
        page.locator('#market-trend svg [data-series="Market price index (daily mean)"]')
    ).to_have_attribute("data-points", "2")
    assert page.locator("#still-here").count() == 1

    page.locator(".segments label", has_text="30 days").click()

    expect(page).to_have_url(re.compile(r"period=30&"))
    expect(sections).to_have_attribute("data-from", f"{today - timedelta(days=29):%Y-%m-%d}")
    expect(page.locator(".market-scope")).to_contain_text("30 days")
    # The date fields follow the range shown.
    expect(page.locator("input[name=from]")).to_have_value(f"{today - timedelta(days=29):%Y-%m-%d}")
    assert page.locator("#still-here").count() == 1

    # A week that ended two days ago: only the probes of two days ago are in it.
    start, end = today - timedelta(days=8), today - timedelta(days=2)
    page.locator("input[name=from]").fill(f"{start:%Y-%m-%d}")

    # Typing a date makes the range custom.
    expect(page).to_have_url(re.compile(r"period=custom&"))
    expect(page.locator(".segments input[value=custom]")).to_be_checked()
    page.locator("input[name=to]").fill(f"{end:%Y-%m-%d}")

    expect(sections).to_have_attribute("data-to", f"{end:%Y-%m-%d}")
    expect(page.locator(".trend-table tbody tr")).to_have_count(1)
    expect(page.locator(".trend-table tbody tr")).to_contain_text("105.0")
    expect(page.locator(".mover-down")).to_contain_text("No listing moved down")
    # Movers over a custom range are not precomputed: the page says they were computed live.
    expect(page.locator(".movers-live")).to_be_visible()
    assert page.locator("#still-here").count() == 1
    assert "brand=rolex" in page.url and f"from={start:%Y-%m-%d}" in page.url
    page.screenshot(path=SCREENSHOT, full_page=True)
