"""Watch marketplaces and dealers: reference numbers matter more than SKUs, and "price on
request" is common, which is no price rather than a hidden one."""

from __future__ import annotations

import re

from ..document import Page
from ..reading import Reading
from ..specs import definition_pairs, read_labelled_ids, spec_pairs
from .base import Extractor

_REFERENCE_LABELS = {
    "reference number": "reference",
    "reference": "reference",
    "reference no.": "reference",
    "ref.": "reference",
    "ref": "reference",
    "référence": "reference",
    "referenz": "reference",
    "referenznummer": "reference",
    "referencia": "reference",
    "numero di referenza": "reference",
    "model number": "reference",
    "model no.": "reference",
    "brand": "brand",
    "marque": "brand",
    "marke": "brand",
    "item no.": "item_id",
    "item number": "item_id",
    "listing code": "item_id",
}
_SPEC_ROWS = "table tr"
_SPEC_BULLETS = ".product-specs li, .specifications li, .watch-details li"


class WatchDealer(Extractor):
    """Authorised dealers and brand sites: structured data, spec tables, price notes."""

    name = "watch_dealer"
    price_note_selectors = (".price", ".product-price", "[class*='price' i]")
    availability_selectors = (".availability", ".stock", "[class*='availability' i]")
    buy_button_selectors = ("button[name='add-to-cart']", "button.add-to-cart", "#add-to-cart")

    def read_page(self, page: Page, reading: Reading, hint: str | None) -> None:
        read_labelled_ids(reading, spec_pairs(page, _SPEC_ROWS, _SPEC_BULLETS), _REFERENCE_LABELS)
        read_labelled_ids(reading, definition_pairs(page, "dl dt"), _REFERENCE_LABELS)


_CHRONO24_ID = re.compile(r"--id(\d+)\.htm")


class Chrono24(WatchDealer):
    name = "chrono24"
    domains = (
        "chrono24.com",
        "chrono24.de",
        "chrono24.fr",
        "chrono24.co.uk",
        "chrono24.ch",
        "chrono24.it",
        "chrono24.es",
        "chrono24.ca",
    )
    price_scope = (".js-details-and-security-price", "[class*='price-lg']", ".detail-page-price")
    price_selectors = (".js-price-shipping-country", "strong", "span")
    title_selectors = ("h1",)
    price_note_selectors = (".js-details-and-security-price", ".detail-page-price")
    availability_selectors = (".js-article-status", ".article-status")
    buy_button_selectors = (".js-checkout-button", "a[href*='/checkout/']")

    def read_page(self, page: Page, reading: Reading, hint: str | None) -> None:
        super().read_page(page, reading, hint)
        match = _CHRONO24_ID.search(page.url or "")
        if match:
            reading.set_id("item_id", match.group(1))


class Jomashop(WatchDealer):
    name = "jomashop"
    domains = ("jomashop.com",)
    price_scope = (".product-price-container", ".price-wrapper", ".product-info-main")
    price_selectors = (".now-price", ".final-price", ".special-price .price")
    regular_price_selectors = (".was-price", ".old-price .price")
    title_selectors = (".product-name h1", "h1")
    price_note_selectors = (".product-price-container", ".price-wrapper")
    availability_selectors = (".stock-status", ".product-stock")
    buy_button_selectors = ("button.add-to-cart-btn", "#product-addtocart-button")
