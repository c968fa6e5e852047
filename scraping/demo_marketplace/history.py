"""The demo marketplace's longer past: every shop's daily price for every watch, as `offer_for`
computes it, over as many days as a forecast needs to learn from.

Nothing is stored: a day's price follows from (shop, reference, day), so the history a benchmark
or a demo trains on is the very price list the shops served (or would have served) on those days.
A shop that redirects a reference to another product has no history for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from .inventory import inventory
from .offers import offer_for

# Prices move once a day; noon UTC is an hour of every day that no bot-wall draw changes.
READ_AT = time(12, tzinfo=UTC)


@dataclass(frozen=True)
class HistoryPoint:
    retailer_slug: str
    market_type: str
    reference: str
    category: str
    day: date
    price: Decimal
    currency: str
    available: bool


def shop_history(retailer_slug: str, reference: str, *, end: date, days: int) -> list[HistoryPoint]:
    """One shop's daily prices for one reference over the `days` days ending with `end`."""
    stock = inventory()
    shop, watch = stock.shop(retailer_slug), stock.watch(reference)
    points = []
    for offset in range(days - 1, -1, -1):
        day = end - timedelta(days=offset)
        offer = offer_for(shop.slug, watch.reference, datetime.combine(day, READ_AT))
        if offer.price is None:
            return []
        points.append(
            HistoryPoint(
                retailer_slug=shop.slug,
                market_type=shop.market_type,
                reference=watch.reference,
                category=watch.category,
                day=day,
                price=offer.price,
                currency=offer.currency,
                available=offer.available,
            )
        )
    return points


def market_history(*, end: date, days: int = 365) -> Iterator[HistoryPoint]:
    """Every shop's daily prices for every watch over the `days` days ending with `end`."""
    stock = inventory()
    for shop in stock.shops.values():
        for watch in stock.watches:
            yield from shop_history(shop.slug, watch.reference, end=end, days=days)
