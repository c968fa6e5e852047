"""Is the page we read the product we meant? Guards against redirects and reused listings.

A page is accepted when it shows one of the product's identifiers (in its structured data,
its final URL or its text) or when its URL names the same item as the listing URL. A redirect
to another product is refused whatever else matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from .result import Extraction, IdentityResult

GTIN_KINDS = frozenset(
    {
        "gtin",
        "gtin8",
        "gtin12",
        "gtin13",
        "gtin14",
        "upc",
        "ean",
        "ean13",
        "isbn",
        "isbn10",
        "isbn13",
    }
)
# Not identifying on their own: many products share a brand; URLs are compared separately.
_NOT_IDENTIFYING = frozenset({"brand", "canonical_url"})
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
_SEPARATOR = r"[\s\-./_']?"
# Shorter values match too much running text ("123" is in every page).
_MIN_SEARCH_LENGTH = 5


class UrlIdentity(NamedTuple):
    kind: str
    value: str


# Host (suffix, or "label." for any country ending) -> where the item id sits in the URL.
_URL_PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (host, kind, re.compile(pattern, re.IGNORECASE))
    for host, kind, pattern in (
        ("amazon.", "asin", r"/(?:dp|gp/product|gp/aw/d|exec/obidos/ASIN|o/ASIN)/([A-Z0-9]{10})"),
        ("bestbuy.com", "sku", r"(?:skuId=|/)(\d{7})(?:\.p|&|$)"),
        ("bestbuy.ca", "sku", r"/product/(?:[^/]+/)?(\d{6,})"),
        ("walmart.", "item", r"/ip/(?:[^/?#]+/)?([0-9A-Z]{6,})(?:[/?#]|$)"),
        ("newegg.", "item", r"(?:/p/|Item=)([A-Z0-9]{8,})"),
        ("costco.", "item", r"\.product\.(\d+)\.html"),
        ("homedepot.com", "item", r"/p/(?:[^/]+/)?(\d{9})"),
        ("homedepot.ca", "item", r"/product/(?:[^/]+/)?(\d{6,})"),
        ("lowes.", "item", r"/pd/(?:[^/]+/)?(\d{5,})"),
        ("overstock.com", "item", r"/(\d{5,})/product\.html"),
        ("etsy.com", "listing", r"/listing/(\d+)"),
        ("chrono24.", "listing", r"--id(\d+)\.htm"),
        ("canadiantire.ca", "item", r"-(\d{7})p\.html"),
        ("wayfair.", "sku", r"-([a-z]{1,4}\d{5,})\.html"),
        ("jossandmain.com", "sku", r"-([a-z]{1,4}\d{5,})\.html"),
        ("allmodern.com", "sku", r"-([a-z]{1,4}\d{5,})\.html"),
        ("birchlane.com", "sku", r"-([a-z]{1,4}\d{5,})\.html"),
    )
)
_DIGIT_RUN = re.compile(r"\d{5,}")
_EXTENSION = re.compile(r"\.(?:html?|aspx?|php|jsp)$", re.IGNORECASE)
_GENERIC_SEGMENTS = frozenset({"product", "products", "p", "item", "index", "dp", "ip"})


def _host_matches(host: str, key: str) -> bool:
    if key.endswith("."):
        return key[:-1] in host.split(".")
    return host == key or host.endswith("." + key)


def url_identity(url: str | None) -> UrlIdentity | None:
    """The item a URL names: a retailer's item id, else a long number or the last path slug."""
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    target = parts.path + ("?" + parts.query if parts.query else "")
    for key, kind, pattern in _URL_PATTERNS:
        if _host_matches(host, key):
            match = pattern.search(target)
            if match:
                return UrlIdentity(kind, match.group(1).lower())
    segments = [s for s in parts.path.split("/") if s]
    for segment in reversed(segments[-2:]):
        runs = _DIGIT_RUN.findall(segment)
        if runs:
            return UrlIdentity("number", max(runs, key=len))
    for segment in reversed(segments):
        slug = _EXTENSION.sub("", segment).lower()
        if slug and slug not in _GENERIC_SEGMENTS:
            return UrlIdentity("slug", slug)
    return None


def _isbn10_to_13(digits: str) -> str | None:
    if not re.fullmatch(r"\d{9}[\dX]", digits, re.IGNORECASE):
        return None
    core = "978" + digits[:9]
    check = (10 - sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(core)) % 10) % 10
    return core + str(check)


def _tokens(kind: str, value: str) -> set[str]:
    """Comparable forms: letters and digits only, upper case; GTINs without leading zeros."""
    alnum = _NON_ALNUM.sub("", value).upper()
    tokens = {alnum} if alnum else set()
    if kind in GTIN_KINDS or kind == "asin" or (alnum.isdigit() and 8 <= len(alnum) <= 14):
        isbn13 = _isbn10_to_13(alnum)
        for digits in (alnum, isbn13):
            if digits and digits.isdigit():
                tokens.add("#" + digits.lstrip("0"))
    return tokens


def _search_pattern(kind: str, value: str) -> re.Pattern[str] | None:
    alnum = _NON_ALNUM.sub("", value)
    if len(alnum) < _MIN_SEARCH_LENGTH:
        return None
    if alnum.isdigit() and (kind in GTIN_KINDS or 8 <= len(alnum) <= 14):
        body = "0*" + _SEPARATOR.join(alnum.lstrip("0"))
        return re.compile(rf"(?<!\d){body}(?!\d)")
    body = _SEPARATOR.join(re.escape(char) for char in alnum)
    return re.compile(rf"(?<![0-9A-Za-z]){body}(?![0-9A-Za-z])", re.IGNORECASE)


def _page_identifiers(extraction: Extraction) -> Iterable[tuple[str, str]]:
    return ((k, v) for k, v in extraction.identifiers.items() if k not in _NOT_IDENTIFYING)


def _redirect_problem(
    listing: UrlIdentity | None, final_url: str | None, listing_url: str | None
) -> str | None:
    if listing is None or not final_url or final_url == listing_url:
        return None
    final = url_identity(final_url)
    if final is None:
        return f"redirected away from the product page to {urlsplit(final_url).path or '/'}"
    if final.kind == listing.kind and final.value != listing.value:
        return f"redirected to another product ({final.value}, listed as {listing.value})"
    return None


def _catalog(identifiers: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(k.lower(), str(v).strip()) for k, v in identifiers.items() if v and str(v).strip()]


def validate_identity(
    extraction: Extraction,
    *,
    identifiers: Mapping[str, str],
    listing_url: str | None,
    final_url: str | None,
) -> IdentityResult:
    catalog = _catalog(identifiers)
    listing = url_identity(listing_url)
    redirect = _redirect_problem(listing, final_url, listing_url)
    if redirect:
        return IdentityResult(False, None, redirect)

    page_asin = extraction.identifiers.asin
    wanted_asin = next((v for k, v in catalog if k == "asin"), None)
    if page_asin and wanted_asin and page_asin.upper() != wanted_asin.upper():
        return IdentityResult(False, None, f"the page is ASIN {page_asin}, not {wanted_asin}")

    page_tokens: dict[str, str] = {}
    for page_kind, value in _page_identifiers(extraction):
        for token in _tokens(page_kind, value):
            page_tokens.setdefault(token, page_kind)
    for kind, value in catalog:
        for token in _tokens(kind, value):
            if token in page_tokens:
                found = page_tokens[token]
                source = extraction.sources.get(found, "page")
                return IdentityResult(
                    True, kind, f"{kind} {value} matches the page's {found} ({source})"
                )

    if final_url:
        target = urlsplit(final_url)
        url_text = target.path + "?" + target.query
        for kind, value in catalog:
            pattern = _search_pattern(kind, value)
            if pattern is not None and pattern.search(url_text):
                return IdentityResult(True, kind, f"{kind} {value} appears in the final URL")

    if listing is not None:
        landed = url_identity(final_url) or url_identity(extraction.identifiers.canonical_url)
        if landed is not None and landed == listing:
            return IdentityResult(
                True, "listing_url", f"the page is the listing URL's item ({listing.value})"
            )

    text = extraction.page_text() if catalog else ""
    for kind, value in catalog:
        pattern = _search_pattern(kind, value)
        if pattern is not None and text and pattern.search(text):
            return IdentityResult(True, kind, f"{kind} {value} appears in the page text")

    return IdentityResult(False, None, "none of the product's identifiers appear on the page")
