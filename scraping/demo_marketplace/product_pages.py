"""Product pages, one style per shop, each modelled on a kind of real retailer page.

- Meridian Boutique: schema.org JSON-LD Product with an Offer (the brand-boutique style).
- Hallmark Jewelers: microdata only, itemprop price/priceCurrency/availability.
- Chrono Plaza: a Next.js page; the listing and its sellers' offers live in __NEXT_DATA__.
- Jewel Discount: no structured data; readable only with JEWEL_DISCOUNT_SELECTORS.
- MegaMart: JSON-LD in an @graph plus Open Graph product:price tags; prices ending .99.
  Its reviews are @graph nodes naming the product by @id, rated out of 10.
- Tick Exchange: JSON-LD AggregateOffer (lowPrice/highPrice) over its sellers, plus the table.

A shop the demo has no style for gets the Meridian style. Meridian and MegaMart pages carry
schema.org Reviews and an AggregateRating: each (shop, watch) has a fixed set of reviews with
fixed dates, and a page shows those posted by the time it is served.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import escape

from .inventory import Shop, ShopReview, Watch, inventory
from .offers import DemoOffer, between, draw, round_price
from .pages import (
    also_viewed,
    breadcrumbs,
    carousel,
    description,
    layout,
    money,
    picture,
    script_json,
)

# What an admin enters as Jewel Discount's `selectors`: every field scoped to the product block,
# because the deal banner above it and the carousel below it use the same .product-price class.
JEWEL_DISCOUNT_SELECTORS = {
    "title": ".product-detail .product-title",
    "price": ".product-detail .product-price",
    "regular_price": ".product-detail .was-price",
    "availability": ".product-detail .stock-status",
    "brand": ".product-detail .product-brand",
    "reference": ".product-detail .product-model",
    "sku": ".product-detail .product-sku",
}

SCHEMA = "https://schema.org/"
SELLERS = (
    "Prestige Time NYC",
    "Swiss Hours Miami",
    "Crown Vault Watches",
    "Lusso Timepieces LA",
    "Horology House",
    "Bezel Street",
    "Atlas Watch Co.",
)

Render = Callable[[Shop, Watch, DemoOffer, datetime, str], str]

REVIEW_AUTHORS = ("collector_nyc", "tick_tock", "horology_fan", "mk", "Dana R.", "J. Okafor")
REVIEWS_FROM = datetime(2025, 6, 1, tzinfo=UTC)
REVIEW_SPAN_DAYS = 540


def shop_reviews(shop: Shop, watch: Watch, at: datetime) -> list[tuple[int, ShopReview, datetime]]:
    """The reviews (number, text, posted) of a watch at a shop posted by `at`, newest first."""
    texts = inventory().reviews
    if not texts:
        return []
    count = 2 + int(draw(shop.slug, watch.reference, "reviews") * 5)
    found = []
    for number in range(1, count + 1):
        text = texts[int(draw(shop.slug, watch.reference, "review", number) * len(texts))]
        days = int(draw(shop.slug, watch.reference, "review-day", number) * REVIEW_SPAN_DAYS)
        posted = REVIEWS_FROM + timedelta(days=days, hours=9 + number)
        if posted <= at:
            found.append((number, text, posted))
    return sorted(found, key=lambda item: item[2], reverse=True)


def review_ld(
    shop: Shop,
    watch: Watch,
    base: str,
    number: int,
    review: ShopReview,
    posted: datetime,
    *,
    out_of: int = 5,
) -> dict:
    author = REVIEW_AUTHORS[int(draw(shop.slug, watch.reference, "author", number) * 6)]
    return {
        "@type": "Review",
        "@id": f"{base}/reviews/{shop.item_id(watch)}-{number}",
        "author": {"@type": "Person", "name": author},
        "datePublished": posted.date().isoformat(),
        "name": review.title,
        "reviewBody": review.text,
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": review.rating * out_of // 5,
            "bestRating": out_of,
            "worstRating": 1,
        },
    }


def aggregate_rating(reviews: list[tuple[int, ShopReview, datetime]]) -> dict:
    average = Decimal(sum(review.rating for _, review, _ in reviews)) / len(reviews)
    return {
        "@type": "AggregateRating",
        "ratingValue": str(average.quantize(Decimal("0.1"))),
        "reviewCount": len(reviews),
    }


def product_page(shop: Shop, watch: Watch, offer: DemoOffer, at: datetime, url: str) -> str:
    render = STYLES.get(shop.slug, json_ld_page)
    return render(shop, watch, offer, at, url)


def availability_url(offer: DemoOffer) -> str:
    return SCHEMA + ("InStock" if offer.available else "OutOfStock")


def json_ld_page(shop: Shop, watch: Watch, offer: DemoOffer, at: datetime, url: str) -> str:
    product = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": f"{watch.brand} {watch.name}",
        "description": f"{watch.brand} {watch.name}, reference {watch.reference}.",
        "sku": shop.item_id(watch),
        "mpn": watch.reference,
        "brand": {"@type": "Brand", "name": watch.brand},
        "offers": {
            "@type": "Offer",
            "url": url,
            "price": str(offer.price),
            "priceCurrency": offer.currency,
            "availability": availability_url(offer),
            "itemCondition": f"{SCHEMA}NewCondition",
            "seller": {"@type": "Organization", "name": shop.name},
        },
    }
    if watch.gtin:
        product["gtin13"] = watch.gtin
    reviews = shop_reviews(shop, watch, at)
    if reviews:
        base = url.split("/watches/", 1)[0]
        product["aggregateRating"] = aggregate_rating(reviews)
        product["review"] = [review_ld(shop, watch, base, *review) for review in reviews]
    head = (
        f'<link rel="canonical" href="{escape(url)}">\n'
        f'<script type="application/ld+json">{script_json(product)}</script>'
    )
    if offer.available:
        stock, action = "In stock at the boutique", "Reserve in boutique"
    else:
        stock = "Currently unavailable. Register your interest and an advisor will call you."
        action = "Register interest"
    body = f"""{breadcrumbs(shop, watch)}
<article class="product">
{picture(watch)}
<div class="buy-box">
<h1>{escape(watch.brand)} {escape(watch.name)}</h1>
<p class="reference">Reference {escape(watch.reference)}</p>
<p class="price">{money(offer.price, cents=False)}</p>
<p class="availability">{stock}</p>
<button type="button">{action}</button>
</div>
</article>
{description(shop, watch)}
{carousel(shop, also_viewed(shop, watch, at), "card-price")}"""
    return layout(shop, title=f"{watch.title} | {shop.name}", head=head, body=body)


def microdata_page(shop: Shop, watch: Watch, offer: DemoOffer, at: datetime, url: str) -> str:
    was = (
        f'<del class="price-was">{money(offer.regular_price)}</del> ' if offer.regular_price else ""
    )
    stock = "In stock" if offer.available else "Out of stock"
    body = f"""{breadcrumbs(shop, watch)}
<article class="product" itemscope itemtype="https://schema.org/Product">
{picture(watch)}
<div class="buy-box">
<h1 itemprop="name">{escape(watch.brand)} {escape(watch.name)}</h1>
<div itemprop="brand" itemscope itemtype="https://schema.org/Brand">
<meta itemprop="name" content="{escape(watch.brand)}"></div>
<p>Reference <span itemprop="mpn">{escape(watch.reference)}</span>
· Item <span itemprop="sku">{shop.item_id(watch)}</span></p>
<div class="offer" itemprop="offers" itemscope itemtype="https://schema.org/Offer">
<meta itemprop="priceCurrency" content="{offer.currency}">
{was}<span class="price-now" itemprop="price" content="{offer.price}">{money(offer.price)}</span>
<link itemprop="availability" href="{availability_url(offer)}">
<link itemprop="itemCondition" href="{SCHEMA}NewCondition">
<p class="stock">{stock}</p>
</div>
<button type="button">Add to bag</button>
<p itemprop="description">{escape(watch.brand)} {escape(watch.name)}, new from an authorized
dealer.</p>
</div>
</article>
{description(shop, watch)}
{carousel(shop, also_viewed(shop, watch, at), "card-price")}"""
    return layout(shop, title=f"{watch.title} | {shop.name}", body=body)


def seller_offers(shop: Shop, watch: Watch, offer: DemoOffer, at: datetime) -> list[dict]:
    """The marketplace's sellers for a reference today, cheapest first: the cheapest is the
    offer's price, the others ask 1-12% more."""
    if not offer.available or offer.price is None:
        return []
    day = at.date()
    count = 2 + int(draw(shop.slug, watch.reference, "sellers", day) * 4)
    names = sorted(SELLERS, key=lambda name: draw(shop.slug, watch.reference, "seller", name))
    offers = []
    for position, name in enumerate(names[:count]):
        amount = offer.price
        if position:
            markup = between("0.01", "0.12", shop.slug, watch.reference, "markup", day, name)
            amount = round_price(shop.slug, offer.price * (1 + markup), up=True)
        offers.append(
            {
                "id": f"{shop.item_id(watch)}-{position + 1}",
                "seller": {
                    "name": name,
                    "rating": float(round(Decimal("4.5") + draw(name, "rating") / 2, 1)),
                    "country": "US",
                },
                "price": {"amount": int(amount), "currency": offer.currency},
                "condition": "unworn" if position % 2 == 0 else "very good",
                "year": 2023 + position % 3,
                "boxPapers": position % 3 != 2,
            }
        )
    return sorted(offers, key=lambda item: item["price"]["amount"])


def next_data_page(shop: Shop, watch: Watch, offer: DemoOffer, at: datetime, url: str) -> str:
    sellers = seller_offers(shop, watch, offer, at)
    related = also_viewed(shop, watch, at)
    state = {
        "props": {
            "pageProps": {
                "listing": {
                    "id": shop.item_id(watch),
                    "reference": watch.reference,
                    "brand": {"name": watch.brand, "slug": watch.brand_part},
                    "model": watch.name,
                    "title": watch.title,
                    "status": "available" if offer.available else "sold",
                    "price": {
                        "amount": int(offer.price),
                        "currency": offer.currency,
                        "formatted": money(offer.price, cents=False),
                    },
                    "offers": sellers,
                },
                "related": [
                    {
                        "reference": other.reference,
                        "title": other.title,
                        "price": {"amount": int(other_offer.price), "currency": "USD"},
                    }
                    for other, other_offer in related
                ],
            },
            "__N_SSP": True,
        },
        "page": "/watches/[brand]/[reference]",
        "query": {"brand": watch.brand_part, "reference": watch.reference_part},
        "buildId": "demo-7f3c2a1",
        "isFallback": False,
        "gssp": True,
        "scriptLoader": [],
    }
    head = f'<link rel="canonical" href="{escape(url)}">'
    if offer.available:
        status = f'<p class="Listing_status__q81Lm">In stock · {len(sellers)} offers</p>'
    else:
        status = '<p class="Listing_status__q81Lm">Sold out: no seller offers it right now</p>'
    rows = "".join(
        f'<li class="OfferRow_row__2bNcd"><span>{escape(item["seller"]["name"])}</span> '
        f"<span>{escape(item['condition'])}, {item['year']}</span> "
        f'<span class="OfferRow_price__Zx0aP">{money(item["price"]["amount"], cents=False)}</span>'
        "</li>"
        for item in sellers[1:]
    )
    body = f"""<div id="__next"><div class="Layout_root__a1B2c">
{breadcrumbs(shop, watch)}
<article class="product Listing_root__x7Kp2">
{picture(watch)}
<div class="Listing_buyBox__d9Vb0">
<h1 class="Listing_title__m3Qz1">{escape(watch.title)}</h1>
<div class="Price_root__4hT7e"><span class="Price_label__p0Lk2">Price</span>
<span class="Price_amount__3kQ9x">{money(offer.price, cents=False)}</span></div>
{status}
<button type="button" class="Button_primary__zZ1aQ">Buy now</button>
</div>
</article>
<section class="OtherOffers_root__8fGh3"><h2>More offers from other sellers</h2>
<ul>{rows}</ul></section>
{description(shop, watch)}
{carousel(shop, related, "Card_price__k2Lp9")}
</div></div>
<script id="__NEXT_DATA__" type="application/json">{script_json(state)}</script>"""
    return layout(
        shop, title=f"{watch.title} for {money(offer.price, cents=False)}", head=head, body=body
    )


def selector_page(shop: Shop, watch: Watch, offer: DemoOffer, at: datetime, url: str) -> str:
    related = also_viewed(shop, watch, at)
    deal_watch, deal_offer = related[-1]
    price_box = f'<span class="product-price">{money(offer.price)}</span>'
    if offer.regular_price:
        saving = (1 - offer.price / offer.regular_price) * 100
        price_box = (
            f'<span class="was-price">{money(offer.regular_price)}</span> {price_box} '
            f'<span class="savings">Flash sale! You save {saving:.0f}%</span>'
        )
    cards = "".join(
        f'<div class="card"><a href="/{shop.slug}{other.path}">{escape(other.title)}</a>'
        f'<span class="product-price">{money(other_offer.price)}</span></div>'
        for other, other_offer in related[:-1]
    )
    body = f"""<div class="deal-banner card">Deal of the day:
<a href="/{shop.slug}{deal_watch.path}">{escape(deal_watch.title)}</a>
<span class="product-price">{money(deal_offer.price)}</span></div>
{breadcrumbs(shop, watch)}
<section class="product product-detail">
{picture(watch)}
<div>
<h1 class="product-title">{escape(watch.brand)} {escape(watch.name)}</h1>
<ul class="product-meta">
<li>Brand: <span class="product-brand">{escape(watch.brand)}</span></li>
<li>Model number: <span class="product-model">{escape(watch.reference)}</span></li>
<li>SKU: <span class="product-sku">{shop.item_id(watch)}</span></li>
</ul>
<div class="price-box">{price_box}</div>
<p class="stock-status">{"In stock" if offer.available else "Sold out"}</p>
<button type="button" class="add-to-cart">Add to cart</button>
</div>
</section>
{description(shop, watch)}
<section class="also-viewed"><h2>Customers also viewed</h2><div class="carousel">{cards}</div>
</section>"""
    return layout(shop, title=f"{watch.title} | {shop.name}", body=body)


def graph_page(shop: Shop, watch: Watch, offer: DemoOffer, at: datetime, url: str) -> str:
    base = url.split("/watches/", 1)[0]
    ld_offer: dict = {
        "@type": "Offer",
        "url": url,
        "priceCurrency": offer.currency,
        "availability": availability_url(offer),
        "seller": {"@id": f"{base}/#organization"},
    }
    meta = [
        ("og:type", "product"),
        ("og:title", watch.title),
        ("og:url", url),
        ("og:site_name", shop.name),
        ("product:retailer_item_id", shop.item_id(watch)),
        ("product:availability", "instock" if offer.available else "oos"),
    ]
    if not offer.price_hidden:
        ld_offer["price"] = str(offer.price)
        meta += [("product:price:amount", str(offer.price)), ("product:price:currency", "USD")]
        if offer.regular_price:
            ld_offer["priceSpecification"] = {
                "@type": "UnitPriceSpecification",
                "priceType": f"{SCHEMA}StrikethroughPrice",
                "price": str(offer.regular_price),
                "priceCurrency": offer.currency,
            }
    product = {
        "@type": "Product",
        "@id": f"{url}#product",
        "name": watch.title,
        "sku": shop.item_id(watch),
        "mpn": watch.reference,
        "brand": {"@type": "Brand", "name": watch.brand},
        "offers": ld_offer,
    }
    if watch.gtin:
        product["gtin13"] = watch.gtin
    reviews = shop_reviews(shop, watch, at)
    review_nodes = []
    if reviews:
        product["aggregateRating"] = aggregate_rating(reviews)
        for review in reviews:
            node = review_ld(shop, watch, base, *review, out_of=10)
            review_nodes.append(node | {"itemReviewed": {"@id": product["@id"]}})
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Organization", "@id": f"{base}/#organization", "name": shop.name},
            {
                "@type": "BreadcrumbList",
                "itemListElement": [
                    {"@type": "ListItem", "position": 1, "name": "Home", "item": f"{base}/"},
                    {"@type": "ListItem", "position": 2, "name": "Jewelry & Watches"},
                    {"@type": "ListItem", "position": 3, "name": watch.brand},
                ],
            },
            product,
            *review_nodes,
        ],
    }
    head = "\n".join(
        f'<meta property="{name}" content="{escape(value)}">' for name, value in meta
    ) + (f'\n<script type="application/ld+json">{script_json(graph)}</script>')
    if offer.price_hidden:
        price = (
            '<span class="price-hidden">Add to cart to see price</span>'
            '<p class="map-note">Why don\'t we show the price? The manufacturer asks us to show '
            "it only in your cart.</p>"
        )
    else:
        price = f'<span class="price-characteristic">Now {money(offer.price)}</span>'
    if offer.regular_price:
        label = "List price" if offer.price_hidden else "Was"
        price += f' <span class="price-was">{label} <s>{money(offer.regular_price)}</s></span>'
    if offer.available:
        stock = "In stock. Free shipping, arrives in 2 days"
    else:
        stock = "Out of stock. Notify me when it's back in stock"
    body = f"""{breadcrumbs(shop, watch)}
<section class="product prod-ProductPage">
{picture(watch)}
<div class="prod-BuyBox">
<h1 class="prod-ProductTitle">{escape(watch.title)}</h1>
<p class="prod-Ids">Model {escape(watch.reference)} · Item {shop.item_id(watch)}</p>
<div class="prod-PriceHero">{price}</div>
<p class="prod-Fulfillment">{stock}</p>
<button type="button" class="prod-AddToCart">Add to cart</button>
</div>
</section>
{description(shop, watch)}
{carousel(shop, also_viewed(shop, watch, at), "price-group")}"""
    return layout(shop, title=f"{watch.title} - {shop.name}.com", head=head, body=body)


def aggregate_page(shop: Shop, watch: Watch, offer: DemoOffer, at: datetime, url: str) -> str:
    sellers = seller_offers(shop, watch, offer, at)
    high = Decimal(sellers[-1]["price"]["amount"]) if sellers else offer.price
    product = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": watch.title,
        "sku": shop.item_id(watch),
        "mpn": watch.reference,
        "brand": {"@type": "Brand", "name": watch.brand},
        "offers": {
            "@type": "AggregateOffer",
            "lowPrice": str(offer.price),
            "highPrice": str(high.quantize(Decimal("0.01"))),
            "offerCount": len(sellers),
            "priceCurrency": offer.currency,
            "availability": availability_url(offer),
        },
    }
    head = (
        f'<link rel="canonical" href="{escape(url)}">\n'
        f'<script type="application/ld+json">{script_json(product)}</script>'
    )
    rows = "".join(
        f"<tr><td>{escape(item['seller']['name'])}</td><td>{escape(item['condition'])}</td>"
        f"<td>{item['year']}</td><td>{money(Decimal(item['price']['amount']))}</td></tr>"
        for item in sellers
    )
    if offer.available:
        stock = f"In stock with {len(sellers)} verified sellers"
        table = (
            "<table class='tx-offers'><tr><th>Seller</th><th>Condition</th><th>Year</th>"
            f"<th>Price</th></tr>{rows}</table>"
        )
    else:
        stock, table = "Sold out: no verified seller has one right now", ""
    body = f"""{breadcrumbs(shop, watch)}
<section class="product tx-product">
{picture(watch)}
<div class="tx-buy">
<h1>{escape(watch.title)}</h1>
<p>Reference {escape(watch.reference)}</p>
<div class="tx-price"><span class="tx-price__label">From</span>
<span class="tx-price__amount">{money(offer.price)}</span></div>
<p class="tx-stock">{stock}</p>
<button type="button">See offers</button>
</div>
</section>
<section><h2>Offers</h2>{table}</section>
{description(shop, watch)}
{carousel(shop, also_viewed(shop, watch, at), "tx-card__price")}"""
    return layout(shop, title=f"{watch.title} | {shop.name}", head=head, body=body)


STYLES: dict[str, Render] = {
    "meridian-boutique": json_ld_page,
    "hallmark-jewelers": microdata_page,
    "chrono-plaza": next_data_page,
    "jewel-discount": selector_page,
    "megamart": graph_page,
    "tick-exchange": aggregate_page,
}
