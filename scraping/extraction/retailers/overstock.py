"""Overstock: a clean "Was / Sale" block; og:title is the site's title, not the product's."""

from __future__ import annotations

from .base import Extractor


class Overstock(Extractor):
    name = "overstock"
    domains = ("overstock.com", "bedbathandbeyond.com")
    price_scope = ("[data-cy=price-set]",)
    price_selectors = ("#product-price", "[data-cy=product-price]")
    regular_price_selectors = ("[data-cy=product-was-price]",)
    title_selectors = ("[data-cy=product-title]",)
    buy_button_selectors = ("[data-cy=add-to-cart]", "button[data-cy=atc-button]")
