"""One parsed page, read once by every source.

The tree is parsed a single time. Sources that read scripts (JSON-LD, embedded state) run
first; visible-text reads then strip scripts and styles from the element they read, so they
never see code, without paying to clean the whole document.

Each full-document CSS query walks the whole tree (a few hundred microseconds on a 2 MB
page), so lists of alternative selectors are run as one combined query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

INVISIBLE = ["script", "style", "noscript", "template", "svg", "iframe"]
_WHITESPACE = re.compile(r"\s+")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:]+)""", re.IGNORECASE)
_UTF8_NAMES = {"utf-8", "utf8", "unicode-1-1-utf-8"}
_LANDMARKS = ", ".join(
    (
        'script[type="application/ld+json" i]',
        "script#__NEXT_DATA__",
        'link[rel="canonical" i][href]',
        # A Product scope, or the price property of a fragment that lost its wrapper.
        '[itemscope][itemtype*="schema.org/Product" i]',
        "[itemprop=price]",
        "[itemprop=lowPrice]",
    )
)
# Bot-wall challenge elements. Attribute-substring selectors cost more, so full pages are only
# checked for the overlays that can sit on top of one (PerimeterX's "press & hold").
OVERLAY_MARKERS = "#px-captcha, #px-captcha-wrapper, #challenge-form, #cf-challenge-running"
CHALLENGE_MARKERS = ", ".join(
    (
        OVERLAY_MARKERS,
        'form[action*="validateCaptcha"]',
        "#challenge-running",
        "#challenge-stage",
        "#cf-error-details",
        ".cf-browser-verification",
        'iframe[src*="captcha-delivery.com"]',
        'script[src*="captcha-delivery.com"]',
        'script[src*="/_Incapsula_Resource"]',
        'iframe[src*="_Incapsula_Resource"]',
        'script[src*="/cdn-cgi/challenge-platform/"]',
    )
)
# Challenge pages are rarely over 100 kB of markup.
SMALL_DOCUMENT = 300_000
# Blocks about other products or the site, dropped from the product region before reading it.
_ASIDES = ", ".join(
    (
        "nav",
        "header",
        "footer",
        "aside",
        *(
            f"[{attr}*={word} i]"
            for word in (
                "carousel",
                "recommend",
                "related",
                "similar",
                "upsell",
                "sponsor",
                "recent",
            )
            for attr in ("class", "id")
        ),
    )
)
# Beyond this many candidates, matching each against each selector costs more than querying
# the selectors one by one.
_MAX_CANDIDATES = 40


def clean(text: str | None) -> str:
    return _WHITESPACE.sub(" ", text).strip() if text else ""


def _decodable(html: str | bytes) -> str | bytes:
    """Lexbor reads bytes as UTF-8; other declared encodings are decoded here first."""
    if isinstance(html, str):
        return html
    if html.startswith((b"\xff\xfe", b"\xfe\xff")):
        return html.decode("utf-16", errors="replace")
    if html.startswith(b"\xef\xbb\xbf"):
        return html[3:]
    declared = _CHARSET.search(html[:4096])
    if declared:
        name = declared.group(1).decode("ascii", "replace").lower()
        if name not in _UTF8_NAMES:
            try:
                return html.decode(name, errors="replace")
            except LookupError:
                return html
    return html


def visible_text(node: LexborNode, separator: str = " ") -> str:
    node.strip_tags(INVISIBLE)
    return clean(node.text(separator=separator))


def node_value(node: LexborNode) -> str:
    """The value a person would read from an element, attribute-carried values first."""
    attrs = node.attributes
    for name in ("content", "value", "data-price", "datetime"):
        value = attrs.get(name)
        if value:
            return clean(value)
    if node.tag in {"link", "a"} and attrs.get("itemprop") and attrs.get("href"):
        return clean(attrs["href"])
    return visible_text(node)


def price_text(node: LexborNode) -> str:
    """Like node_value, but joins text fragments without spaces: "$<b>899</b><sup>.99</sup>"."""
    attrs = node.attributes
    for name in ("content", "value", "data-price"):
        value = attrs.get(name)
        if value:
            return clean(value)
    return visible_text(node, separator="")


def _matches_itself(node: LexborNode, selector: str) -> bool:
    # css_matches() is true when any descendant matches; a subtree search starts with the
    # node itself, so the node matches exactly when it is the first hit.
    hit = node.css_first(selector)
    return hit is not None and hit.mem_id == node.mem_id


class Landmarks:
    """Sorts the nodes of the landmark query by what they are."""

    __slots__ = ("canonical", "challenge", "json_ld", "microdata", "next_data")

    def __init__(self) -> None:
        self.json_ld: list[LexborNode] = []
        self.next_data: LexborNode | None = None
        self.canonical: LexborNode | None = None
        self.microdata: LexborNode | None = None
        self.challenge: LexborNode | None = None

    def add(self, node: LexborNode) -> None:
        attrs = node.attributes
        tag = node.tag
        if tag == "script" and (attrs.get("type") or "").lower() == "application/ld+json":
            self.json_ld.append(node)
        elif tag == "script" and attrs.get("id") == "__NEXT_DATA__":
            self.next_data = self.next_data or node
        elif tag == "link" and "canonical" in (attrs.get("rel") or "").lower():
            self.canonical = self.canonical or node
        elif "itemprop" in attrs or "itemscope" in attrs:
            self.microdata = self.microdata or node
        else:
            self.challenge = self.challenge or node


class Page:
    def __init__(self, html: str | bytes, url: str | None = None) -> None:
        self.url = url
        self._raw = html
        self.tree = LexborHTMLParser(_decodable(html))
        # Where visible selectors look; None means the whole document.
        self.regions: list[LexborNode] | None = None

    def narrow_to(self, selectors: Iterable[str]) -> None:
        """Confine visible-selector queries to the blocks holding the product's buy area.

        A full-document query walks every element; a retailer whose buy box always sits in
        a few known blocks pays for those blocks only. If none is found (a new layout), the
        whole document is searched again.
        """
        nodes = [n for s in selectors if (n := self.tree.css_first(s)) is not None]
        self.regions = nodes or None

    # -- raw access, for embedded state that is cheaper to slice than to query ---------------
    @property
    def size(self) -> int:
        return len(self._raw)

    def raw_find(self, marker: str, start: int = 0) -> int:
        raw = self._raw
        if isinstance(raw, bytes):
            return raw.find(marker.encode(), start)
        return raw.find(marker, start)

    def raw_slice(self, start: int, end: int) -> str:
        chunk = self._raw[start:end]
        if isinstance(chunk, bytes):
            return chunk.decode("utf-8", errors="replace")
        return chunk

    # -- document facts -----------------------------------------------------------------------
    @cached_property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower() if self.url else ""

    @cached_property
    def head(self) -> LexborNode | None:
        return self.tree.head

    @cached_property
    def lang(self) -> str | None:
        root = self.tree.css_first("html")
        lang = root.attributes.get("lang") if root is not None else None
        if not lang:
            lang = self.meta.get("og:locale") or self.meta.get("content-language")
        if not lang:
            return None
        return lang.replace("_", "-").split("-")[0].lower() or None

    @cached_property
    def meta(self) -> dict[str, str]:
        # Meta tags belong in <head>; fragments without one keep them in the body.
        nodes = self.head.css("meta[content]") if self.head is not None else []
        if not nodes:
            nodes = self.tree.css("meta[content]")
        found: dict[str, str] = {}
        for node in nodes:
            attrs = node.attributes
            key = attrs.get("property") or attrs.get("name") or attrs.get("http-equiv")
            content = attrs.get("content")
            if key and content and key.lower() not in found:
                found[key.lower()] = content.strip()
        return found

    @cached_property
    def landmarks(self) -> Landmarks:
        """JSON-LD, Next.js state, microdata, the canonical link and bot-wall markers.

        Found in a single walk of the document: the first walk over a freshly parsed
        multi-megabyte tree is the expensive one.
        """
        challenge = CHALLENGE_MARKERS if self.size <= SMALL_DOCUMENT else OVERLAY_MARKERS
        found = Landmarks()
        for node in self.tree.css(f"{_LANDMARKS}, {challenge}"):
            found.add(node)
        return found

    @cached_property
    def json_ld_texts(self) -> list[str]:
        return [text for node in self.landmarks.json_ld if (text := node.text())]

    @cached_property
    def next_data_text(self) -> str | None:
        node = self.landmarks.next_data
        return node.text() if node is not None else None

    @property
    def microdata_start(self) -> LexborNode | None:
        """The Product scope, or in fragments that lost it, the first price property."""
        return self.landmarks.microdata

    @cached_property
    def title_tag(self) -> str:
        node = self.head.css_first("title") if self.head is not None else None
        return clean(node.text()) if node is not None else ""

    @cached_property
    def main_h1(self) -> LexborNode | None:
        # A logo is often the first <h1>; the one inside <main> is the page's subject.
        node = self.tree.css_first("main h1")
        return node if node is not None else self.tree.css_first("h1")

    @cached_property
    def h1(self) -> str:
        node = self.main_h1
        return visible_text(node) if node is not None else ""

    @cached_property
    def canonical_url(self) -> str | None:
        node = self.landmarks.canonical
        href = node.attributes.get("href") if node is not None else None
        return clean(href) or self.meta.get("og:url") or None

    # -- queries ------------------------------------------------------------------------------
    def ordered(
        self, selectors: Iterable[str], scope: LexborNode | LexborHTMLParser | None = None
    ) -> list[LexborNode]:
        """The first match of each selector, in the selectors' order of preference.

        Without a scope, the search covers the regions set by `narrow_to`, else the document.
        """
        selectors = tuple(selectors)
        if not selectors:
            return []
        roots = [scope] if scope is not None else (self.regions or [self.tree])
        if len(selectors) == 1:
            hits = (root.css_first(selectors[0]) for root in roots)
            return [node for node in hits if node is not None][:1]
        candidates = [node for root in roots for node in root.css(", ".join(selectors))]
        if len(candidates) > _MAX_CANDIDATES:
            hits = (root.css_first(s) for s in selectors for root in roots)
            return [node for node in hits if node is not None]
        found: list[LexborNode] = []
        for selector in selectors:
            for node in candidates:
                if _matches_itself(node, selector):
                    if all(node.mem_id != other.mem_id for other in found):
                        found.append(node)
                    break
        return found

    def first(
        self, selectors: Iterable[str], scope: LexborNode | LexborHTMLParser | None = None
    ) -> LexborNode | None:
        found = self.ordered(selectors, scope)
        return found[0] if found else None

    def texts(self, selectors: Iterable[str], limit: int = 4000) -> str:
        """Visible text of the preferred element of each selector, bounded."""
        parts = (visible_text(node)[:limit] for node in self.ordered(selectors))
        return " | ".join(part for part in parts if part)

    # -- regions of visible text --------------------------------------------------------------
    @cached_property
    def product_region(self) -> LexborNode | None:
        """The block around the product title that holds its price and buy button.

        Climbing from the <h1> stops at the first ancestor that contains a price or a button,
        which keeps navigation, footers and recommendation carousels out.
        """
        node = self.main_h1
        for _ in range(6):
            if node is None:
                return None
            parent = node.parent
            if parent is None or parent.tag in {"body", "html"}:
                return node
            node = parent
            if node.css_first("button, form, [itemprop=price], [class*=price i]") is not None:
                return node
        return node

    @cached_property
    def product_region_text(self) -> str:
        region = self.product_region
        if region is None:
            return ""
        keep = set()
        node = self.main_h1
        while node is not None:
            keep.add(node.mem_id)
            node = node.parent
        for aside in region.css(_ASIDES):
            # A product <header> or a "related" wrapper around the title itself stays.
            if aside.mem_id not in keep:
                aside.decompose()
        return visible_text(region)[:3000]

    @cached_property
    def body_text(self) -> str:
        body = self.tree.body
        return visible_text(body) if body is not None else ""
