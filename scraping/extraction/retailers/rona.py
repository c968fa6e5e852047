"""Rona and Réno-Dépôt (Quebec, French/English): JSON-LD, then the price box."""

from __future__ import annotations

from .base import Extractor


class Rona(Extractor):
    name = "rona"
    domains = ("rona.ca", "renodepot.com")
    price_selectors = (".price-box__price__amount", "[data-automation='product-price']")
    regular_price_selectors = (".price-box__price--old",)
    availability_selectors = (".product-availability", "[data-automation='availability']")
    buy_button_selectors = ("button.add-to-cart", "button[data-automation='add-to-cart']")
