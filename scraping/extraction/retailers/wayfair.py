"""Wayfair and its sister sites (Joss & Main, AllModern, Birch Lane, Perigold).

Prices are read from Wayfair's data-test-id / data-hb-id marked blocks, across its layouts.
"""

from __future__ import annotations

from .base import Extractor


class Wayfair(Extractor):
    name = "wayfair"
    domains = (
        "wayfair.com",
        "wayfair.ca",
        "wayfair.de",
        "wayfair.co.uk",
        "jossandmain.com",
        "allmodern.com",
        "birchlane.com",
        "perigold.com",
    )
    price_scope = (
        "[data-test-id='StandardPricingPrice']",
        "[data-hb-id='PriceBlock']",
        ".SFPrice",
        ".StandardPriceBlock",
    )
    price_selectors = (
        "[data-test-id='PriceDisplay']",
        "span.pl-Price-V2",
        ".BasePriceBlock:not(.BasePriceBlock--list)",
    )
    regular_price_selectors = ("[data-test-id='ListPrice']", "s", ".BasePriceBlock--list")
    title_selectors = ("[data-hb-id='Heading'] h1", "h1[data-hb-id='Heading']", "h1")
    availability_selectors = ("[data-test-id='InventoryStatus']", ".StockIndicator")
    buy_button_selectors = (
        "[data-test-id='AddToCartButton']",
        "[data-enzyme-id='addToCartButton']",
        "#btn-add-to-cart",
    )
