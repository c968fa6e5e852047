"""The demo catalog: real luxury-watch references with plausible MSRPs, costs and retailers.

MSRPs are US list prices of recent years, rounded; costs sit at a dealer's usual 60-75% of MSRP.
The retailers are fictional shops whose sites the demo marketplace serves on loopback, so the demo
probes real pages without touching the internet.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from catalog import sentiment
from catalog.models import Brand, Listing, Product, Retailer, Review
from catalog.services import reviews_rescore
from catalog.signals import announce_list_price


@dataclass(frozen=True)
class DemoWatch:
    brand: str
    reference: str
    name: str
    category: str
    msrp: str
    gtin: str = ""


WATCHES: tuple[DemoWatch, ...] = (
    DemoWatch("Rolex", "126500LN", "Cosmograph Daytona, white dial", "rolex_daytona", "15100"),
    DemoWatch("Rolex", "126610LN", "Submariner Date", "rolex_submariner", "10250"),
    DemoWatch("Rolex", "124060", "Submariner", "rolex_submariner", "9100"),
    DemoWatch("Rolex", "126710BLRO", "GMT-Master II Pepsi", "rolex_gmt", "10900"),
    DemoWatch("Rolex", "126710BLNR", "GMT-Master II Batman", "rolex_gmt", "10900"),
    DemoWatch("Rolex", "126720VTNR", "GMT-Master II Sprite", "rolex_gmt", "11050"),
    DemoWatch("Rolex", "124270", "Explorer 36", "rolex_explorer", "7350"),
    DemoWatch("Rolex", "226570", "Explorer II", "rolex_explorer", "9650"),
    DemoWatch("Rolex", "126334", "Datejust 41, fluted bezel", "rolex_datejust", "10600"),
    DemoWatch("Rolex", "124300", "Oyster Perpetual 41", "rolex_oyster", "6400"),
    DemoWatch("Rolex", "136660", "Deepsea", "rolex_submariner", "14600"),
    DemoWatch("Rolex", "126900", "Air-King", "rolex_oyster", "7400"),
    DemoWatch("Patek Philippe", "5711/1A-010", "Nautilus", "patek_philippe_nautilus", "34890"),
    DemoWatch(
        "Patek Philippe", "5811/1G-001", "Nautilus, white gold", "patek_philippe_nautilus", "69970"
    ),
    DemoWatch(
        "Patek Philippe", "5712/1A-001", "Nautilus Moon Phase", "patek_philippe_nautilus", "40000"
    ),
    DemoWatch("Patek Philippe", "5167A-001", "Aquanaut", "patek_philippe_aquanaut", "23590"),
    DemoWatch(
        "Patek Philippe", "5968A-001", "Aquanaut Chronograph", "patek_philippe_aquanaut", "51260"
    ),
    DemoWatch("Patek Philippe", "5226G-001", "Calatrava", "patek_philippe_calatrava", "34430"),
    DemoWatch(
        "Audemars Piguet",
        "15510ST.OO.1320ST.06",
        "Royal Oak Selfwinding 41",
        "ap_royal_oak",
        "29900",
    ),
    DemoWatch(
        "Audemars Piguet",
        "15202ST.OO.1240ST.01",
        "Royal Oak Jumbo Extra-Thin",
        "ap_royal_oak",
        "33200",
    ),
    DemoWatch(
        "Audemars Piguet",
        "26240ST.OO.1320ST.02",
        "Royal Oak Chronograph 41",
        "ap_royal_oak",
        "37700",
    ),
    DemoWatch(
        "Audemars Piguet", "26420SO.OO.A002CA.01", "Royal Oak Offshore 43", "ap_offshore", "31800"
    ),
    DemoWatch(
        "Omega",
        "310.30.42.50.01.002",
        "Speedmaster Moonwatch Professional",
        "omega_speedmaster",
        "7600",
        "7612345678906",
    ),
    DemoWatch(
        "Omega",
        "210.30.42.20.03.001",
        "Seamaster Diver 300M",
        "omega_seamaster",
        "5900",
        "7612345678913",
    ),
    DemoWatch(
        "Omega",
        "220.10.41.21.01.001",
        "Seamaster Aqua Terra 150M",
        "omega_seamaster",
        "6300",
        "7612345678920",
    ),
    DemoWatch(
        "Omega",
        "215.30.44.21.01.001",
        "Seamaster Planet Ocean 600M",
        "omega_seamaster",
        "7000",
        "7612345678937",
    ),
    DemoWatch("Cartier", "WSSA0018", "Santos de Cartier, large", "cartier_santos", "7850"),
    DemoWatch("Cartier", "WSTA0041", "Tank Must, large", "cartier_tank", "3200"),
    DemoWatch("Tudor", "M79030N-0001", "Black Bay Fifty-Eight", "tudor_black_bay", "4025"),
    DemoWatch("Tudor", "M79360N-0001", "Black Bay Chrono", "tudor_black_bay", "5650"),
    DemoWatch("IWC", "IW371605", "Portugieser Chronograph", "iwc_portugieser", "8900"),
    DemoWatch("Grand Seiko", "SBGA211", "Snowflake", "grand_seiko_heritage", "6200"),
    DemoWatch("TAG Heuer", "CBN2A1B.BA0643", "Carrera Chronograph 44", "tag_carrera", "6350"),
)

BRAND_SITES = {
    "Rolex": "https://www.rolex.com",
    "Patek Philippe": "https://www.patek.com",
    "Audemars Piguet": "https://www.audemarspiguet.com",
    "Omega": "https://www.omegawatches.com",
    "Cartier": "https://www.cartier.com",
    "Tudor": "https://www.tudorwatch.com",
    "IWC": "https://www.iwc.com",
    "Grand Seiko": "https://www.grand-seiko.com",
    "TAG Heuer": "https://www.tagheuer.com",
}


@dataclass(frozen=True)
class DemoRetailer:
    name: str
    retailer_type: str
    market_type: str
    extractor: str
    requests_per_minute: int
    # The share of the catalog the shop carries.
    carries_share: float
    # CSS selectors for a shop without structured data, as a merchandiser sets them in the admin.
    selectors: dict = field(default_factory=dict)


RETAILERS: tuple[DemoRetailer, ...] = (
    DemoRetailer("Meridian Boutique", "vendor", "official_boutique", "generic", 30, 0.6),
    DemoRetailer("Hallmark Jewelers", "vendor", "authorized_dealer", "generic", 30, 0.8),
    DemoRetailer("Chrono Plaza", "marketplace", "gray_market", "generic", 60, 0.9),
    DemoRetailer(
        "Jewel Discount",
        "vendor",
        "gray_market",
        "generic",
        60,
        0.7,
        selectors={
            "title": ".product-detail .product-title",
            "price": ".product-detail .product-price",
            "regular_price": ".product-detail .was-price",
            "availability": ".product-detail .stock-status",
            "brand": ".product-detail .product-brand",
            "reference": ".product-detail .product-model",
            "sku": ".product-detail .product-sku",
        },
    ),
    DemoRetailer("MegaMart", "vendor", "big_box", "generic", 20, 0.4),
    DemoRetailer("Tick Exchange", "marketplace", "gray_market", "generic", 60, 0.7),
)

REVIEW_TEXTS = (
    (
        5,
        "Flawless. Keeps time within two seconds a day and the bracelet is superb.",
    ),
    (5, "Worth every penny, the finishing is stunning and it wears beautifully."),
    (4, "Great watch, comfortable on the wrist. The clasp took some getting used to."),
    (4, "Very happy with it, though the wait from the dealer was long."),
    (3, "Nice piece but overpriced for what you get at current market prices."),
    (2, "Disappointed: it runs fast and the dealer was slow to help."),
    (1, "Terrible experience, arrived with a scratched crystal and service refused a refund."),
)


@dataclass(frozen=True)
class DemoReview:
    rating: int
    title: str
    text: str


# Reviews the demo shops put in their pages' JSON-LD. We wrote these ourselves, to give the demo
# every kind of review; the sentiment benchmark reports its accuracy on them apart from the real
# reviews, since a set we wrote is weak evidence.
SHOP_REVIEWS: tuple[DemoReview, ...] = (
    DemoReview(5, "Grail achieved", "Waited three years for this one and it was worth it."),
    DemoReview(5, "Perfect", "Flawless finishing, the dial is gorgeous in sunlight."),
    DemoReview(5, "Best purchase I have made", "Keeps time within a second a day. Love it."),
    DemoReview(5, "Exceeded expectations", "The bracelet is comfortable and the clasp is superb."),
    DemoReview(5, "Beautiful watch", "Arrived quickly, fully stickered, papers in order."),
    DemoReview(5, "Stunning", "Photos do not do it justice. I wear it every day."),
    DemoReview(5, "Great dealer", "Smooth transaction and the watch is exactly as described."),
    DemoReview(5, "Wonderful gift", "Bought it for my wife's anniversary and she adores it."),
    DemoReview(4, "Very good", "Excellent watch, though the bracelet needed a micro-adjust."),
    DemoReview(4, "Happy overall", "Great legibility at night. Slightly thick under a cuff."),
    DemoReview(4, "Solid choice", "Nice weight and quality. Box was a little dented."),
    DemoReview(4, "Recommended", "Accurate and well built; delivery took a week longer."),
    DemoReview(4, "Nice piece", "The lume is strong and the bezel action is crisp."),
    DemoReview(4, "Good value at this price", "Better finishing than I expected for the money."),
    DemoReview(3, "It's okay", "Fine watch, nothing special. The strap is average."),
    DemoReview(3, "Mixed feelings", "Looks great but it runs four seconds fast per day."),
    DemoReview(3, "Average", "Does the job. Expected more at this price."),
    DemoReview(3, "Not sure yet", "Wore it for a week. The clasp feels cheap, the dial is nice."),
    DemoReview(2, "Disappointed", "The crown was stiff and it lost ten seconds a day."),
    DemoReview(2, "Not as described", "Listed as unworn but there were scratches on the clasp."),
    DemoReview(2, "Slow service", "Took six weeks to arrive and nobody answered my emails."),
    DemoReview(2, "Meh", "Too heavy for my wrist and the bracelet pulls hair."),
    DemoReview(1, "Avoid", "Arrived with a cracked crystal. Terrible packaging."),
    DemoReview(1, "Fake papers", "The warranty card was not valid. Awful experience."),
    DemoReview(1, "Broken on arrival", "It stopped after two days and the refund was refused."),
    DemoReview(1, "Worst dealer", "Rude staff, wrong watch sent, still waiting for my money."),
)


def demo_marketplace_url() -> str:
    return getattr(settings, "DEMO_MARKETPLACE_URL", "http://127.0.0.1:8001").rstrip("/")


@dataclass
class SeedSummary:
    brands: int = 0
    products: int = 0
    retailers: int = 0
    listings: int = 0
    reviews: int = 0
    created: int = 0
    # Reviews given a sentiment label on this run.
    scored: int = 0


@transaction.atomic
def seed_demo_catalog(*, today: date | None = None) -> SeedSummary:
    """Create or refresh the demo catalog. Running it again changes nothing."""
    today = today or datetime.now(tz=UTC).date()
    # A fixed seed keeps the demo identical on every machine and every run.
    rng = random.Random(20261122)  # noqa: S311 - demo data, not security
    summary = SeedSummary()
    brands = {}
    for brand_name in sorted({w.brand for w in WATCHES}):
        brand, created = Brand.objects.get_or_create(
            name=brand_name,
            defaults={"slug": slugify(brand_name), "website": BRAND_SITES.get(brand_name, "")},
        )
        brands[brand_name] = brand
        summary.created += created
    summary.brands = len(brands)

    retailers = []
    for spec in RETAILERS:
        slug = slugify(spec.name)
        retailer, created = Retailer.objects.get_or_create(
            slug=slug,
            defaults={
                "name": spec.name,
                "domain": "127.0.0.1",
                "base_url": f"{demo_marketplace_url()}/{slug}",
                "retailer_type": spec.retailer_type,
                "market_type": spec.market_type,
                "external_price_checks_enabled": True,
                "currency": "USD",
                "geo_location": "10001",
                "requests_per_minute": spec.requests_per_minute,
                "extractor": spec.extractor,
                "product_url_pattern": "/watches/{brand}/{reference}",
                "search_url_pattern": "/search?q={query}",
                "selectors": spec.selectors,
            },
        )
        retailers.append((spec, retailer))
        summary.created += created
    summary.retailers = len(retailers)

    for index, watch in enumerate(WATCHES):
        msrp = Decimal(watch.msrp).quantize(Decimal("0.01"))
        cost_share = Decimal(rng.choice(["0.62", "0.66", "0.70", "0.74"]))
        product, created = Product.objects.get_or_create(
            brand=brands[watch.brand],
            reference=watch.reference,
            defaults={
                "name": watch.name,
                "category": watch.category,
                "description": f"{watch.brand} {watch.name}, reference {watch.reference}.",
                "currency": "USD",
                "msrp": msrp,
                "cost": (msrp * cost_share).quantize(Decimal("0.01")),
                "list_price": msrp,
                "sku": f"WP-{index + 1:04d}",
                "gtin": watch.gtin,
                "mpn": watch.reference,
                "in_inventory_since": today - timedelta(days=rng.randint(5, 400)),
            },
        )
        summary.created += created
        summary.products += 1
        # Setting our price is a price change: the ledger records it, once.
        announce_list_price(
            product=product,
            previous=None,
            source="demo_seed",
            idempotency_key=f"demo-seed:list-price:{product.pk}",
        )

        for spec, retailer in retailers:
            if rng.random() > spec.carries_share:
                continue
            path = retailer.product_url_pattern.format(
                brand=retailer_path_part(watch.brand), reference=retailer_path_part(watch.reference)
            )
            _, created = Listing.objects.get_or_create(
                product=product,
                retailer=retailer,
                defaults={
                    "url": f"{retailer.base_url}{path}",
                    "retailer_item_id": f"{retailer.slug[:3].upper()}{index + 1:05d}",
                    "currency": "USD",
                },
            )
            summary.created += created
            summary.listings += 1

        for number in range(rng.randint(2, 5)):
            rating, text = rng.choice(REVIEW_TEXTS)
            _, created = Review.objects.get_or_create(
                product=product,
                source="demo-forum",
                external_id=f"{product.sku}-{number}",
                defaults={
                    "author": rng.choice(["collector_nyc", "tick_tock", "horology_fan", "mk"]),
                    "text": text,
                    "rating": rating,
                    "posted_at": datetime.combine(today, datetime.min.time(), tzinfo=UTC)
                    - timedelta(days=rng.randint(1, 700)),
                },
            )
            summary.created += created
            summary.reviews += 1
    # Scored through the service; a second run finds every review already scored.
    summary.scored = reviews_rescore(
        queryset=Review.objects.filter(source="demo-forum").exclude(
            sentiment_scorer=sentiment.SCORER
        )
    )
    return summary


def retailer_path_part(value: str) -> str:
    """A URL path segment for a brand or reference: 'Patek Philippe' -> 'patek-philippe'."""
    return slugify(value.replace("/", "-").replace(".", "-"))
