"""The demo catalog in bulk: its 33 watches, and shops at any origin, each carrying every watch.

The demo marketplace serves 6 shops x 33 watches; listings are unique per (product, retailer),
so a run that probes thousands of listings gets more retailers: copies of the demo shops
("Chrono Plaza 03") at the same origin, or at other ports. Every retailer keeps its demo shop's
extractor, CSS selectors and item numbers, so each page is read as the demo reads it.
"""

from __future__ import annotations

from django.utils.text import slugify

from catalog.demo import RETAILERS, WATCHES, DemoRetailer, retailer_path_part
from catalog.models import Brand, Listing, Product, Retailer


def products_create() -> list[Product]:
    brands = Brand.objects.bulk_create(
        Brand(name=name, slug=slugify(name)) for name in sorted({w.brand for w in WATCHES})
    )
    by_name = {b.name: b for b in brands}
    return Product.objects.bulk_create(
        Product(
            brand=by_name[w.brand],
            reference=w.reference,
            name=w.name,
            category=w.category,
            currency="USD",
            msrp=w.msrp,
            list_price=w.msrp,
            sku=f"WP-{number:04d}",
            gtin=w.gtin,
            mpn=w.reference,
        )
        for number, w in enumerate(WATCHES, start=1)
    )


def shop_create(*, spec: DemoRetailer, origin: str, label: str, products: list[Product]) -> None:
    """One retailer serving `spec`'s demo shop from `origin`, listing every product."""
    slug = slugify(spec.name)
    retailer = Retailer.objects.create(
        name=f"{spec.name} {label}",
        slug=f"{slug}-{slugify(label)}",
        domain="127.0.0.1",
        base_url=f"{origin}/{slug}",
        retailer_type=spec.retailer_type,
        market_type=spec.market_type,
        external_price_checks_enabled=True,
        currency="USD",
        geo_location="10001",
        requests_per_minute=spec.requests_per_minute,
        extractor=spec.extractor,
        selectors=spec.selectors,
        product_url_pattern="/watches/{brand}/{reference}",
    )
    Listing.objects.bulk_create(
        Listing(
            product=product,
            retailer=retailer,
            url=f"{retailer.base_url}/watches/{retailer_path_part(product.brand.name)}/"
            f"{retailer_path_part(product.reference)}",
            # The demo shops' own item numbers, as seed_demo_catalog() stores them.
            retailer_item_id=f"{slug[:3].upper()}{number:05d}",
            currency="USD",
        )
        for number, product in enumerate(products, start=1)
    )


def shops_create(*, origin: str, copies: int, products: list[Product]) -> None:
    """`copies` x the 6 demo shops at one origin."""
    for copy in range(1, copies + 1):
        for spec in RETAILERS:
            shop_create(spec=spec, origin=origin, label=f"{copy:02d}", products=products)


def listings_at(origins: list[str]) -> list[Listing]:
    """Listings whose URL starts with one of `origins`, ready for probing (no further queries)."""
    listings = Listing.objects.select_related("product__brand", "retailer").order_by("pk")
    return [
        listing for listing in listings if any(listing.url.startswith(o + "/") for o in origins)
    ]
