"""Canadian Tire: JSON-LD, then its price component."""

from __future__ import annotations

from .base import Extractor


class CanadianTire(Extractor):
    name = "canadian_tire"
    domains = ("canadiantire.ca",)
    price_scope = (".nl-price", "[data-testid='price-container']")
    price_selectors = (".nl-price--total", ".price__value", "[data-testid='priceTotal']")
    regular_price_selectors = (".nl-price__was-price", ".price__was")
    buy_button_selectors = ("button.nl-product__add-to-cart", "[data-testid='add-to-cart-button']")
