"""The Home Depot US and Canada: JSON-LD, then data-automation / data-testid marked prices."""

from __future__ import annotations

from .base import Extractor


class HomeDepot(Extractor):
    name = "home_depot"
    domains = ("homedepot.com", "homedepot.ca")
    price_scope = ("[data-component^='price:Price']", "[data-testid='price']", ".price-detailed")
    price_selectors = (
        "[data-automation='product-price']",
        ".price-format__main-price",
        ".price-format__large",
        "[data-testid='price-simple']",
    )
    regular_price_selectors = (
        ".price-detailed__was-price .u__strike",
        "[data-automation='was-price']",
        ".u__strike",
    )
    availability_selectors = ("[data-automation='fulfillment-status']",)
    buy_button_selectors = (
        "button[data-automation-id='addToCart']",
        "button[data-testid='add-to-cart']",
    )
    id_selectors = {"model": ("[data-automation='model-number']",)}
