"""The demo marketplace over real HTTP on loopback, with the clock pinned."""

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.utils.text import slugify
from protego import Protego
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from catalog.demo import RETAILERS, WATCHES, retailer_path_part
from scraping.demo_marketplace import (
    JEWEL_DISCOUNT_SELECTORS,
    offer_for,
    serve_in_thread,
)
from scraping.demo_marketplace.__main__ import main

AT = datetime(2026, 3, 2, 14, tzinfo=UTC)
MAP_SHARE = Decimal("0.80")
SPEEDMASTER = "310.30.42.50.01.002"
SPEEDMASTER_PATH = "/watches/omega/310-30-42-50-01-002"
DAYTONA_PATH = "/watches/rolex/126500ln"


class PinnedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock():
    return PinnedClock(AT)


@pytest.fixture
def site(clock):
    server, base_url = serve_in_thread(port=0, clock=clock)
    with httpx.Client(base_url=base_url, timeout=5) as client:
        yield client
    server.shutdown()
    server.server_close()


def origin(site: httpx.Client) -> str:
    return str(site.base_url).rstrip("/")


def json_ld(html: str) -> list[dict]:
    nodes = HTMLParser(html).css('script[type="application/ld+json"]')
    return [json.loads(node.text()) for node in nodes]


def dollars(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.]", "", text))


def msrp(reference: str) -> Decimal:
    return next(Decimal(watch.msrp) for watch in WATCHES if watch.reference == reference)


def hours_from(start: datetime, days: int):
    return (start + timedelta(hours=hour) for hour in range(days * 24))


def test_meridian_boutique_publishes_json_ld_with_the_offer_price(site):
    truth = offer_for("meridian-boutique", SPEEDMASTER, AT)

    page = site.get(f"/meridian-boutique{SPEEDMASTER_PATH}")

    assert page.status_code == 200
    (product,) = json_ld(page.text)
    assert product["@type"] == "Product"
    assert Decimal(product["offers"]["price"]) == truth.price == msrp(SPEEDMASTER)
    assert product["offers"]["priceCurrency"] == "USD"
    assert product["offers"]["availability"].startswith("https://schema.org/")
    assert product["mpn"] == SPEEDMASTER
    assert product["sku"] == "MER00023"
    assert product["gtin13"] == "7612345678906"


def test_hallmark_jewelers_marks_its_price_up_in_microdata_only(site):
    truth = offer_for("hallmark-jewelers", SPEEDMASTER, AT)

    page = site.get(f"/hallmark-jewelers{SPEEDMASTER_PATH}")

    tree = HTMLParser(page.text)
    assert json_ld(page.text) == []
    offer = tree.css_first('[itemtype="https://schema.org/Product"] [itemprop=offers]')
    assert Decimal(offer.css_first("[itemprop=price]").attributes["content"]) == truth.price
    assert offer.css_first("[itemprop=priceCurrency]").attributes["content"] == "USD"
    availability = offer.css_first("[itemprop=availability]").attributes["href"]
    assert availability == "https://schema.org/" + ("InStock" if truth.available else "OutOfStock")
    assert tree.css_first("[itemprop=mpn]").text() == SPEEDMASTER


def test_chrono_plaza_keeps_its_listing_and_several_sellers_in_next_data(site):
    truth = offer_for("chrono-plaza", "126500LN", AT)

    page = site.get(f"/chrono-plaza{DAYTONA_PATH}")

    assert json_ld(page.text) == []
    state = json.loads(HTMLParser(page.text).css_first("script#__NEXT_DATA__").text())
    listing = state["props"]["pageProps"]["listing"]
    assert Decimal(listing["price"]["amount"]) == truth.price
    assert truth.price > msrp("126500LN")
    assert len(listing["offers"]) >= 2
    assert min(Decimal(item["price"]["amount"]) for item in listing["offers"]) == truth.price
    assert f"${truth.price:,.0f}" in page.text


def test_jewel_discount_is_read_with_the_selectors_an_admin_configures(site):
    truth = offer_for("jewel-discount", SPEEDMASTER, AT)

    page = site.get(f"/jewel-discount{SPEEDMASTER_PATH}")

    tree = HTMLParser(page.text)
    assert json_ld(page.text) == []
    assert tree.css_first("[itemprop]") is None

    def read(field: str) -> str:
        return tree.css_first(JEWEL_DISCOUNT_SELECTORS[field]).text().strip()

    assert dollars(read("price")) == truth.price
    assert re.fullmatch(r"\$[\d,]+\.\d\d", read("price"))
    assert read("title") == "Omega Speedmaster Moonwatch Professional"
    assert read("reference") == SPEEDMASTER
    assert read("sku") == "JEW00023"
    assert read("availability") == ("In stock" if truth.available else "Sold out")
    # The deal banner and the carousel reuse the class: an unscoped selector reads another watch.
    assert dollars(tree.css_first(".product-price").text()) != truth.price


def test_tick_exchange_publishes_an_aggregate_offer_and_a_visible_price(site):
    truth = offer_for("tick-exchange", "5711/1A-010", AT)

    page = site.get("/tick-exchange/watches/patek-philippe/5711-1a-010")

    (product,) = json_ld(page.text)
    offers = product["offers"]
    assert offers["@type"] == "AggregateOffer"
    assert Decimal(offers["lowPrice"]) == truth.price
    assert Decimal(offers["highPrice"]) > truth.price
    visible = HTMLParser(page.text).css_first(".tx-price__amount").text()
    assert dollars(visible) == truth.price


def test_megamart_puts_its_price_in_a_json_ld_graph_and_open_graph(site, clock):
    clock.at = next(
        at for at in hours_from(AT, 2) if not offer_for("megamart", SPEEDMASTER, at).blocked
    )
    truth = offer_for("megamart", SPEEDMASTER, clock.at)

    page = site.get(f"/megamart{SPEEDMASTER_PATH}")

    (document,) = json_ld(page.text)
    (product,) = [node for node in document["@graph"] if node["@type"] == "Product"]
    assert Decimal(product["offers"]["price"]) == truth.price
    og_price = HTMLParser(page.text).css_first('meta[property="product:price:amount"]')
    assert Decimal(og_price.attributes["content"]) == truth.price


def test_megamart_hides_one_price_under_map_until_the_watch_is_in_the_cart(site, clock):
    reference = "210.30.42.20.03.001"
    clock.at = next(
        at for at in hours_from(AT, 2) if not offer_for("megamart", reference, at).blocked
    )
    truth = offer_for("megamart", reference, clock.at)

    page = site.get("/megamart/watches/omega/210-30-42-20-03-001")

    assert truth.price_hidden
    assert truth.shown_price is None
    assert truth.price < msrp(reference) * MAP_SHARE
    assert "Add to cart to see price" in page.text
    assert 'property="product:price:amount"' not in page.text
    (document,) = json_ld(page.text)
    (product,) = [node for node in document["@graph"] if node["@type"] == "Product"]
    assert "price" not in product["offers"]


def test_prices_change_between_two_pinned_days(site, clock):
    week_later = AT + timedelta(days=7)
    first = offer_for("chrono-plaza", "126500LN", AT)
    second = offer_for("chrono-plaza", "126500LN", week_later)

    before = site.get(f"/chrono-plaza{DAYTONA_PATH}")
    clock.at = week_later
    after = site.get(f"/chrono-plaza{DAYTONA_PATH}")

    assert first.price != second.price
    assert f"${first.price:,.0f}" in before.text
    assert f"${second.price:,.0f}" in after.text


def test_prices_end_in_whole_dollars_or_ninety_nine_cents():
    prices = [
        offer_for(slugify(retailer.name), watch.reference, AT + timedelta(days=day)).price
        for retailer in RETAILERS
        for watch in WATCHES
        for day in range(0, 28, 3)
    ]

    endings = {price % 1 for price in prices if price is not None}
    assert endings == {Decimal("0.00"), Decimal("0.99")}


def test_a_retired_reference_redirects_to_another_products_page(site):
    truth = offer_for("hallmark-jewelers", "124060", AT)

    page = site.get("/hallmark-jewelers/watches/rolex/124060")

    assert truth.redirect_to == "126610LN"
    assert truth.shown_price is None
    assert page.status_code == 302
    assert page.headers["location"].endswith("/hallmark-jewelers/watches/rolex/126610ln")
    landed = site.get(page.headers["location"])
    assert landed.status_code == 200
    assert HTMLParser(landed.text).css_first("[itemprop=mpn]").text() == "126610LN"


def test_megamart_shows_a_captcha_exactly_when_the_truth_says_blocked(site, clock):
    hours = list(hours_from(AT, 1))
    blocked = [at for at in hours if offer_for("megamart", SPEEDMASTER, at).blocked]
    open_hours = [at for at in hours if not offer_for("megamart", SPEEDMASTER, at).blocked]
    assert blocked
    assert open_hours

    clock.at = blocked[0]
    wall = site.get(f"/megamart{SPEEDMASTER_PATH}")
    clock.at = open_hours[0]
    product = site.get(f"/megamart{SPEEDMASTER_PATH}")

    assert wall.status_code == 200
    assert "Please verify you are a human" in wall.text
    assert HTMLParser(wall.text).css_first("#px-captcha") is not None
    assert json_ld(wall.text) == []
    assert "Please verify you are a human" not in product.text
    assert json_ld(product.text)


def test_jewel_discount_advertises_under_map_on_some_days_of_a_month_and_not_others(site, clock):
    days = [AT + timedelta(days=day) for day in range(30)]
    flagged = {
        watch.reference: [
            at
            for at in days
            if offer_for("jewel-discount", watch.reference, at).price
            < Decimal(watch.msrp) * MAP_SHARE
        ]
        for watch in WATCHES
    }
    under_map = {reference: found for reference, found in flagged.items() if found}
    assert under_map, "no reference went under MAP at Jewel Discount in 30 days"
    reference, violations = next(iter(under_map.items()))
    assert len(violations) < len(days)

    clock.at = violations[0]
    brand = next(watch.brand for watch in WATCHES if watch.reference == reference)
    path = f"/watches/{retailer_path_part(brand)}/{retailer_path_part(reference)}"
    tree = HTMLParser(site.get(f"/jewel-discount{path}").text)

    price = dollars(tree.css_first(JEWEL_DISCOUNT_SELECTORS["price"]).text())
    was = dollars(tree.css_first(JEWEL_DISCOUNT_SELECTORS["regular_price"]).text())
    assert price < msrp(reference) * MAP_SHARE
    assert price < was
    assert all(
        offer_for("jewel-discount", reference, at).price >= msrp(reference) * MAP_SHARE
        for at in days
        if at not in violations
    )


def test_robots_txt_allows_everything_and_slows_crawlers_at_one_shop(site):
    root = Protego.parse(site.get("/robots.txt").text)
    megamart = Protego.parse(site.get("/megamart/robots.txt").text)
    meridian = Protego.parse(site.get("/meridian-boutique/robots.txt").text)

    product_url = f"{origin(site)}/megamart{SPEEDMASTER_PATH}"
    assert root.can_fetch(product_url, "WatchPriceBot")
    assert megamart.can_fetch(product_url, "WatchPriceBot")
    assert megamart.crawl_delay("WatchPriceBot") == 1
    assert meridian.crawl_delay("WatchPriceBot") is None
    assert f"{origin(site)}/megamart/sitemap.xml" in list(root.sitemaps)


def test_search_links_to_the_product_page(site):
    results = site.get("/chrono-plaza/search", params={"q": "126610LN"})

    links = [node.attributes["href"] for node in HTMLParser(results.text).css("a.result-link")]
    assert links == ["/chrono-plaza/watches/rolex/126610ln"]
    product = site.get(links[0])
    assert product.status_code == 200
    assert "126610LN" in product.text


def test_an_unknown_product_gets_the_shops_404_page(site):
    page = site.get("/meridian-boutique/watches/rolex/999999")
    unknown_shop = site.get("/no-such-shop/watches/rolex/126500ln")

    assert page.status_code == 404
    assert "We couldn't find that watch" in page.text
    assert "Meridian Boutique" in page.text
    assert unknown_shop.status_code == 404


def test_every_listing_url_the_seed_creates_resolves(site):
    for retailer in RETAILERS:
        slug = slugify(retailer.name)
        for watch in WATCHES:
            brand, reference = retailer_path_part(watch.brand), retailer_path_part(watch.reference)
            url = f"{origin(site)}/{slug}/watches/{brand}/{reference}"
            truth = offer_for(slug, watch.reference, AT)

            page = site.get(url, follow_redirects=True)

            assert page.status_code == 200, url
            assert len(page.content) < 100_000, url
            if truth.blocked:
                assert "Please verify you are a human" in page.text, url
            elif truth.redirect_to:
                assert page.history[0].status_code == 302, url
            else:
                assert watch.reference in page.text, url


def test_offer_for_depends_only_on_the_shop_the_reference_and_the_hour():
    same_hour = AT.replace(minute=59)

    assert offer_for("megamart", SPEEDMASTER, AT) == offer_for("megamart", SPEEDMASTER, same_hour)
    with pytest.raises(ValueError, match="aware"):
        offer_for("megamart", SPEEDMASTER, AT.replace(tzinfo=None))
    with pytest.raises(KeyError):
        offer_for("megamart", "NO-SUCH-REF", AT)


def test_the_marketplace_refuses_to_listen_beyond_loopback(capsys):
    with pytest.raises(SystemExit):
        main(["--host", "0.0.0.0", "--port", "0"])  # noqa: S104 - the host being refused
    with pytest.raises(ValueError, match="loopback"):
        serve_in_thread(port=0, host="192.0.2.10")

    assert "only on loopback" in capsys.readouterr().err


def test_the_entry_point_serves_the_shops_and_prints_its_url(unused_loopback_port):
    project = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "scraping.demo_marketplace", "--port", str(unused_loopback_port)],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        url = f"http://127.0.0.1:{unused_loopback_port}"

        page = httpx.get(f"{url}/meridian-boutique/", timeout=5)

        assert f"{url}/" in first_line
        assert page.status_code == 200
        assert "Meridian Boutique" in page.text
    finally:
        process.terminate()
        process.wait(timeout=10)
