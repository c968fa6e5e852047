"""Build.com (Ferguson): JSON-LD product data."""

from __future__ import annotations

from .base import Extractor


class BuildCom(Extractor):
    name = "build_com"
    domains = ("build.com",)
    price_selectors = ("[data-automation='price']", ".b-product-price")
    regular_price_selectors = ("[data-automation='was-price']",)
    buy_button_selectors = ("[data-automation='add-to-cart-button']",)
