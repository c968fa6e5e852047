"""What the demo shops sell: the demo catalog's watches and retailers, read once.

`catalog.demo` holds the data beside the seeding code, which imports Django models, so it is
imported on first use: the entry point sets Django up first, pytest-django does it in tests.
The names below follow `seed_demo_catalog()`, so every listing URL it seeds resolves here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache


@dataclass(frozen=True)
class Shop:
    slug: str
    name: str
    retailer_type: str
    market_type: str

    @property
    def item_prefix(self) -> str:
        return self.slug[:3].upper()

    def item_id(self, watch: Watch) -> str:
        """The shop's own item number, as the seed stores it in Listing.retailer_item_id."""
        return f"{self.item_prefix}{watch.number:05d}"


@dataclass(frozen=True)
class Watch:
    # 1-based position in WATCHES: the seed's product sku and item ids are built from it.
    number: int
    brand: str
    reference: str
    name: str
    category: str
    msrp: Decimal
    gtin: str
    brand_part: str
    reference_part: str

    @property
    def sku(self) -> str:
        return f"WP-{self.number:04d}"

    @property
    def path(self) -> str:
        return f"/watches/{self.brand_part}/{self.reference_part}"

    @property
    def title(self) -> str:
        return f"{self.brand} {self.name} {self.reference}"


@dataclass(frozen=True)
class ShopReview:
    rating: int
    title: str
    text: str


@dataclass(frozen=True)
class Inventory:
    shops: dict[str, Shop]
    watches: tuple[Watch, ...]
    # What the shops' customers may say; product_pages deals them out to pages.
    reviews: tuple[ShopReview, ...] = ()

    def shop(self, slug: str) -> Shop:
        return self.shops[slug]

    def watch(self, reference: str) -> Watch:
        for watch in self.watches:
            if watch.reference == reference:
                return watch
        raise KeyError(reference)

    def watch_at(self, brand_part: str, reference_part: str) -> Watch | None:
        for watch in self.watches:
            if (watch.brand_part, watch.reference_part) == (brand_part, reference_part):
                return watch
        return None


@cache
def inventory() -> Inventory:
    from django.utils.text import slugify

    from catalog.demo import RETAILERS, SHOP_REVIEWS, WATCHES, retailer_path_part

    shops = {
        slugify(spec.name): Shop(
            slug=slugify(spec.name),
            name=spec.name,
            retailer_type=spec.retailer_type,
            market_type=spec.market_type,
        )
        for spec in RETAILERS
    }
    watches = tuple(
        Watch(
            number=index + 1,
            brand=spec.brand,
            reference=spec.reference,
            name=spec.name,
            category=spec.category,
            msrp=Decimal(spec.msrp).quantize(Decimal("0.01")),
            gtin=spec.gtin,
            brand_part=retailer_path_part(spec.brand),
            reference_part=retailer_path_part(spec.reference),
        )
        for index, spec in enumerate(WATCHES)
    )
    reviews = tuple(ShopReview(r.rating, r.title, r.text) for r in SHOP_REVIEWS)
    return Inventory(shops=shops, watches=watches, reviews=reviews)
