"""The extraction pipeline every retailer shares.

A retailer class mostly declares data: where its shopper price, was-price, availability badge
and buy button live. Only behaviour that differs (Amazon's used-only buy box, Costco's
base64 prices) is code, in a `read_page` override.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import ClassVar, TypeVar

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from ..availability import IN_STOCK, OUT_OF_STOCK, Availability, from_text, from_token
from ..blocking import block_reason_in_markup, block_reason_in_text
from ..document import Page, node_value, price_text, visible_text
from ..merge import Context, combine
from ..prices import Money, is_per_unit, parse_price
from ..reading import Reading
from ..result import Extraction, Source, Status
from ..state import state_readings
from ..structured import json_ld_reading, microdata_reading, opengraph_reading

T = TypeVar("T")

# Keys a merchandiser may set in a retailer's selector configuration.
CONFIG_KEYS = frozenset(
    {
        "price",
        "regular_price",
        "title",
        "availability",
        "add_to_cart",
        "container",
        "sku",
        "gtin",
        "mpn",
        "model",
        "brand",
        "reference",
        "item_id",
    }
)
_ID_CONFIG_KEYS = frozenset({"sku", "gtin", "mpn", "model", "brand", "reference", "item_id"})
# "$12.48 ($6.24 / Pack)", "(€1,25/kg)": an amount followed by "/ unit" or "per unit".
_UNIT_PRICE = re.compile(
    r"[^\s()]*\d[\d.,'\u00a0]*\s*[^\s()\d]{0,3}\s*\)?\s*(?:/|per\b)\s*\(?\s*[^\W\d]",
    re.IGNORECASE,
)


def _as_selectors(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split("\n") if part.strip())
    if isinstance(value, Sequence):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return ()


def _valid_selector(selector: str) -> bool:
    # A throwaway document per check: lexbor parsers must not be shared between threads.
    try:
        LexborHTMLParser("<p></p>").css_first(selector)
    except (SelectolaxError, ValueError):
        return False
    return True


class Extractor:
    name: ClassVar[str] = "generic"
    # Hosts served, matched on the registrable end: "bestbuy.com" serves "www.bestbuy.com".
    domains: ClassVar[tuple[str, ...]] = ()
    # The block holding the item's own price; built-in price selectors only look inside its
    # first match, so carousels and bundles elsewhere cannot lend a price.
    price_scope: ClassVar[tuple[str, ...]] = ()
    price_selectors: ClassVar[tuple[str, ...]] = ()
    regular_price_selectors: ClassVar[tuple[str, ...]] = ()
    unit_price_selectors: ClassVar[tuple[str, ...]] = ()
    title_selectors: ClassVar[tuple[str, ...]] = ()
    # Short availability badges ("In Stock.", "Sold out").
    availability_selectors: ClassVar[tuple[str, ...]] = ()
    buy_button_selectors: ClassVar[tuple[str, ...]] = ()
    # Regions scanned for "see price in cart" / "price on request".
    price_note_selectors: ClassVar[tuple[str, ...]] = ()
    # Blocks that always hold the buy area; when found, visible selectors look only there.
    regions: ClassVar[tuple[str, ...]] = ()
    id_selectors: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    # Whether the block around the <h1> may be read for availability words as a last resort.
    read_product_text: ClassVar[bool] = True
    # Embedded state is parsed only when no cheaper structured source gave a price; a retailer
    # whose pages never carry any skips the search.
    read_embedded_state: ClassVar[bool] = True
    # For retailers whose embedded state is their most complete source (Walmart's
    # __NEXT_DATA__ has the was-price and stock that its JSON-LD lacks): read it first.
    state_first: ClassVar[bool] = False

    def __init__(self, selectors: Mapping[str, object] | None = None) -> None:
        self.config: dict[str, tuple[str, ...]] = {}
        self.config_problems: list[str] = []
        for key, value in (selectors or {}).items():
            if key not in CONFIG_KEYS:
                self.config_problems.append(f"selectors: unknown key {key!r} ignored")
                continue
            valid = []
            for selector in _as_selectors(value):
                if _valid_selector(selector):
                    valid.append(selector)
                else:
                    self.config_problems.append(f"selectors: invalid CSS for {key!r}: {selector!r}")
            if valid:
                self.config[key] = tuple(valid)

    @classmethod
    def handles_host(cls, host: str) -> bool:
        return any(host == d or host.endswith("." + d) for d in cls.domains)

    # -- pipeline -----------------------------------------------------------------------------
    def extract(
        self, page: Page, *, currency_hint: str | None, hint_is_configured: bool
    ) -> Extraction:
        problems = list(self.config_problems)
        blocked = block_reason_in_markup(page)
        # Structured sources read scripts, so they run before any visible-text read strips
        # scripts from the elements it reads.
        structured = [] if blocked else self.structured_readings(page, problems)
        blocked = blocked or block_reason_in_text(page, has_product_data=bool(structured))
        if blocked:
            return Extraction(
                status=Status.BLOCKED,
                extractor=self.name,
                lang=page.lang,
                notes=[blocked],
                problems=problems,
            )
        if self.regions:
            page.narrow_to(self.regions)
        visible = self.visible_reading(page, currency_hint, structured)
        context = Context(
            page=page,
            extractor=self.name,
            currency_hint=currency_hint,
            hint_is_configured=hint_is_configured,
            read_product_text=self.read_product_text,
            price_hidden_text=self.price_note_text(page, visible),
            problems=problems,
        )
        return combine(structured, visible, context)

    def structured_readings(self, page: Page, problems: list[str]) -> list[Reading]:
        readings: list[Reading] = self.state_readings(page, problems) if self.state_first else []
        steps: tuple[tuple[str, Callable[[], Reading | None]], ...] = (
            (Source.JSON_LD, lambda: json_ld_reading(page, problems)),
            (Source.MICRODATA, lambda: microdata_reading(page)),
            (Source.OPENGRAPH, lambda: opengraph_reading(page)),
        )
        for source, read in steps:
            reading = guarded(source, read, problems)
            if reading is not None:
                readings.append(reading)
        if (
            self.read_embedded_state
            and not self.state_first
            and not any(r.price is not None for r in readings)
        ):
            readings.extend(self.state_readings(page, problems))
        return readings

    def state_readings(self, page: Page, problems: list[str]) -> list[Reading]:
        return guarded("embedded state", lambda: state_readings(page, problems), problems) or []

    # -- visible page -------------------------------------------------------------------------
    def _lookup(self, page: Page, key: str, builtin: tuple[str, ...]) -> list[LexborNode]:
        """Candidates for a field in order of preference.

        The merchandiser's selectors come first, searched in the whole document: they fix a
        broken layout without a deploy. The extractor's own follow, searched in its regions.
        """
        configured = page.ordered(self.config.get(key, ()), page.tree)
        return configured + page.ordered(builtin)

    def price_scope_node(self, page: Page) -> LexborNode | None:
        if "container" in self.config:
            return page.first(self.config["container"], page.tree)
        return page.first(self.price_scope) if self.price_scope else None

    def _price(
        self,
        page: Page,
        scope: LexborNode | None,
        key: str,
        builtin: tuple[str, ...],
        hint: str | None,
    ) -> tuple[LexborNode | None, Money | None]:
        has_container = "container" in self.config
        if has_container and scope is None:
            return None, None
        configured = page.first(self.config.get(key, ()), scope if has_container else page.tree)
        if configured is not None:
            # The merchandiser named this element: if it holds no number, say so, don't guess.
            return configured, parse_price(price_text(configured), currency_hint=hint)
        if self.price_scope and scope is None:
            # The item's price block is missing (sold-out layout, redesign): no price from
            # selectors rather than one from elsewhere on the page.
            return None, None
        first_node = None
        for node in page.ordered(builtin, scope):
            money = parse_price(price_text(node), currency_hint=hint)
            if money is not None:
                return node, money
            first_node = first_node or node
        return first_node, None

    def visible_reading(
        self, page: Page, hint: str | None, structured: Sequence[Reading] = ()
    ) -> Reading:
        reading = Reading(source=Source.SELECTORS)
        scope = self.price_scope_node(page)
        node, money = self._price(page, scope, "price", self.price_selectors, hint)
        if node is not None:
            reading.price_text = visible_text(node)[:300]
            if money is not None:
                reading.price, reading.currency = money.amount, money.currency
                reading.currency_is_guess = money.ambiguous
                reading.unit_price = self._unit_price(page, node, hint)
        _, regular = self._price(page, scope, "regular_price", self.regular_price_selectors, hint)
        if regular is not None:
            reading.regular_price = regular.amount
        # Structured data outranks selectors for titles and identifiers, so selectors are
        # only queried for what it lacks: each query walks the whole document.
        if not any(r.title for r in structured):
            titles = self._lookup(page, "title", self.title_selectors)
            if titles:
                reading.title = node_value(titles[0]) or None
        reading.availability = self.availability(page)
        known = {kind for r in structured for kind in r.ids}
        configured_ids = (k for k in self.config if k in _ID_CONFIG_KEYS)
        for kind in dict.fromkeys([*self.id_selectors, *configured_ids]):
            if kind not in known:
                found = self._lookup(page, kind, self.id_selectors.get(kind, ()))
                if found:
                    reading.set_id(kind, node_value(found[0]))
        self.read_page(page, reading, hint)
        return reading

    def _unit_price(self, page: Page, price_node: LexborNode, hint: str | None) -> Decimal | None:
        unit_node = page.first(self.unit_price_selectors)
        text = price_text(unit_node) if unit_node is not None else ""
        if not text and price_node.parent is not None:
            # "$12.48 ($6.24 / Pack)": the per-unit price usually sits beside the price.
            text = visible_text(price_node.parent)[:200]
        match = _UNIT_PRICE.search(text) if text and is_per_unit(text) else None
        money = parse_price(match.group(0), currency_hint=hint) if match else None
        return money.amount if money else None

    def availability(self, page: Page) -> Availability | None:
        for node in self._lookup(page, "availability", self.availability_selectors):
            attrs = node.attributes
            found = from_token(attrs.get("content") or attrs.get("href")) or from_text(
                visible_text(node)[:1000], page.lang
            )
            if found is not None:
                return found
        buttons = self._lookup(page, "add_to_cart", self.buy_button_selectors)
        return _button_state(buttons[0], page.lang) if buttons else None

    def price_note_text(self, page: Page, visible: Reading) -> str:
        parts = [page.texts(self.price_note_selectors, limit=2000)]
        if self.read_product_text and visible.price is None:
            parts.append(page.product_region_text)
        return " ".join(p for p in parts if p)

    def read_page(self, page: Page, reading: Reading, hint: str | None) -> None:
        """Hook for what a retailer does differently; the default reads nothing more."""


def _button_state(node: LexborNode, lang: str | None) -> Availability:
    attrs = node.attributes
    classes = (attrs.get("class") or "").lower().split()
    disabled = (
        "disabled" in attrs
        or attrs.get("aria-disabled") == "true"
        or "disabled" in classes
        or "btn-disabled" in classes
    )
    said = from_text(visible_text(node) or attrs.get("value") or "", lang)
    if said is not None and not said.available:
        return said
    return OUT_OF_STOCK if disabled else IN_STOCK


def guarded(source: str, read: Callable[[], T], problems: list[str]) -> T | None:
    # One malformed source must not hide the others; the failure is kept on the result.
    try:
        return read()
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as error:
        problems.append(f"{source}: {type(error).__name__}: {error}")
        return None
