"""The truth behind every demo page: what a shop asks for a watch at a given hour.

Everything follows from (shop, reference, UTC date and hour) through a hash, so a test that pins
the clock knows what the page says, and every machine shows the same price history.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from .inventory import Shop, Watch, inventory

CURRENCY = "USD"
CENT = Decimal("0.01")
# The demo retailers' default MAP: MSRP x 0.800.
MAP_SHARE = Decimal("0.80")

# Where the gray market trades against MSRP, by pricing category: the hype models above list.
GRAY_PREMIUM = {
    "rolex_daytona": Decimal("0.26"),
    "patek_philippe_nautilus": Decimal("0.25"),
    "ap_royal_oak": Decimal("0.20"),
    "patek_philippe_aquanaut": Decimal("0.15"),
    "rolex_gmt": Decimal("0.12"),
    "rolex_submariner": Decimal("0.06"),
    "rolex_oyster": Decimal("0.02"),
    "rolex_explorer": Decimal("0.00"),
    "rolex_datejust": Decimal("-0.04"),
    "ap_offshore": Decimal("-0.12"),
    "cartier_santos": Decimal("-0.12"),
    "cartier_tank": Decimal("-0.12"),
    "tudor_black_bay": Decimal("-0.13"),
    "patek_philippe_calatrava": Decimal("-0.14"),
    "omega_speedmaster": Decimal("-0.14"),
    "grand_seiko_heritage": Decimal("-0.14"),
    "omega_seamaster": Decimal("-0.16"),
    "iwc_portugieser": Decimal("-0.16"),
    "tag_carrera": Decimal("-0.17"),
}
DEFAULT_PREMIUM = Decimal("-0.10")
# Categories at or above this premium are waitlisted at boutiques and dealers.
HYPE_PREMIUM = Decimal("0.10")
# Categories at or below it are the ones a discounter dumps under MAP on a flash sale.
DUMPED_PREMIUM = Decimal("-0.12")
GRAY_FLOOR = MAP_SHARE
GRAY_CEILING = Decimal("1.30")

# Each gray-market shop's habitual position against the market.
GRAY_BIAS = {
    "chrono-plaza": Decimal("0.00"),
    "jewel-discount": Decimal("-0.02"),
    "tick-exchange": Decimal("0.01"),
}
# The shop that runs flash sales, some of them under MAP, and how often.
FLASH_SALE_SHOP = "jewel-discount"
FLASH_SALE_SHARE = Decimal("0.10")

# How each shop writes its prices: a step to round to, or a .99 ending.
PRICE_STEPS = {"hallmark-jewelers": Decimal(5), "chrono-plaza": Decimal(10)}
NINETY_NINE_ENDINGS = frozenset({"megamart"})

# Share of hours a shop's bot wall stops a product page.
BOT_WALLS = {"megamart": Decimal("0.20")}

# Fixed quirks, one behaviour each. The Submariner no-date page now lands on the Date.
REDIRECTS = {("hallmark-jewelers", "124060"): "126610LN"}
# Priced under MAP in the cart, so the page only says "Add to cart to see price".
HIDDEN_PRICES = frozenset({("megamart", "210.30.42.20.03.001")})


@dataclass(frozen=True)
class DemoOffer:
    """What a shop's product page says at one hour.

    `price` is the shop's price even when the page does not show it: behind a bot wall
    (`blocked`) or in the cart (`price_hidden`). It is None only when the page redirects to
    another product (`redirect_to` holds that product's reference). `regular_price` is the
    struck-through was-price, None when the page shows none.
    """

    price: Decimal | None
    regular_price: Decimal | None
    currency: str
    available: bool
    blocked: bool = False
    redirect_to: str | None = None
    price_hidden: bool = False

    @property
    def shown_price(self) -> Decimal | None:
        """The price an extractor should read from the page."""
        if self.blocked or self.price_hidden or self.redirect_to:
            return None
        return self.price


def offer_for(retailer_slug: str, reference: str, at: datetime) -> DemoOffer:
    """The page's truth for a shop and a reference; KeyError for one the demo does not know."""
    if at.tzinfo is None:
        raise ValueError("offer_for needs an aware datetime")
    at = at.astimezone(UTC)
    stock = inventory()
    shop = stock.shop(retailer_slug)
    watch = stock.watch(reference)
    redirect = REDIRECTS.get((shop.slug, watch.reference))
    if redirect:
        return DemoOffer(
            price=None, regular_price=None, currency=CURRENCY, available=False, redirect_to=redirect
        )
    day = at.date()
    price, regular_price = _prices(shop, watch, day)
    wall = BOT_WALLS.get(shop.slug, Decimal(0))
    return DemoOffer(
        price=price,
        regular_price=regular_price,
        currency=CURRENCY,
        available=_available(shop, watch, day),
        blocked=draw(shop.slug, watch.reference, "wall", day, at.hour) < wall,
        price_hidden=(shop.slug, watch.reference) in HIDDEN_PRICES,
    )


def draw(*parts: object) -> Decimal:
    """A number in [0, 1) fixed by the parts: the demo's only source of variety."""
    key = "|".join(str(part) for part in parts).encode()
    value = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")
    return Decimal(value) / Decimal(2**64)


def between(low: str, high: str, *parts: object) -> Decimal:
    return Decimal(low) + (Decimal(high) - Decimal(low)) * draw(*parts)


def premium(watch: Watch) -> Decimal:
    return GRAY_PREMIUM.get(watch.category, DEFAULT_PREMIUM)


def round_price(shop_slug: str, amount: Decimal, *, up: bool = False) -> Decimal:
    """Round as the shop writes prices; `up` never goes below the amount (for floors)."""
    if shop_slug in NINETY_NINE_ENDINGS:
        whole = (amount + CENT).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR)
        return (whole - CENT).quantize(CENT)
    step = PRICE_STEPS.get(shop_slug, Decimal(1))
    rounding = ROUND_CEILING if up else (ROUND_FLOOR if step == 5 else ROUND_HALF_UP)
    return ((amount / step).to_integral_value(rounding) * step).quantize(CENT)


def _prices(shop: Shop, watch: Watch, day: date) -> tuple[Decimal, Decimal | None]:
    if shop.market_type == "official_boutique":
        return watch.msrp, None
    if shop.market_type == "authorized_dealer":
        return _dealer_prices(shop, watch, day)
    if shop.market_type == "big_box":
        return _big_box_prices(shop, watch, day)
    return _gray_prices(shop, watch, day)


def _dealer_prices(shop: Shop, watch: Watch, day: date) -> tuple[Decimal, Decimal | None]:
    # Dealers never discount what has a waitlist; the rest goes on sale a week at a time.
    year, week, _ = day.isocalendar()
    if premium(watch) >= HYPE_PREMIUM or draw(shop.slug, watch.reference, "sale", year, week) >= (
        Decimal("0.25")
    ):
        return watch.msrp, None
    discount = between("0.05", "0.10", shop.slug, watch.reference, "discount", year, week)
    return round_price(shop.slug, watch.msrp * (1 - discount)), watch.msrp


def _big_box_prices(shop: Shop, watch: Watch, day: date) -> tuple[Decimal, Decimal | None]:
    if (shop.slug, watch.reference) in HIDDEN_PRICES:
        return round_price(shop.slug, watch.msrp * Decimal("0.78")), watch.msrp
    year, week, _ = day.isocalendar()
    if draw(shop.slug, watch.reference, "promo", year, week) >= Decimal("0.30"):
        return watch.msrp, None
    discount = between("0.05", "0.12", shop.slug, watch.reference, "discount", year, week)
    return round_price(shop.slug, watch.msrp * (1 - discount)), watch.msrp


def _gray_prices(shop: Shop, watch: Watch, day: date) -> tuple[Decimal, Decimal | None]:
    factor = 1 + premium(watch) + GRAY_BIAS.get(shop.slug, Decimal(0)) + _drift(shop, watch, day)
    factor = min(max(factor, GRAY_FLOOR), GRAY_CEILING)
    price = _at_least_map(shop, watch, round_price(shop.slug, watch.msrp * factor))
    if shop.slug != FLASH_SALE_SHOP or draw(shop.slug, watch.reference, "flash", day) >= (
        FLASH_SALE_SHARE
    ):
        return price, None
    if premium(watch) <= DUMPED_PREMIUM:
        share = between("0.74", "0.79", shop.slug, watch.reference, "dump", day)
        return round_price(shop.slug, watch.msrp * share), price
    cut = between("0.07", "0.12", shop.slug, watch.reference, "cut", day)
    sale = _at_least_map(shop, watch, round_price(shop.slug, price * (1 - cut)))
    return (sale, price) if sale < price else (price, None)


# The gray market asks a little more when buyers browse most: Friday to Sunday.
WEEKDAY_MARKUP = (
    Decimal("0"),
    Decimal("0"),
    Decimal("0"),
    Decimal("0"),
    Decimal("0.004"),
    Decimal("0.008"),
    Decimal("0.006"),
)


def _drift(shop: Shop, watch: Watch, day: date) -> Decimal:
    """A weekly trend of up to 3% either way, joined smoothly, plus 1% of daily noise, the
    weekend markup and the category's slow market cycle."""
    week, weekday = divmod(day.toordinal(), 7)
    start = between("-0.03", "0.03", shop.slug, watch.reference, "trend", week)
    end = between("-0.03", "0.03", shop.slug, watch.reference, "trend", week + 1)
    noise = between("-0.01", "0.01", shop.slug, watch.reference, "noise", day)
    return (
        start
        + (end - start) * weekday / 7
        + noise
        + WEEKDAY_MARKUP[day.weekday()]
        + market_cycle(watch.category, day)
    )


def market_cycle(category: str, day: date) -> Decimal:
    """A category's slow swing of 2-5% either way over 4-8 months, the same at every gray shop.

    Rounded to 6 places so the sine's last bits, which may differ between platforms, never
    reach a price.
    """
    amplitude = float(between("0.02", "0.05", category, "cycle amplitude"))
    period = float(between("120", "240", category, "cycle period"))
    phase = float(draw(category, "cycle phase"))
    angle = 2 * math.pi * (day.toordinal() / period + phase)
    return Decimal(amplitude * math.sin(angle)).quantize(Decimal("0.000001"))


def _at_least_map(shop: Shop, watch: Watch, price: Decimal) -> Decimal:
    floor = watch.msrp * MAP_SHARE
    return price if price >= floor else round_price(shop.slug, floor, up=True)


def _available(shop: Shop, watch: Watch, day: date) -> bool:
    waitlisted = premium(watch) >= HYPE_PREMIUM and shop.market_type in {
        "official_boutique",
        "authorized_dealer",
    }
    share_out = Decimal("0.85") if waitlisted else Decimal("0.08")
    return draw(shop.slug, watch.reference, "stock", day) >= share_out
