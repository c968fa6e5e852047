"""A demo marketplace: fictional watch shops served on loopback, so the demo probes real pages.

Each shop in `catalog.demo.RETAILERS` lives under /{slug}/ with its own page style, and its
prices, stock, bot walls and redirects follow from the hour through `offer_for`, the truth that
tests compare extraction with. Run it with `python -m scraping.demo_marketplace`.
"""

from .offers import DemoOffer, offer_for
from .product_pages import JEWEL_DISCOUNT_SELECTORS
from .server import DemoMarketplace, make_server, serve_in_thread

__all__ = [
    "JEWEL_DISCOUNT_SELECTORS",
    "DemoMarketplace",
    "DemoOffer",
    "make_server",
    "offer_for",
    "serve_in_thread",
]
