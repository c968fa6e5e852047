"""The parts every demo shop shares: its look, the page frame, and the pages around products."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape
from urllib.parse import quote_plus

from .inventory import Shop, Watch, inventory
from .offers import DemoOffer, draw, offer_for


@dataclass(frozen=True)
class Theme:
    tagline: str
    ink: str
    accent: str
    paper: str
    font: str


THEMES = {
    "meridian-boutique": Theme(
        "Official boutique since 1968", "#1d1d1b", "#8a6d3b", "#faf8f4", "Georgia, serif"
    ),
    "hallmark-jewelers": Theme(
        "Authorized dealer of fine timepieces", "#14213d", "#b08d57", "#ffffff", "Garamond, serif"
    ),
    "chrono-plaza": Theme(
        "The marketplace for luxury watches", "#0b1f33", "#0070f3", "#f5f7fa", "Inter, sans-serif"
    ),
    "jewel-discount": Theme(
        "Luxury for less", "#222222", "#d0021b", "#fffdf5", "Arial, Helvetica, sans-serif"
    ),
    "megamart": Theme(
        "Everything, every day, for less", "#2e2f32", "#0071dc", "#ffffff", "Helvetica, sans-serif"
    ),
    "tick-exchange": Theme(
        "Pre-owned and unworn watches, verified",
        "#102a27",
        "#1f8a70",
        "#f7fbfa",
        "Verdana, sans-serif",
    ),
}
DEFAULT_THEME = Theme("Fine watches", "#222222", "#555555", "#ffffff", "sans-serif")

BLURBS = {
    "official_boutique": "Sold new by the maker's boutique, with the international warranty.",
    "authorized_dealer": "Brand new from an authorized dealer, with the manufacturer's warranty.",
    "gray_market": "Unworn, with box and papers. Covered by our own two-year warranty.",
    "big_box": "Ships free in 2 days. 30-day returns on unworn items.",
}


def money(amount: Decimal, *, cents: bool = True) -> str:
    return f"${amount:,.2f}" if cents else f"${amount:,.0f}"


def script_json(data: object) -> str:
    """JSON that cannot close the <script> element it sits in."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def layout(shop: Shop, *, title: str, body: str, head: str = "") -> str:
    theme = THEMES.get(shop.slug, DEFAULT_THEME)
    home = f"/{shop.slug}/"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
{head}
<style>
body{{margin:0;font-family:{theme.font};color:{theme.ink};background:{theme.paper}}}
a{{color:{theme.accent}}}
.site-header{{display:flex;gap:2rem;align-items:center;padding:1rem 2rem;
border-bottom:3px solid {theme.accent}}}
.logo{{font-size:1.6rem;font-weight:bold;text-decoration:none;color:{theme.ink}}}
.tagline{{font-size:.8rem;color:#777}}
main{{max-width:1100px;margin:0 auto;padding:1rem 2rem}}
.breadcrumbs{{font-size:.85rem;color:#777}}
.product{{display:grid;grid-template-columns:360px 1fr;gap:2rem;margin:1rem 0}}
.product-image svg{{width:100%;height:auto;background:#eee}}
.price,.product-price,.price-now{{font-size:1.8rem;font-weight:bold}}
.was-price,.price-was,del,s{{color:#888;text-decoration:line-through}}
button{{background:{theme.accent};color:#fff;border:0;padding:.7rem 1.4rem;font-size:1rem}}
.carousel{{display:flex;gap:1rem;overflow-x:auto}}
.card{{flex:0 0 200px;border:1px solid #ddd;padding:.8rem;background:#fff}}
.grid{{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:1rem}}
table{{border-collapse:collapse}}td,th{{padding:.3rem .8rem;border-bottom:1px solid #ddd}}
footer{{margin-top:3rem;padding:1rem 2rem;font-size:.8rem;color:#777;border-top:1px solid #ddd}}
</style>
</head>
<body>
<header class="site-header">
<div><a class="logo" href="{home}">{escape(shop.name)}</a>
<div class="tagline">{escape(theme.tagline)}</div></div>
<form class="site-search" action="/{shop.slug}/search" method="get" role="search">
<input type="search" name="q" placeholder="Search by reference or model">
<button type="submit">Search</button></form>
<nav><a href="{home}">Home</a> · <a href="{home}search?q=Rolex">Rolex</a> ·
<a href="{home}search?q=Omega">Omega</a> ·
<a href="{home}search?q=Patek+Philippe">Patek Philippe</a></nav>
</header>
<main>
{body}
</main>
<footer>&copy; {escape(shop.name)}. A demo shop served by WatchPrice on loopback; prices are
invented. <a href="/{shop.slug}/robots.txt">robots.txt</a></footer>
</body>
</html>
"""


def breadcrumbs(shop: Shop, watch: Watch) -> str:
    links = [
        f'<a href="/{shop.slug}/">Home</a>',
        f'<a href="/{shop.slug}/search?q=watches">Watches</a>',
        f'<a href="/{shop.slug}/search?q={quote_plus(watch.brand)}">{escape(watch.brand)}</a>',
        f"<span>{escape(watch.name)}</span>",
    ]
    return f'<nav class="breadcrumbs" aria-label="Breadcrumb">{" &rsaquo; ".join(links)}</nav>'


def picture(watch: Watch) -> str:
    """A drawn watch face standing in for the product photo."""
    return (
        '<div class="product-image"><svg viewBox="0 0 200 200" role="img" '
        f'aria-label="{escape(watch.title)}"><circle cx="100" cy="100" r="70" fill="#fff" '
        'stroke="#999" stroke-width="8"/><line x1="100" y1="100" x2="100" y2="55" '
        'stroke="#333" stroke-width="4"/><line x1="100" y1="100" x2="130" y2="110" '
        'stroke="#333" stroke-width="3"/><text x="100" y="190" text-anchor="middle" '
        f'font-size="12">{escape(watch.reference)}</text></svg></div>'
    )


def description(shop: Shop, watch: Watch) -> str:
    blurb = BLURBS.get(shop.market_type, "")
    return (
        f'<section class="description"><h2>About this watch</h2><p>The {escape(watch.brand)} '
        f"{escape(watch.name)}, reference {escape(watch.reference)}. {escape(blurb)}</p></section>"
    )


def also_viewed(shop: Shop, watch: Watch, at: datetime) -> list[tuple[Watch, DemoOffer]]:
    """Four other watches with a price on show, chosen per product: the carousel's content."""
    others = [other for other in inventory().watches if other != watch]
    others.sort(key=lambda other: draw(shop.slug, watch.reference, "also", other.reference))
    picked = []
    for other in others:
        offer = offer_for(shop.slug, other.reference, at)
        if offer.redirect_to is None and not offer.price_hidden:
            picked.append((other, offer))
        if len(picked) == 4:
            break
    return picked


def carousel(shop: Shop, items: list[tuple[Watch, DemoOffer]], price_class: str) -> str:
    cards = "".join(
        f'<div class="card"><a href="/{shop.slug}{other.path}">{escape(other.title)}</a>'
        f'<div><span class="{price_class}">{money(offer.price)}</span></div></div>'
        for other, offer in items
        if offer.price is not None
    )
    return (
        '<section class="also-viewed"><h2>Customers also viewed</h2>'
        f'<div class="carousel">{cards}</div></section>'
    )


def catalog_cards(shop: Shop, watches: list[Watch], at: datetime) -> str:
    cards = []
    for watch in watches:
        offer = offer_for(shop.slug, watch.reference, at)
        if offer.redirect_to:
            continue
        price = "See price in cart" if offer.price_hidden else money(offer.price)
        cards.append(
            f'<div class="card"><a class="result-link" href="/{shop.slug}{watch.path}">'
            f"{escape(watch.title)}</a><div>{price}</div></div>"
        )
    return f'<div class="grid">{"".join(cards)}</div>'


def home_page(shop: Shop, at: datetime) -> str:
    body = (
        f"<h1>{escape(shop.name)}</h1><p>{escape(BLURBS.get(shop.market_type, ''))}</p>"
        f"{catalog_cards(shop, list(inventory().watches), at)}"
    )
    return layout(shop, title=f"{shop.name} | Luxury watches", body=body)


def search_page(shop: Shop, query: str, at: datetime) -> str:
    found = [watch for watch in inventory().watches if matches(watch, query)]
    results = catalog_cards(shop, found, at) if found else "<p>No watches match your search.</p>"
    body = f"<h1>Search results for “{escape(query)}”</h1>{results}"
    return layout(shop, title=f"Search: {query} | {shop.name}", body=body)


def matches(watch: Watch, query: str) -> bool:
    words = query.lower().split()
    if not words:
        return False
    compact = "".join(ch for ch in query.lower() if ch.isalnum())
    reference = "".join(ch for ch in watch.reference.lower() if ch.isalnum())
    if compact and compact in reference:
        return True
    text = f"{watch.brand} {watch.name} {watch.category}".lower()
    return all(word in text for word in words) or words == ["watches"]


def not_found_page(shop: Shop) -> str:
    body = (
        "<h1>We couldn't find that watch</h1><p>The page you asked for is not in our catalog. "
        f'Try <a href="/{shop.slug}/search?q=">searching by reference</a>.</p>'
    )
    return layout(shop, title=f"Product not found | {shop.name}", body=body)


def captcha_page(shop: Shop) -> str:
    # Modelled on the press-and-hold walls of big retailers: HTTP 200, no product at all.
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Robot or human?</title>
<style>body{{font-family:sans-serif;text-align:center;padding:4rem}}
#px-captcha{{margin:2rem auto;width:260px;padding:1rem;border:2px solid #0071dc}}</style>
</head>
<body>
<h1>Robot or human?</h1>
<p>Please verify you are a human. Activate and hold the button to confirm that you're human.
Thank you!</p>
<div id="px-captcha" role="button" tabindex="0">Press &amp; Hold</div>
<p>{escape(shop.name)} · Reference ID 7c0e9a1f-{shop.item_prefix.lower()}</p>
</body>
</html>
"""


def robots_txt(base_url: str, shops: list[Shop], *, crawl_delay: int | None = None) -> str:
    lines = ["User-agent: *", "Allow: /"]
    if crawl_delay:
        lines.append(f"Crawl-delay: {crawl_delay}")
    lines.append("")
    lines.extend(f"Sitemap: {base_url}/{shop.slug}/sitemap.xml" for shop in shops)
    return "\n".join(lines) + "\n"


def sitemap_xml(shop: Shop, base_url: str, at: datetime) -> str:
    urls = [f"{base_url}/{shop.slug}/"] + [
        f"{base_url}/{shop.slug}{watch.path}"
        for watch in inventory().watches
        if offer_for(shop.slug, watch.reference, at).redirect_to is None
    ]
    entries = "".join(f"<url><loc>{escape(url)}</loc></url>" for url in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>\n'
    )


def marketplace_index(shops: list[Shop]) -> str:
    links = "".join(
        f'<li><a href="/{shop.slug}/">{escape(shop.name)}</a> '
        f"({escape(shop.market_type.replace('_', ' '))})</li>"
        for shop in shops
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>WatchPrice demo marketplace</title></head><body>"
        "<h1>WatchPrice demo marketplace</h1><p>Fictional shops served on loopback.</p>"
        f"<ul>{links}</ul></body></html>\n"
    )
