"""Amazon, every marketplace: the buy box, not the page, says what a shopper pays.

Amazon pages carry no structured data and dozens of prices of other items (format swatches,
"frequently bought together", comparison tables), so only buy-box elements are read.
"""

from __future__ import annotations

import re

from ..document import Page, price_text
from ..prices import parse_price
from ..reading import Reading
from ..specs import read_labelled_ids, spec_pairs
from .base import Extractor

_USED_PRICE = (
    "#usedBuySection .offer-price",
    "#usedBuySection .a-color-price",
    "#used_buybox_desktop .a-color-price",
    "#usedbuyBox .a-color-price",
)
# The product-details table and the book-style detail bullets.
_DETAILS = "#prodDetails, #detailBullets_feature_div, #technicalSpecifications_feature_div"
# Detail-table labels across marketplaces, lower-cased.
_LABELS = {
    "item model number": "model",
    "model number": "model",
    "número de modelo": "model",
    "número de modelo del producto": "model",
    "modellnummer": "model",
    "numéro du modèle de l'article": "model",
    "numero modello articolo": "model",
    "part number": "mpn",
    "manufacturer part number": "mpn",
    "referencia del fabricante": "mpn",
    "herstellerreferenz": "mpn",
    "référence fabricant": "mpn",
    "brand": "brand",
    "marca": "brand",
    "marke": "brand",
    "marque": "brand",
    "isbn-13": "isbn",
}
_ASIN_IN_URL = re.compile(r"/(?:dp|gp/product|gp/aw/d|exec/obidos/ASIN|o/ASIN)/([A-Z0-9]{10})")


class Amazon(Extractor):
    name = "amazon"
    domains = ("amazon.com",)
    price_selectors = (
        "#corePrice_feature_div .priceToPay .a-offscreen",
        "#corePriceDisplay_desktop_feature_div .priceToPay .a-offscreen",
        "#corePrice_desktop .apexPriceToPay .a-offscreen",
        "#apex_desktop .apexPriceToPay .a-offscreen",
        "#apex_desktop .priceToPay .a-offscreen",
        "#priceblock_dealprice",
        "#priceblock_saleprice",
        "#priceblock_ourprice",
        "#price_inside_buybox",
        "#newBuyBoxPrice",
        "#kindle-price",
        "#twister-plus-price-data-price",
        "#attach-base-product-price",
    )
    regular_price_selectors = (
        "#corePriceDisplay_desktop_feature_div .basisPrice .a-offscreen",
        "#corePrice_desktop .a-text-price[data-a-strike=true] .a-offscreen",
        "#corePrice_feature_div .a-text-price[data-a-strike=true] .a-offscreen",
        "#priceblock_ourprice_row .priceBlockStrikePriceString",
        ".priceBlockStrikePriceString",
        "#listPrice",
    )
    title_selectors = ("#productTitle",)
    availability_selectors = ("#availability", "#outOfStock", "#availability_feature_div")
    buy_button_selectors = (
        "#add-to-cart-button",
        "#buy-now-button",
        "#one-click-button",
        "#add-to-cart-button-ubb",
    )
    price_note_selectors = ("#corePrice_feature_div", "#price", "#apex_desktop")
    id_selectors = {"asin": ("#ASIN", "input[name=ASIN]")}
    # The title and price column and the buy box; carousels and ads live elsewhere.
    regions = ("#centerCol", "#rightCol")
    # "List unavailable" and "not available for the seller you chose" live in every buy box.
    read_product_text = False
    read_embedded_state = False

    @classmethod
    def handles_host(cls, host: str) -> bool:
        # amazon.com, amazon.co.uk, amazon.es, smile.amazon.de...: every marketplace.
        return "amazon" in host.split(".")

    def read_page(self, page: Page, reading: Reading, hint: str | None) -> None:
        if reading.price is None:
            self._read_used_offer(page, reading, hint)
        self._read_details(page, reading)
        if "asin" not in reading.ids and page.url:
            match = _ASIN_IN_URL.search(page.url)
            if match:
                reading.set_id("asin", match.group(1))

    def _read_used_offer(self, page: Page, reading: Reading, hint: str | None) -> None:
        node = page.first(_USED_PRICE)
        money = parse_price(price_text(node), currency_hint=hint) if node is not None else None
        if money is not None:
            reading.price, reading.currency = money.amount, money.currency
            reading.currency_is_guess = money.ambiguous
            reading.condition = "used"
            reading.notes.append("the buy box holds only a used offer")

    def _read_details(self, page: Page, reading: Reading) -> None:
        read_labelled_ids(reading, spec_pairs(page, "tr", "li", within=_DETAILS), _LABELS)
