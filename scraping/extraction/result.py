"""What an extraction returns: plain data, safe to store as JSON once converted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    # The page offers nothing a shopper can pay: discontinued, no buy box, JS shell.
    NO_PRICE = "no_price"
    # The retailer only reveals the price in the cart (MAP policy).
    PRICE_HIDDEN = "price_hidden"
    # Captcha or bot wall: says nothing about the product, never "out of stock".
    BLOCKED = "blocked"
    NOT_FOUND = "not_found"


class Source(StrEnum):
    JSON_LD = "json-ld"
    MICRODATA = "microdata"
    OPENGRAPH = "opengraph"
    NEXT_DATA = "next_data"
    PRELOADED_STATE = "preloaded_state"
    INITIAL_STATE = "initial_state"
    SELECTORS = "selectors"
    BUY_BUTTON = "buy_button"
    TEXT = "text"
    URL = "url"
    HINT = "hint"


STRUCTURED_SOURCES = frozenset(
    {
        Source.JSON_LD,
        Source.MICRODATA,
        Source.OPENGRAPH,
        Source.NEXT_DATA,
        Source.PRELOADED_STATE,
        Source.INITIAL_STATE,
    }
)


@dataclass(frozen=True, slots=True)
class Disagreement:
    """Two sources gave different values for one field; `kept` is what the result holds."""

    field: str
    kept: str
    kept_source: str
    rejected: str
    rejected_source: str
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.field}: kept {self.kept} ({self.kept_source}) over {self.rejected} "
            f"({self.rejected_source}): {self.reason}"
        )


@dataclass(slots=True)
class Identifiers:
    sku: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    asin: str | None = None
    isbn: str | None = None
    brand: str | None = None
    model: str | None = None
    # Watch reference numbers ("126500LN", "5711/1A-010").
    reference: str | None = None
    # The retailer's own item number (Costco item, Walmart usItemId, Etsy listing...).
    item_id: str | None = None
    canonical_url: str | None = None

    def items(self) -> Iterator[tuple[str, str]]:
        for f in fields(self):
            value = getattr(self, f.name)
            if value:
                yield f.name, value

    def as_dict(self) -> dict[str, str]:
        return dict(self.items())


@dataclass(slots=True)
class Extraction:
    status: Status
    price: Decimal | None = None
    regular_price: Decimal | None = None
    currency: str | None = None
    # None means the page does not say.
    available: bool | None = None
    # schema.org-style token behind `available`: InStock, OutOfStock, SoldOut, Discontinued...
    availability: str | None = None
    # "new", "used", "refurbished" when the page says which condition the price is for.
    condition: str | None = None
    title: str | None = None
    identifiers: Identifiers = field(default_factory=Identifiers)
    # field name -> Source value that supplied it.
    sources: dict[str, str] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)
    # Observations that are not conflicts: "buy box holds only a used offer", "price on request".
    notes: list[str] = field(default_factory=list)
    # Sources that could not be read (invalid JSON-LD...), kept so a bad page is explainable.
    problems: list[str] = field(default_factory=list)
    extractor: str = "generic"
    lang: str | None = None
    # Identity checks sometimes need the page text; computing it costs a few ms on big pages,
    # so it is produced on demand and never pickled or compared.
    text_source: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    def page_text(self) -> str:
        return self.text_source() if self.text_source is not None else ""

    def __getstate__(self) -> dict[str, object]:
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["text_source"] = None
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True, slots=True)
class IdentityResult:
    ok: bool
    matched_on: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class FoundReview:
    """One schema.org Review as the page gives it, its rating put on a 1-5 scale."""

    text: str
    rating: int
    author: str = ""
    title: str = ""
    # Aware UTC; None when the page does not date the review.
    posted_at: datetime | None = None
    # The review's own @id, url or identifier; empty when the page gives none.
    external_id: str = ""


@dataclass(frozen=True, slots=True)
class FoundRating:
    """The product's schema.org AggregateRating, its value put on a 1-5 scale."""

    value: Decimal
    count: int | None = None


@dataclass(slots=True)
class PageReviews:
    reviews: list[FoundReview] = field(default_factory=list)
    rating: FoundRating | None = None
    # Why reviews on the page were left out, e.g. {"no_rating": 2, "other_product": 1}.
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
