"""Small pages built around one trap each: where naive extraction reads the wrong number."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from scraping.extraction import (
    Extraction,
    Source,
    Status,
    UnknownExtractor,
    extract,
    extractor_for,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "extraction"
SHOP = "https://shop.example.com/products/widget-123456"


def read(
    html: str | bytes,
    *,
    url: str | None = SHOP,
    retailer_currency: str | None = "USD",
    extractor: str | None = None,
    selectors: dict | None = None,
) -> Extraction:
    return extract(
        html, url=url, retailer_currency=retailer_currency, extractor=extractor, selectors=selectors
    )


def json_ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def product(offers: object, **fields: object) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Widget",
        **fields,
        "offers": offers,
    }


# -- JSON-LD --------------------------------------------------------------------------------------


def test_a_product_inside_a_json_ld_graph_is_found() -> None:
    page = json_ld(
        {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "WebSite", "name": "Shop"},
                {"@type": "BreadcrumbList", "itemListElement": []},
                product({"@type": "Offer", "price": "19.90", "priceCurrency": "EUR"}, sku="GW-1"),
            ],
        }
    )
    found = read(page)
    assert (found.price, found.currency, found.identifiers.sku) == (Decimal("19.90"), "EUR", "GW-1")
    assert found.sources["price"] == Source.JSON_LD


def test_a_product_whose_image_object_precedes_its_type_is_found() -> None:
    page = (
        '<script type="application/ld+json">{"image": {"@type": "ImageObject", "url": "x"},'
        ' "@type": "Product", "name": "Lamp", "offers": {"price": "7.50", "priceCurrency": "USD"}}'
        "</script>"
    )
    assert read(page).price == Decimal("7.50")


def test_a_review_block_naming_the_product_lends_no_offer() -> None:
    review = {
        "@type": "Review",
        "itemReviewed": {
            "@type": "Product",
            "name": "Lamp",
            "offers": {"price": "1.00", "priceCurrency": "USD"},
        },
    }
    page = json_ld(review) + json_ld(product({"price": "30.00", "priceCurrency": "USD"}))
    assert read(page).price == Decimal("30.00")


def test_a_product_in_a_json_ld_list_of_objects_is_found() -> None:
    page = json_ld(
        [{"@type": "Organization", "name": "Shop"}, product({"price": 7, "priceCurrency": "USD"})]
    )
    assert read(page).price == Decimal(7)


def test_an_aggregate_offer_is_read_at_its_low_price_and_the_range_is_noted() -> None:
    offers = {
        "@type": "AggregateOffer",
        "lowPrice": "43.90",
        "highPrice": "59.00",
        "priceCurrency": "EUR",
    }
    found = read(json_ld(product(offers)))
    assert found.price == Decimal("43.90")
    assert any("43.90" in note and "59.00" in note for note in found.notes)


def test_offers_nested_in_an_aggregate_offer_prefer_the_new_one_over_a_cheaper_used_one() -> None:
    offers = {
        "@type": "AggregateOffer",
        "offers": [
            {
                "@type": "Offer",
                "price": "12.00",
                "priceCurrency": "USD",
                "itemCondition": "https://schema.org/UsedCondition",
            },
            {
                "@type": "Offer",
                "price": "30.00",
                "priceCurrency": "USD",
                "itemCondition": "https://schema.org/NewCondition",
            },
        ],
    }
    found = read(json_ld(product(offers)))
    assert (found.price, found.condition) == (Decimal("30.00"), "new")


def test_a_product_group_reads_the_variant_the_url_names() -> None:
    group = {
        "@context": "https://schema.org",
        "@type": "ProductGroup",
        "name": "Strap",
        "hasVariant": [
            {
                "@type": "Product",
                "sku": "STRAP-S",
                "url": "https://shop.example.com/strap?variant=STRAP-S",
                "offers": {"price": "40.00", "priceCurrency": "USD"},
            },
            {
                "@type": "Product",
                "sku": "STRAP-L",
                "url": "https://shop.example.com/strap?variant=STRAP-L",
                "offers": {"price": "45.00", "priceCurrency": "USD"},
            },
        ],
    }
    found = read(json_ld(group), url="https://shop.example.com/strap?variant=STRAP-L")
    assert (found.price, found.identifiers.sku, found.title) == (
        Decimal("45.00"),
        "STRAP-L",
        "Strap",
    )


def test_a_strikethrough_price_specification_is_the_regular_price() -> None:
    offers = {
        "@type": "Offer",
        "price": "80.00",
        "priceCurrency": "USD",
        "priceSpecification": [
            {
                "@type": "UnitPriceSpecification",
                "priceType": "https://schema.org/StrikethroughPrice",
                "price": "100.00",
                "priceCurrency": "USD",
            },
        ],
    }
    found = read(json_ld(product(offers)))
    assert (found.price, found.regular_price) == (Decimal("80.00"), Decimal("100.00"))


@pytest.mark.parametrize(
    ("written", "available", "token"),
    [
        ("InStock", True, "InStock"),
        ("http://schema.org/InStock", True, "InStock"),
        ("https://schema.org/OutOfStock", False, "OutOfStock"),
        ("schema:SoldOut", False, "SoldOut"),
        ("http://schema.org/Discontinued", False, "Discontinued"),
        ("PreOrder", True, "PreOrder"),
        ("https://schema.org/BackOrder", True, "BackOrder"),
        ("LimitedAvailability", True, "LimitedAvailability"),
        ("https://schema.org/InStoreOnly", True, "InStoreOnly"),
        ("//schema.org/OnlineOnly", True, "OnlineOnly"),
        ("in_stock", True, "InStock"),
    ],
)
def test_availability_is_read_with_or_without_the_schema_org_prefix(
    written: str, available: bool, token: str
) -> None:
    found = read(
        json_ld(product({"price": "5.00", "priceCurrency": "USD", "availability": written}))
    )
    assert (found.available, found.availability) == (available, token)


def test_an_empty_price_object_is_no_price_rather_than_a_crash() -> None:
    page = json_ld(product({"price": {}, "priceCurrency": "USD", "availability": "OutOfStock"}))
    found = read(page)
    assert (found.status, found.price, found.available) == (Status.NO_PRICE, None, False)


def test_json_ld_with_raw_newlines_and_a_trailing_comma_is_still_read() -> None:
    page = (
        '<script type="application/ld+json">{"@type":"Product","name":"Two\nlines",'
        '"offers":{"price":"5.00","priceCurrency":"USD",}}</script>'
    )
    found = read(page)
    assert (found.price, found.title) == (Decimal("5.00"), "Two lines")


def test_invalid_json_ld_is_reported_and_the_next_source_is_used() -> None:
    page = (
        '<script type="application/ld+json">{"@type": "Product", "name": "Bad, "offers": }</script>'
        '<meta property="og:type" content="product">'
        '<meta property="product:price:amount" content="12.00">'
        '<meta property="product:price:currency" content="GBP">'
    )
    found = read(page, retailer_currency="GBP")
    assert (found.price, found.sources["price"]) == (Decimal("12.00"), Source.OPENGRAPH)
    assert any("json-ld" in problem for problem in found.problems)


# -- microdata, Open Graph, embedded state ---------------------------------------------------------

MICRODATA = """
<div itemscope itemtype="https://schema.org/Product">
  <h1 itemprop="name">Kettle</h1>
  <meta itemprop="gtin13" content="4006381333931">
  <div itemprop="brand" itemscope itemtype="https://schema.org/Brand">
    <span itemprop="name">Acme</span></div>
  <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
    <span itemprop="price" content="1234.50">1.234,50 €</span>
    <meta itemprop="priceCurrency" content="EUR">
    <link itemprop="availability" href="https://schema.org/OutOfStock">
  </div>
  <div itemprop="review" itemscope itemtype="https://schema.org/Review">
    <span itemprop="name">Great</span></div>
</div>"""


def test_microdata_is_read_from_the_product_scope_only() -> None:
    found = read(MICRODATA)
    assert (found.price, found.currency, found.available) == (Decimal("1234.50"), "EUR", False)
    assert (found.title, found.identifiers.brand) == ("Kettle", "Acme")
    assert found.identifiers.gtin == "4006381333931"
    assert found.sources["price"] == Source.MICRODATA


def test_open_graph_product_tags_give_price_currency_and_availability() -> None:
    page = """<head>
      <meta property="og:type" content="product"><meta property="og:title" content="Lamp">
      <meta property="product:price:amount" content="48,00">
      <meta property="product:price:currency" content="EUR">
      <meta property="og:availability" content="instock"></head>"""
    found = read(page)
    assert (found.price, found.currency, found.available, found.title) == (
        Decimal("48.00"),
        "EUR",
        True,
        "Lamp",
    )


def test_next_data_gives_the_product_and_not_its_recommendations() -> None:
    state = {
        "props": {
            "pageProps": {
                "recommendations": [{"name": "Other lamp", "price": {"value": 1.0}}],
                "product": {
                    "name": "Next Lamp",
                    "sku": "NL-9",
                    "price": {"current": {"value": 89.5}},
                    "currency": "USD",
                    "availability": "IN_STOCK",
                },
            }
        }
    }
    page = (
        '<div id="__next"></div>'
        f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(state)}</script>'
    )
    found = read(page)
    assert (found.price, found.title, found.available) == (Decimal("89.5"), "Next Lamp", True)
    assert found.sources["price"] == Source.NEXT_DATA


def test_walmart_reads_its_next_data_product_with_the_was_price() -> None:
    found = read(
        (FIXTURES / "next-data-walmart.html").read_bytes(),
        url="https://www.walmart.com/ip/Acme-Stand-Mixer-5-Qt/123456789",
    )
    assert (found.extractor, found.price, found.regular_price) == (
        "walmart",
        Decimal("179.00"),
        Decimal(229),
    )
    assert (found.available, found.identifiers.item_id) == (True, "123456789")


def test_preloaded_state_gives_the_product_and_not_related_items() -> None:
    state = {
        "related": {"items": [{"name": "Cheap thing", "salePrice": "1.00"}]},
        "productPage": {
            "product": {
                "title": "Preloaded Chair",
                "salePrice": "249.00",
                "listPrice": "299.00",
                "currencyCode": "CAD",
                "stockStatus": "OUT_OF_STOCK",
                "sku": "PC-1",
            }
        },
    }
    page = f"<script>window.__PRELOADED_STATE__ = {json.dumps(state)};</script>"
    found = read(page, retailer_currency="CAD")
    assert (found.price, found.regular_price, found.currency) == (
        Decimal("249.00"),
        Decimal("299.00"),
        "CAD",
    )
    assert (found.available, found.sources["price"]) == (False, Source.PRELOADED_STATE)


# -- configured selectors -------------------------------------------------------------------------

SELECTORS_ONLY = """<html lang="en"><body>
<header><a href="/sale">Sale! Up to 50% off</a></header>
<main><h2 class="name">Selector Sofa</h2><div class="pp">$1,299.99</div><s class="was">$1,599.00</s>
<span class="stock">Only 2 left in stock</span></main>
<section class="carousel"><h3>Customers also bought</h3><div class="pp">$9.99</div>
<span class="stock">Sold out</span></section></body></html>"""
SOFA_SELECTORS = {
    "price": ".pp",
    "regular_price": ".was",
    "title": "h2.name",
    "availability": ".stock",
}


def test_a_retailer_configured_with_selectors_only_needs_no_code() -> None:
    found = read(SELECTORS_ONLY, selectors=SOFA_SELECTORS)
    assert (found.status, found.price, found.regular_price) == (
        Status.OK,
        Decimal("1299.99"),
        Decimal("1599.00"),
    )
    assert (found.title, found.available, found.extractor) == ("Selector Sofa", True, "generic")
    assert found.sources["price"] == Source.SELECTORS


def test_an_invalid_configured_selector_is_reported_not_raised() -> None:
    found = read(SELECTORS_ONLY, selectors={**SOFA_SELECTORS, "price": ".pp[[["})
    assert found.price is None
    assert any("invalid CSS" in problem for problem in found.problems)


def test_configured_selectors_come_before_a_retailers_own() -> None:
    page = (
        '<div class="SFPrice"><span class="pl-Price-V2">$10.00</span></div><b id="mine">$12.00</b>'
    )
    found = read(
        page, url="https://www.wayfair.com/x-w000123456.html", selectors={"price": "#mine"}
    )
    assert (found.extractor, found.price) == ("wayfair", Decimal("12.00"))


# -- prices a shopper pays ------------------------------------------------------------------------


def test_a_sale_price_keeps_its_struck_through_regular_price() -> None:
    page = (
        '<div class="SFPrice"><span class="pl-Price-V2">$111.99</span>'
        '<s aria-label="was $141.99">$141.99</s></div>'
    )
    found = read(page, url="https://www.wayfair.com/x-w005759888.html")
    assert (found.price, found.regular_price) == (Decimal("111.99"), Decimal("141.99"))


def test_a_dollar_sign_takes_its_currency_from_structured_data_before_the_hint() -> None:
    page = json_ld(product({"price": "19.99", "priceCurrency": "CAD"})) + '<b class="p">$19.99</b>'
    found = read(page, retailer_currency="USD", selectors={"price": ".p"})
    assert (found.price, found.currency) == (Decimal("19.99"), "CAD")


def test_a_dollar_sign_without_structured_data_follows_the_retailers_currency() -> None:
    found = read('<b class="p">$19.99</b>', retailer_currency="AUD", selectors={"price": ".p"})
    assert (found.currency, found.sources["currency"]) == ("AUD", Source.SELECTORS)


def test_a_regular_price_below_the_price_is_not_a_regular_price() -> None:
    found = read(SELECTORS_ONLY.replace("$1,599.00", "$999.00"), selectors=SOFA_SELECTORS)
    assert (found.price, found.regular_price) == (Decimal("1299.99"), None)


def test_a_per_unit_price_in_structured_data_loses_to_the_shopper_price_and_is_recorded() -> None:
    page = json_ld(product({"price": "6.24", "priceCurrency": "USD"})) + (
        '<div class="buy"><span class="pp">$12.48</span> <span>($6.24 / Pack)</span></div>'
    )
    found = read(page, selectors={"price": ".pp"})
    assert found.price == Decimal("12.48")
    (disagreement,) = found.disagreements
    assert (disagreement.field, disagreement.rejected_source) == ("price", "json-ld")
    assert "per-unit" in disagreement.reason


def test_json_ld_carrying_the_list_price_loses_to_the_paired_sale_price() -> None:
    page = json_ld(product({"price": "150.00", "priceCurrency": "USD"})) + (
        '<meta property="product:price:amount" content="120.00">'
        '<meta property="og:price:standard_amount" content="150.00">'
    )
    found = read(page)
    assert (found.price, found.regular_price) == (Decimal("120.00"), Decimal("150.00"))
    assert "regular" in found.disagreements[0].reason


def test_a_used_only_buy_box_is_the_price_and_is_marked_used() -> None:
    page = """<div id="centerCol"><span id="productTitle">Cookbook</span></div>
    <div id="rightCol">
    <div id="usedBuySection">Buy used <span class="offer-price">£4.45</span></div>
    <input id="add-to-cart-button-ubb" type="submit"></div>"""
    found = read(page, url="https://www.amazon.co.uk/dp/1849757097", retailer_currency="GBP")
    assert (found.price, found.currency, found.condition) == (Decimal("4.45"), "GBP", "used")
    assert found.available is True


def test_a_retailers_price_block_keeps_earlier_comparison_prices_out() -> None:
    page = """<table class="compare"><tr><td><ul><li class="price-current">$1,170.00</li></ul></td>
    </tr></table>
    <div class="product-buy-box"><ul><li class="price-current">$899.99</li></ul></div>"""
    found = read(page, url="https://www.newegg.com/p/N82E16814137609")
    assert found.price == Decimal("899.99")


def test_a_missing_price_block_falls_back_to_structured_data_not_to_stray_prices() -> None:
    page = json_ld(product({"price": "111.99", "priceCurrency": "USD"})) + (
        '<div class="carousel"><span class="pl-Price-V2">$15.00</span></div>'
    )
    found = read(page, url="https://www.wayfair.com/x-w005759888.html")
    assert (found.price, found.sources["price"]) == (Decimal("111.99"), Source.JSON_LD)


def test_amazon_buy_box_boilerplate_is_not_read_as_unavailable() -> None:
    page = """<div id="ppd"><div id="centerCol"><h1 id="title"><span id="productTitle">Robot</span>
    </h1></div><div id="rightCol"><div id="desktop_buybox"><form><span>List unavailable.</span>
    <span>Currently unavailable for the seller you chose.</span></form></div></div></div>"""
    found = read(page, url="https://www.amazon.es/dp/B01MUGXRT9", retailer_currency="EUR")
    assert (found.status, found.available) == (Status.NO_PRICE, None)


def test_carousel_prices_are_never_taken_for_a_product_without_a_price() -> None:
    page = """<html><body><h1>Lonely Lamp</h1><p>Description</p>
    <section class="recs"><h3>Customers also bought</h3><div class="price">$19.99</div>
    <div class="price">$29.99</div></section></body></html>"""
    found = read(page)
    assert (found.status, found.price) == (Status.NO_PRICE, None)


def test_add_to_cart_to_see_price_is_price_hidden() -> None:
    page = """<html><body><main><h1>Hidden Price TV</h1>
    <div class="price-box">Add to cart to see price</div>
    <button>Add to cart</button></main></body></html>"""
    found = read(page)
    assert (found.status, found.price) == (Status.PRICE_HIDDEN, None)


def test_see_price_in_cart_in_a_configured_price_element_is_price_hidden() -> None:
    page = '<h1>Faucet</h1><span class="amount">See price in cart</span>'
    assert read(page, selectors={"price": ".amount"}).status == Status.PRICE_HIDDEN


def test_price_on_request_is_no_price_with_a_note() -> None:
    page = '<h1>Nautilus 5711/1A-010</h1><div class="price">Price on request</div>'
    found = read(page, extractor="watch_dealer")
    assert (found.status, found.price) == (Status.NO_PRICE, None)
    assert "price on request" in found.notes


def test_a_watch_listing_gives_its_reference_number_from_the_spec_table() -> None:
    page = json_ld(product({"price": "14950", "priceCurrency": "EUR"}, name="Submariner Date")) + (
        "<h1>Rolex Submariner Date</h1><table><tr><td>Listing code</td><td>DR8K4Q</td></tr>"
        "<tr><td>Brand</td><td>Rolex</td></tr><tr><td>Reference number</td><td>126610LN</td></tr>"
        "</table>"
    )
    found = read(page, url="https://www.chrono24.de/rolex/submariner--id31234567.htm")
    assert (found.extractor, found.price, found.currency) == ("chrono24", Decimal(14950), "EUR")
    assert (found.identifiers.reference, found.identifiers.brand) == ("126610LN", "Rolex")
    assert found.identifiers.item_id == "DR8K4Q"


# -- availability in the page's language ----------------------------------------------------------


def test_french_rupture_de_stock_beside_the_title_is_out_of_stock() -> None:
    page = """<html lang="fr"><body><nav>En stock : nouveautés</nav><main><div class="product">
    <h1>Chaise</h1><p class="prix">89,00 €</p><p>Rupture de stock</p></div></main>
    <footer>Livraison en stock sous 48 h</footer></body></html>"""
    found = read(
        json_ld(product({"price": "89.00", "priceCurrency": "EUR"})) + page,
        url="https://boutique.example.fr/chaise-42",
    )
    assert (found.available, found.sources["available"]) == (False, Source.TEXT)


def test_german_ausverkauft_is_sold_out() -> None:
    page = """<html lang="de"><body><div class="produkt"><h1>Uhr</h1>
    <span class="preis">1.299,00 €</span><span class="status">Ausverkauft</span>
    </div></body></html>"""
    found = read(
        page,
        url="https://shop.example.de/uhr",
        retailer_currency=None,
        selectors={"price": ".preis"},
    )
    assert (found.price, found.currency) == (Decimal("1299.00"), "EUR")
    assert (found.available, found.availability) == (False, "SoldOut")


def test_sold_out_in_a_carousel_or_footer_does_not_make_the_product_unavailable() -> None:
    page = (
        json_ld(product({"price": "20.00", "priceCurrency": "USD"}))
        + """<body><main>
    <h1>Widget</h1><div class="price">$20.00</div>
    <div class="related-products"><p>Gadget</p><p>Sold out</p></div></main>
    <footer>Out of stock items ship when restocked</footer></body>"""
    )
    assert read(page).available is None


def test_a_short_badge_can_use_weak_words_but_a_paragraph_cannot() -> None:
    badge = '<span class="stock">Unavailable</span>'
    paragraph = (
        '<p class="stock">Gift wrapping is unavailable for this item, but it ships today.</p>'
    )
    assert read(badge, selectors={"availability": ".stock"}).available is False
    assert read(paragraph, selectors={"availability": ".stock"}).available is True


def test_a_disabled_buy_button_means_not_available() -> None:
    page = (
        '<h1>GPU</h1><button class="btn btn-disabled add-to-cart-button" disabled>Sold Out</button>'
    )
    found = read(page, url="https://www.bestbuy.com/site/6432400.p?skuId=6432400")
    assert (found.available, found.availability) == (False, "SoldOut")


def test_the_buy_box_overrules_stale_structured_availability_and_says_so() -> None:
    page = json_ld(
        product({"price": "9.00", "priceCurrency": "USD", "availability": "InStock"})
    ) + ('<span class="stock">Sold out</span>')
    found = read(page, selectors={"availability": ".stock"})
    assert found.available is False
    assert [d.field for d in found.disagreements] == ["available"]


# -- blocked and missing pages --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "url"),
    [
        (FIXTURES / "amazon-captcha.html", "https://www.amazon.com/dp/B00N150YS4"),
        (FIXTURES / "cloudflare-challenge.html", SHOP),
        (
            "<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY><H1>Access Denied</H1>"
            "You don't have permission to access this page on this server.<P>"
            "Reference&#32;&#35;18&#46;8f5d3b17&#46;1700000000</BODY></HTML>",
            "https://www.homedepot.com/p/123456789",
        ),
        (
            '<html><head><title>Walmart.com</title></head><body><div id="px-captcha"></div>'
            "<p>Robot or human? Activate and hold the button.</p></body></html>",
            "https://www.walmart.com/ip/123456",
        ),
        (
            "<html><head><title>wayfair.com</title></head><body>"
            '<iframe src="https://geo.captcha-delivery.com/captcha/?initialCid=x"></iframe></body></html>',
            "https://www.wayfair.com/x-w000123456.html",
        ),
        (
            "<html><head><title>403 Forbidden</title></head>"
            "<body><h1>403 Forbidden</h1></body></html>",
            SHOP,
        ),
        (
            "<html><body>"
            + json_ld(
                product({"price": "1.00", "priceCurrency": "USD", "availability": "OutOfStock"})
            )
            + "<iframe src='/_Incapsula_Resource?CWUDNSAI=1&incident_id=123-456'>"
            "Request unsuccessful. Incapsula incident ID: 123-456</iframe></body></html>",
            SHOP,
        ),
        (
            "<html><head><title>Shop</title></head><body><p>Please verify you are a human.</p>"
            "<p>Access to this page has been blocked because we believe you are using "
            "automation tools.</p></body></html>",
            SHOP,
        ),
    ],
    ids=[
        "amazon-captcha",
        "cloudflare",
        "access-denied",
        "perimeterx",
        "datadome",
        "403",
        "incapsula",
        "text-only",
    ],
)
def test_a_bot_wall_is_blocked_never_out_of_stock_and_never_priced(
    page: Path | str, url: str
) -> None:
    html = page.read_bytes() if isinstance(page, Path) else page
    found = read(html, url=url)
    assert (found.status, found.price, found.available) == (Status.BLOCKED, None, None)
    assert found.notes and found.notes[0].startswith("bot wall")


def test_a_product_page_that_mentions_captcha_in_its_footer_is_not_blocked() -> None:
    page = json_ld(product({"price": "5.00", "priceCurrency": "USD"})) + (
        "<h1>Widget</h1><footer>This site is protected by reCAPTCHA.</footer>"
        + "<p>Details.</p>" * 2000
    )
    assert read(page).status == Status.OK


def test_a_missing_page_is_not_found() -> None:
    page = """<html><head><title>Page Not Found | Shop</title></head><body>
    <h1>Sorry, we couldn't find that page</h1>
    <div class="recs"><span class="price">$5.00</span></div></body></html>"""
    found = read(page)
    assert (found.status, found.price, found.title) == (Status.NOT_FOUND, None, None)


# -- malformed input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        b"",
        b"\xff\xfe\x00\x01\x9c garbage \x00\x00",
        bytes(range(256)) * 8,
        '<html><head><title>Widget</title><script type=\'application/ld+json\'>{"@type": "Prod',
        "<div><span class='price'>$12.",
        "<<<>>>" * 100,
        json_ld(product([None, 1, "x", {"price": {"amount": []}}])),
        json_ld({"@graph": "not a list"}) + json_ld([[[[]]]]) + json_ld(None),
    ],
    ids=[
        "empty",
        "garbage-bytes",
        "all-bytes",
        "truncated-json-ld",
        "truncated-html",
        "brackets",
        "junk-offers",
        "junk-graphs",
    ],
)
def test_a_malformed_page_gives_a_clear_status_without_raising(page: str | bytes) -> None:
    found = read(page)
    assert found.status == Status.NO_PRICE
    assert found.price is None


def test_a_windows_1252_page_is_decoded_by_its_declared_charset() -> None:
    page = '<meta charset="windows-1252"><h1>Café crème</h1><span class="p">12,50 €</span>'
    found = read(page.encode("cp1252"), selectors={"price": ".p"})
    assert (found.title, found.price, found.currency) == ("Café crème", Decimal("12.50"), "EUR")


# -- choosing the extractor ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://www.amazon.co.uk/dp/1849757097", "amazon"),
        ("https://smile.amazon.de/dp/B000000000", "amazon"),
        ("https://www.jossandmain.com/lighting/pdp/x-j001109161.html", "wayfair"),
        ("https://www.homedepot.ca/product/x/1000000000", "home_depot"),
        ("https://www.bestbuy.ca/en-ca/product/x/15000000", "bestbuy_ca"),
        ("https://www.bestbuy.com/site/6092641.p?skuId=6092641", "bestbuy"),
        ("https://www.chrono24.com/rolex/submariner--id12345678.htm", "chrono24"),
        ("https://www.potterybarn.com/products/tully-brass-sconce/", "williams_sonoma"),
        ("https://shop.example.com/p/1", "generic"),
        (None, "generic"),
    ],
)
def test_the_extractor_is_chosen_by_the_urls_host(url: str | None, name: str) -> None:
    assert extractor_for(url=url).name == name


def test_a_configured_extractor_name_wins_over_the_host() -> None:
    assert (
        extractor_for(url="https://www.amazon.com/dp/B0", extractor="watch_dealer").name
        == "watch_dealer"
    )


def test_an_unknown_configured_extractor_name_is_an_error_that_lists_the_choices() -> None:
    with pytest.raises(UnknownExtractor, match="amazon"):
        extractor_for(extractor="amazn")
