"""Is the page the product we meant? Identifiers, reference numbers, redirects."""

from __future__ import annotations

import json

import pytest

from scraping.extraction import Extraction, extract, validate_identity
from scraping.extraction.identity import url_identity

AMAZON_LISTING = "https://www.amazon.com/Gorilla-6012110-Black-2-Pack-Piece/dp/B00N150YS4"


def page(ids: dict[str, str] | None = None, body: str = "", url: str | None = None) -> Extraction:
    data = {
        "@type": "Product",
        "name": "Item",
        **(ids or {}),
        "offers": {"price": "10.00", "priceCurrency": "USD"},
    }
    html = f'<script type="application/ld+json">{json.dumps(data)}</script><h1>Item</h1>{body}'
    return extract(html, url=url, retailer_currency="USD")


@pytest.mark.parametrize(
    ("page_ids", "catalog"),
    [
        ({"gtin13": "0778656076310"}, {"upc": "778656076310"}),
        ({"gtin12": "883929689613"}, {"ean": "0883929689613"}),
        ({"mpn": "126500LN"}, {"reference": "126500 LN"}),
        ({"mpn": "5711/1A-010"}, {"reference": "5711-1A-010"}),
        ({"sku": "w005759888"}, {"sku": "W005759888"}),
        ({"isbn": "978-1849757096"}, {"isbn": "1849757097"}),
    ],
)
def test_an_identifier_matches_across_formatting(page_ids: dict, catalog: dict) -> None:
    result = validate_identity(
        page(page_ids), identifiers=catalog, listing_url=None, final_url=None
    )
    assert result.ok, result.reason
    assert result.matched_on == next(iter(catalog))


def test_a_reference_number_written_with_other_separators_in_the_text_matches() -> None:
    found = page(body="<table><tr><th>Reference</th><td>Ref. 5711-1A-010</td></tr></table>")
    result = validate_identity(
        found, identifiers={"reference": "5711/1A-010"}, listing_url=None, final_url=None
    )
    assert (result.ok, result.matched_on) == (True, "reference")
    assert "page text" in result.reason


def test_an_identifier_in_the_final_url_matches() -> None:
    result = validate_identity(
        page(),
        identifiers={"mpn": "AF1RH332210TS"},
        listing_url=None,
        final_url="https://shop.example.com/sinks/af1rh332210ts-combo",
    )
    assert (result.ok, result.matched_on) == (True, "mpn")


def test_the_listing_urls_item_id_confirms_a_page_without_identifiers() -> None:
    result = validate_identity(
        page(),
        identifiers={"sku": "nothing-on-the-page"},
        listing_url=AMAZON_LISTING,
        final_url=AMAZON_LISTING + "?ref=pd_sl&th=1",
    )
    assert (result.ok, result.matched_on) == (True, "listing_url")


def test_a_redirect_to_another_product_is_refused_even_if_an_identifier_matches() -> None:
    result = validate_identity(
        page({"gtin13": "0778656076310"}),
        identifiers={"upc": "778656076310"},
        listing_url=AMAZON_LISTING,
        final_url="https://www.amazon.com/SainSmart-4-Channel-Relay-Module/dp/B0057OC5O8",
    )
    assert not result.ok
    assert "another product" in result.reason


def test_a_redirect_to_the_home_page_is_refused() -> None:
    result = validate_identity(
        page(),
        identifiers={"sku": "12345"},
        listing_url="https://www.costco.com/sink.product.100432602.html",
        final_url="https://www.costco.com/",
    )
    assert not result.ok
    assert "away from the product" in result.reason


def test_a_different_asin_on_the_page_is_refused() -> None:
    found = extract(
        '<div id="rightCol"><input id="ASIN" value="B0057OC5O8"></div>',
        url="https://www.amazon.com/dp/B0057OC5O8",
        retailer_currency="USD",
    )
    result = validate_identity(
        found, identifiers={"asin": "B00N150YS4"}, listing_url=None, final_url=None
    )
    assert not result.ok
    assert "B0057OC5O8" in result.reason


def test_a_page_showing_none_of_the_identifiers_is_refused() -> None:
    result = validate_identity(
        page({"sku": "OTHER-1"}, body="<p>Nothing to see</p>"),
        identifiers={"sku": "WANTED-2", "upc": "012345678905"},
        listing_url=None,
        final_url=None,
    )
    assert (result.ok, result.matched_on) == (False, None)


def test_a_short_identifier_is_not_searched_for_in_running_text() -> None:
    found = page(body="<p>Ships in 12 days</p>")
    result = validate_identity(found, identifiers={"sku": "12"}, listing_url=None, final_url=None)
    assert not result.ok


def test_a_shared_brand_alone_does_not_confirm_the_product() -> None:
    result = validate_identity(
        page({"brand": "Rolex"}), identifiers={"brand": "Rolex"}, listing_url=None, final_url=None
    )
    assert not result.ok


@pytest.mark.parametrize(
    ("url", "kind", "value"),
    [
        (AMAZON_LISTING, "asin", "b00n150ys4"),
        ("https://www.walmart.com/ip/Cyberpunk-2077/786104378", "item", "786104378"),
        ("https://www.bestbuy.com/site/x/6092641.p?skuId=6092641", "sku", "6092641"),
        ("https://www.costco.com/x.product.100432602.html", "item", "100432602"),
        ("https://www.wayfair.com/furniture/pdp/x-w005759888.html", "sku", "w005759888"),
        ("https://www.etsy.com/es/listing/550571276/x", "listing", "550571276"),
        ("https://www.chrono24.com/rolex/submariner--id12345678.htm", "listing", "12345678"),
        ("https://www.potterybarn.com/products/tully-brass-sconce/", "slug", "tully-brass-sconce"),
    ],
)
def test_a_urls_item_identity_is_read_per_retailer(url: str, kind: str, value: str) -> None:
    assert url_identity(url) == (kind, value)
