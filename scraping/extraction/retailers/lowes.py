"""Lowe's US and Canada: JSON-LD, then the main price block."""

from __future__ import annotations

from .base import Extractor


class Lowes(Extractor):
    name = "lowes"
    domains = ("lowes.com", "lowes.ca")
    price_scope = ("[data-selector='splp-prd-act-$']", ".pd-price", "[class*='PriceWrapper']")
    price_selectors = ("[data-selector='splp-prd-act-$']", ".main-price", ".item-price-dollar")
    regular_price_selectors = ("[data-selector='splp-prd-was-$']", ".was-price")
    buy_button_selectors = ("button[data-selector='add-to-cart']",)
