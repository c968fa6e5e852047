"""From what a page says to what a probe records: plain functions, no database.

The rule that matters most: only a page that shows our product with a price a shopper can pay
produces a price. Everything else (blocked, hidden, no price, another product) records why, and
never a number.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from scraping.extraction import Extraction, extract, validate_identity
from scraping.extraction.result import Status as PageStatus


@dataclass(frozen=True)
class Assessment:
    status: str  # a scraping.models.Probe.Status value
    price: Decimal | None = None
    regular_price: Decimal | None = None
    currency: str = ""
    available: bool | None = None
    title: str = ""
    extractor: str = ""
    identity_matched_on: str = ""
    error_message: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)


STATUS_FOR_PAGE = {
    PageStatus.BLOCKED: "blocked",
    PageStatus.NOT_FOUND: "not_found",
    PageStatus.PRICE_HIDDEN: "price_hidden",
    PageStatus.NO_PRICE: "no_price",
}


def assess_page(
    body: bytes | str,
    *,
    url: str,
    final_url: str,
    retailer_currency: str,
    extractor: str | None,
    selectors: Mapping[str, str] | None,
    identifiers: Mapping[str, str],
) -> Assessment:
    extraction = extract(
        body,
        url=final_url or url,
        retailer_currency=retailer_currency,
        extractor=extractor,
        selectors=selectors or None,
    )
    return assess_extraction(extraction, url=url, final_url=final_url, identifiers=identifiers)


def assess_extraction(
    extraction: Extraction, *, url: str, final_url: str, identifiers: Mapping[str, str]
) -> Assessment:
    common = {
        "title": (extraction.title or "")[:500],
        "extractor": extraction.extractor,
        "sources": dict(extraction.sources),
        "disagreements": [str(d) for d in extraction.disagreements],
        "currency": extraction.currency or "",
    }
    if extraction.status in (PageStatus.BLOCKED, PageStatus.NOT_FOUND):
        # A bot wall says nothing about the product, not even whether it is in stock.
        return Assessment(
            status=STATUS_FOR_PAGE[extraction.status],
            error_message="; ".join(extraction.notes or extraction.problems),
            **common,
        )
    identity = validate_identity(
        extraction, identifiers=identifiers, listing_url=url, final_url=final_url
    )
    if not identity.ok:
        return Assessment(status="identity_mismatch", error_message=identity.reason, **common)
    matched = {"identity_matched_on": identity.matched_on or ""}
    if extraction.status != PageStatus.OK or extraction.price is None:
        status = STATUS_FOR_PAGE.get(extraction.status, "no_price")
        return Assessment(
            status=status,
            available=extraction.available,
            error_message="; ".join(extraction.notes),
            **common,
            **matched,
        )
    return Assessment(
        status="success",
        price=extraction.price,
        regular_price=extraction.regular_price,
        available=extraction.available,
        **common,
        **matched,
    )
