"""Walmart US and Canada: __NEXT_DATA__'s product object, JSON-LD, old microdata fragments."""

from __future__ import annotations

from ..document import Page
from ..reading import Reading
from ..result import Source
from ..state import next_data, reading_from_state_product
from .base import Extractor

_PRODUCT_PATH = ("props", "pageProps", "initialData", "data", "product")


class Walmart(Extractor):
    name = "walmart"
    domains = ("walmart.com", "walmart.ca")
    state_first = True
    price_scope = ("[data-testid='price-wrap']", "[itemprop=offers]", ".prod-PriceHero")
    price_selectors = (
        "[itemprop=price]",
        ".price-characteristic",
        "span[data-seo-id='hero-price']",
    )
    regular_price_selectors = ("[data-testid='was-price']", ".price-old .visuallyhidden", ".strike")
    title_selectors = ("h1[itemprop=name]", "h1#main-title", "h1")
    buy_button_selectors = (
        "button[data-automation-id='atc']",
        "[data-tl-id='ProductPrimaryCTA-cta_add_to_cart_button']",
        ".prod-product-cta-add-to-cart button",
    )

    def state_readings(self, page: Page, problems: list[str]) -> list[Reading]:
        product: object = None
        try:
            product = next_data(page)
        except ValueError as error:
            problems.append(f"next_data: {error}")
        for key in _PRODUCT_PATH:
            product = product.get(key) if isinstance(product, dict) else None
        if isinstance(product, dict):
            return [reading_from_state_product(product, Source.NEXT_DATA)]
        return super().state_readings(page, problems)
