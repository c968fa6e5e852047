"""Reconciling the sources into one Extraction.

Structured sources are read in order of reliability; the shopper-facing price, read with the
retailer's selectors, wins when it disagrees with them, because that is what a shopper pays.
Every conflict is kept as a Disagreement so a reviewer can see why a number was chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .availability import Availability, from_text, says_price_hidden, says_price_on_request
from .blocking import not_found_reason
from .currencies import same_symbol
from .document import Page
from .reading import Reading
from .result import Disagreement, Extraction, Identifiers, Source, Status

_ID_KINDS = tuple(Identifiers.__dataclass_fields__)


@dataclass(slots=True)
class Context:
    """What the extractor knows besides the readings."""

    page: Page
    extractor: str
    currency_hint: str | None
    hint_is_configured: bool
    read_product_text: bool
    price_hidden_text: str = ""
    problems: list[str] = field(default_factory=list)


def _money(amount: Decimal | None, currency: str | None) -> str:
    if amount is None:
        return "nothing"
    return f"{amount} {currency}" if currency else str(amount)


def _explain(rejected: Reading, kept_price: Decimal, kept: Reading, regular: Decimal | None) -> str:
    if rejected.price == regular:
        return "it is the regular (struck-through) price, not the price to pay"
    if rejected.price in (kept.unit_price, rejected.unit_price) and rejected.price is not None:
        return "it is a per-unit price"
    if kept.condition not in (None, "new"):
        return f"the offer a shopper can buy is {kept.condition}"
    if rejected.condition not in (None, "new"):
        return f"it is a {rejected.condition} offer"
    if rejected.currency and kept.currency and rejected.currency != kept.currency:
        return "it is in another currency than the price shown to shoppers"
    if rejected.price is not None and rejected.price > kept_price:
        return "the page shows a lower price to shoppers"
    return "the page shows a different price to shoppers"


def _pick_structured_price(structured: list[Reading]) -> Reading | None:
    base = next((r for r in structured if r.price is not None), None)
    if base is None:
        return None
    # A later source that pairs a sale price with base's price as its regular price shows
    # base's price is really the regular one (JSON-LD carrying the list price, og the sale).
    for other in structured:
        if (
            other is not base
            and other.price is not None
            and other.regular_price == base.price
            and other.price < base.price
        ):
            return other
    return base


def _set_price(result: Extraction, structured: list[Reading], visible: Reading) -> Reading | None:
    chosen = visible if visible.price is not None else _pick_structured_price(structured)
    price = chosen.price if chosen is not None else None
    if chosen is None or price is None:
        return None
    result.price = price
    result.sources["price"] = chosen.source
    result.condition = chosen.condition
    result.notes.extend(chosen.notes)

    regular, regular_source = _regular_price(chosen, structured)
    if regular is not None and regular > price:
        result.regular_price = regular
        result.sources["regular_price"] = regular_source
    elif regular is not None and regular != price:
        result.notes.append(f"ignored a regular price {regular} below the price {price}")

    for other in structured:
        if other.price is not None and other.price != price:
            result.disagreements.append(
                Disagreement(
                    field="price",
                    kept=_money(price, chosen.currency),
                    kept_source=chosen.source,
                    rejected=_money(other.price, other.currency),
                    rejected_source=other.source,
                    reason=_explain(other, price, chosen, regular),
                )
            )
    return chosen


def _regular_price(chosen: Reading, structured: list[Reading]) -> tuple[Decimal | None, str]:
    if chosen.regular_price is not None:
        return chosen.regular_price, chosen.source
    for other in structured:
        if other.regular_price is not None and other.price == chosen.price:
            return other.regular_price, other.source
    return None, ""


def _record_regular_conflicts(result: Extraction, structured: list[Reading]) -> None:
    kept = result.regular_price
    if kept is None:
        return
    for other in structured:
        if (
            other.regular_price is not None
            and other.regular_price != kept
            and other.price == result.price
        ):
            result.disagreements.append(
                Disagreement(
                    field="regular_price",
                    kept=str(kept),
                    kept_source=result.sources["regular_price"],
                    rejected=str(other.regular_price),
                    rejected_source=other.source,
                    reason="the page shows a different struck-through price to shoppers",
                )
            )


def _set_currency(
    result: Extraction, chosen: Reading | None, readings: list[Reading], ctx: Context
) -> None:
    if chosen is not None and chosen.currency and chosen.currency_is_guess:
        # "$" on the page says dollars, not whose; structured data names them.
        named = next((r for r in readings if r.currency and not r.currency_is_guess), None)
        if named is not None and named.currency and same_symbol(named.currency, chosen.currency):
            result.currency = named.currency
            result.sources["currency"] = named.source
            return
    candidates = ([chosen] if chosen is not None else []) + readings
    for reading in candidates:
        if reading.currency:
            result.currency = reading.currency
            result.sources["currency"] = reading.source
            return
    if ctx.currency_hint:
        result.currency = ctx.currency_hint
        result.sources["currency"] = Source.HINT if ctx.hint_is_configured else Source.URL


def _set_availability(
    result: Extraction, structured: list[Reading], visible: Reading, ctx: Context
) -> None:
    chosen: tuple[Availability, str] | None = next(
        ((r.availability, r.source) for r in structured if r.availability is not None), None
    )
    if visible.availability is not None:
        if chosen is None:
            chosen = (visible.availability, visible.source)
        elif chosen[0].available != visible.availability.available:
            result.disagreements.append(
                Disagreement(
                    field="available",
                    kept=visible.availability.token,
                    kept_source=visible.source,
                    rejected=chosen[0].token,
                    rejected_source=chosen[1],
                    reason="the buy box tells shoppers otherwise",
                )
            )
            chosen = (visible.availability, visible.source)
    if chosen is None and ctx.read_product_text:
        found = from_text(ctx.page.product_region_text, ctx.page.lang)
        if found is not None:
            chosen = (found, Source.TEXT)
    if chosen is not None:
        result.available = chosen[0].available
        result.availability = chosen[0].token
        result.sources["available"] = chosen[1]


def _title_from_tag(title: str) -> str | None:
    for separator in (" | ", " \u2013 ", " \u2014 "):
        title = title.split(separator)[0]
    return title.strip() or None


def _set_title(result: Extraction, readings: list[Reading], page: Page) -> None:
    for reading in readings:
        if reading.title:
            result.title = reading.title
            result.sources["title"] = reading.source
            return
    fallback = page.h1 or _title_from_tag(page.title_tag)
    if fallback:
        result.title = fallback
        result.sources["title"] = Source.TEXT


def _set_identifiers(result: Extraction, readings: list[Reading], page: Page) -> None:
    ids = result.identifiers
    canonical = page.canonical_url
    if canonical:
        ids.canonical_url = canonical
        result.sources["canonical_url"] = Source.SELECTORS
    for reading in readings:
        for kind, value in reading.ids.items():
            if kind in _ID_KINDS and getattr(ids, kind) is None:
                setattr(ids, kind, value)
                result.sources[kind] = reading.source


def _set_status(result: Extraction, visible: Reading, ctx: Context) -> None:
    hidden_text = " ".join(filter(None, (visible.price_text, ctx.price_hidden_text)))
    if visible.price is None and says_price_hidden(hidden_text):
        result.status = Status.PRICE_HIDDEN
        result.notes.append("the retailer shows the price only in the cart")
        return
    if result.price is not None:
        result.status = Status.OK
        return
    result.regular_price = None
    result.sources.pop("regular_price", None)
    if says_price_on_request(hidden_text):
        result.notes.append("price on request")
        result.status = Status.NO_PRICE
        return
    missing = not_found_reason(ctx.page)
    if missing:
        result.notes.append(missing)
        result.status = Status.NOT_FOUND
        # The heading of an error page is not a product title.
        if result.sources.get("title") == Source.TEXT:
            result.title = None
            del result.sources["title"]
        return
    result.status = Status.NO_PRICE
    if not result.title and not result.identifiers.sku and result.available is None:
        result.notes.append(
            "the page holds no product data (empty, truncated or a JavaScript shell)"
        )


def combine(structured: list[Reading], visible: Reading, ctx: Context) -> Extraction:
    page = ctx.page
    result = Extraction(
        status=Status.NO_PRICE,
        extractor=ctx.extractor,
        lang=page.lang,
        problems=ctx.problems,
        text_source=lambda: page.body_text,
    )
    chosen = _set_price(result, structured, visible)
    _record_regular_conflicts(result, structured)
    _set_currency(result, chosen, [*structured, visible], ctx)
    _set_availability(result, structured, visible, ctx)
    _set_title(result, [*structured, visible], page)
    _set_identifiers(result, [*structured, visible], page)
    if visible.condition and result.condition is None:
        result.condition = visible.condition
    result.notes.extend(n for n in visible.notes if n not in result.notes)
    _set_status(result, visible, ctx)
    return result
