"""The public entry point: HTML in, Extraction out."""

from __future__ import annotations

from collections.abc import Mapping

from .currencies import ISO_CODES, currency_from_host
from .document import Page
from .factory import extractor_for
from .result import Extraction


def extract(
    html: str | bytes,
    *,
    url: str | None,
    retailer_currency: str | None,
    extractor: str | None = None,
    selectors: Mapping[str, object] | None = None,
) -> Extraction:
    """Read price, availability, title and identifiers from a retailer's product page.

    `retailer_currency` settles ambiguous symbols ("$" is USD, CAD or AUD); without it the
    URL's country ending is used. `extractor` names a retailer extractor and wins over the
    URL's host; `selectors` is the retailer's merchandiser-edited CSS configuration
    ({"price": ..., "regular_price": ..., "title": ..., "availability": ..., "add_to_cart": ...,
    "container": ..., "sku": ...}), tried before the extractor's own selectors.
    """
    configured = retailer_currency.strip().upper() if retailer_currency else None
    hint = configured if configured in ISO_CODES else currency_from_host(url)
    page = Page(html or b"", url)
    # A saved page read without its address still names itself in its canonical link.
    chosen = extractor_for(url=url or page.canonical_url, extractor=extractor, selectors=selectors)
    return chosen.extract(page, currency_hint=hint, hint_is_configured=hint == configured)
