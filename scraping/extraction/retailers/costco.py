"""Costco US and Canada.

The US page leaves the visible "Your Price" cell as "--" until JavaScript runs; the price sits
base64-encoded in data-opvalue (and in og meta). listPrice "-1.0" is a sentinel, never a price.
"""

from __future__ import annotations

import base64
import binascii

from ..availability import from_token
from ..document import Page
from ..prices import parse_amount
from ..reading import Reading
from .base import Extractor


def decode_base64_amount(value: str | None):
    if not value:
        return None
    try:
        text = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return parse_amount(value)
    return parse_amount(text)


class Costco(Extractor):
    name = "costco"
    domains = ("costco.com", "costco.ca")
    price_selectors = ("[automation-id='productPriceOutput']", ".your-price .value")
    regular_price_selectors = ("[automation-id='listPriceOutput']",)
    title_selectors = ("h1[automation-id='productName']", "h1[itemprop=name]")
    buy_button_selectors = ("#add-to-cart-btn", "input#add-to-cart-btn")
    id_selectors = {
        "item_id": ("#product-details [data-sku]", "[itemprop=sku]", "[data-sku]"),
        "model": ("[data-model-number]",),
    }

    def read_page(self, page: Page, reading: Reading, hint: str | None) -> None:
        online = page.tree.css_first(".online-price[data-opvalue]")
        if online is None:
            return
        if reading.price is None:
            reading.price = decode_base64_amount(online.attributes.get("data-opvalue"))
        if reading.availability is None:
            reading.availability = from_token(online.attributes.get("data-inv"))
