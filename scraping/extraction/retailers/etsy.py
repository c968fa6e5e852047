"""Etsy: the buy box price is in the shopper's currency and includes VAT.

The JSON-LD offer and the og price are in other currencies or exclude tax, so the buy box wins.
"""

from __future__ import annotations

import re

from ..document import Page
from ..reading import Reading
from .base import Extractor

_LISTING_ID = re.compile(r"/listing/(\d+)")


class Etsy(Extractor):
    name = "etsy"
    domains = ("etsy.com",)
    price_scope = ("[data-buy-box-region=price]", "[data-selector=price-only]")
    price_selectors = ("p.wt-text-title-03", "p.wt-text-title-larger", "p")
    regular_price_selectors = (".wt-text-strikethrough",)
    title_selectors = ("h1[data-buy-box-listing-title]",)
    availability_selectors = ("[data-buy-box-region=price]",)
    buy_button_selectors = ("[data-buy-box-region=buttons] button[type=submit]",)

    def read_page(self, page: Page, reading: Reading, hint: str | None) -> None:
        match = _LISTING_ID.search(page.url or "")
        if match:
            reading.set_id("item_id", match.group(1))
