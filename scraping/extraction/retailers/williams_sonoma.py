"""Williams-Sonoma brands (Pottery Barn, Rejuvenation, West Elm...).

Static pages often have no visible price; og tags and JSON-LD disagree (JSON-LD may carry the
regular price), which the reconciliation resolves. "No longer available" marks discontinued items.
"""

from __future__ import annotations

from .base import Extractor


class WilliamsSonoma(Extractor):
    name = "williams_sonoma"
    domains = (
        "williams-sonoma.com",
        "potterybarn.com",
        "potterybarnkids.com",
        "pbteen.com",
        "westelm.com",
        "rejuvenation.com",
        "markandgraham.com",
    )
    price_scope = (".pip-summary .product-price", ".product-price")
    price_selectors = (
        ".price-sale .price-amount",
        ".price-special .price-amount",
        ".price-standard .price-amount",
    )
    regular_price_selectors = (".price-standard .price-amount",)
    availability_selectors = (".product-price .nla", ".availability-message")
    buy_button_selectors = ("button.btn-add-to-cart", "#addToCart")
