"""Newegg: the buy box's price list; JSON-LD offers may be null on sold-out items."""

from __future__ import annotations

from .base import Extractor


class Newegg(Extractor):
    name = "newegg"
    domains = ("newegg.com", "newegg.ca")
    price_scope = (".product-buy-box", ".product-pane")
    price_selectors = ("li.price-current",)
    regular_price_selectors = ("li.price-was",)
    title_selectors = ("h1.product-title",)
    availability_selectors = (".product-buy-box .product-flag", ".product-inventory")
    buy_button_selectors = ("#ProductBuy .btn-primary", "#ProductBuy .btn-message")
