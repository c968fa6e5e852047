"""Best Buy US and Best Buy Canada: JSON-LD first, the hero price block as the shopper price."""

from __future__ import annotations

from .base import Extractor


class BestBuy(Extractor):
    name = "bestbuy"
    domains = ("bestbuy.com",)
    # The first pricing block is the item's; later ones belong to bundled accessories,
    # whose "was" prices must not become this item's regular price.
    price_scope = ("[id^='pricing-price-']", ".priceView-hero-price")
    price_selectors = (
        ".priceView-hero-price.priceView-customer-price > span[aria-hidden=true]",
        ".priceView-customer-price > span",
    )
    regular_price_selectors = (".pricing-price__regular-price", ".priceView-was-price")
    title_selectors = (".sku-title h1",)
    buy_button_selectors = (
        ".fulfillment-add-to-cart-button .add-to-cart-button",
        ".add-to-cart-button",
    )
    id_selectors = {
        "sku": (".sku.product-data .product-data-value",),
        "model": (".model.product-data .product-data-value",),
    }


class BestBuyCanada(Extractor):
    name = "bestbuy_ca"
    domains = ("bestbuy.ca",)
    price_scope = ("[data-automation='product-pricing']", "[class*='productPricingContainer']")
    price_selectors = (
        "[data-automation='product-price'] > span",
        "[data-automation='product-price']",
    )
    regular_price_selectors = ("[data-automation='product-saving'] ~ span", "[class*='wasPrice']")
    title_selectors = ("h1[class*='productName']", "h1")
    buy_button_selectors = ("[data-automation='addToCartButton']", "button[class*='addToCart']")
    id_selectors = {"model": ("[data-automation='MODEL_NUMBER_ID']",)}
