"""Finding a listing's product page through the retailer's search page (seed 2's URL discovery).

Plain functions over the search results page: the right link is the one whose address or text
carries one of the product's identifiers, normalised as identity validation normalises them.
"""

import re
from collections.abc import Mapping
from urllib.parse import quote_plus, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")
# Identifiers this short match too much by accident ("124" is in many URLs).
MIN_IDENTIFIER_LENGTH = 5


def search_url(pattern: str, *, base_url: str, query: str) -> str:
    """The retailer's search page for a query; the pattern holds {query}."""
    path = pattern.format(query=quote_plus(query))
    return urljoin(base_url.rstrip("/") + "/", path.lstrip("/"))


def squash(text: str) -> str:
    return _NON_ALNUM.sub("", text).upper()


def find_product_link(
    html: str | bytes, *, page_url: str, identifiers: Mapping[str, str]
) -> str | None:
    """The first link on the results page, on the same site, that names one of the product's
    identifiers in its address or its text; None when no link does."""
    wanted = [squash(value) for value in identifiers.values() if value]
    wanted = [value for value in wanted if len(value) >= MIN_IDENTIFIER_LENGTH]
    if not wanted:
        return None
    site = urlsplit(page_url).netloc
    tree = LexborHTMLParser(html if isinstance(html, str) else html.decode("utf-8", "replace"))
    for anchor in tree.css("a[href]"):
        href = anchor.attributes.get("href") or ""
        absolute = urljoin(page_url, href)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or parts.netloc != site:
            continue
        if "search" in parts.path.lower():
            continue  # a link to another search, not to a product
        haystacks = (squash(parts.path), squash(anchor.text(deep=True)))
        if any(value in haystack for value in wanted for haystack in haystacks):
            return absolute.split("#", 1)[0]
    return None
