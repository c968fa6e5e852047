"""Structured sources: JSON-LD, microdata and Open Graph product tags."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import unquote, urlsplit

from selectolax.lexbor import LexborNode

from .availability import from_token
from .currencies import ISO_CODES
from .document import Page, node_value
from .prices import parse_amount
from .reading import Reading, identifier_text, title_text
from .result import Source

# -- JSON ---------------------------------------------------------------------------------------

_WRAPPERS = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


class InvalidJSON(ValueError):
    pass


def load_json(text: str) -> object:
    """json.loads with money as Decimal, tolerant of the usual hand-written JSON-LD faults."""
    text = _WRAPPERS.sub("", text).strip().rstrip(";")
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        pass
    try:
        # Raw newlines inside strings are the most common fault.
        return json.loads(text, parse_float=Decimal, strict=False)
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", text), parse_float=Decimal, strict=False)
    except ValueError as error:
        raise InvalidJSON(str(error)) from None


# -- schema.org vocabulary ----------------------------------------------------------------------

_PRODUCT_TYPES = frozenset(
    {
        "product",
        "productgroup",
        "productmodel",
        "individualproduct",
        "someproducts",
        "vehicle",
        "car",
        "book",
    }
)
_OFFER_TYPES = frozenset({"offer", "aggregateoffer"})
# Products under these keys are other products (reviews' subjects, accessories, listings).
_SKIP_KEYS = frozenset(
    {
        "review",
        "reviews",
        "itemreviewed",
        "isrelatedto",
        "issimilarto",
        "isaccessoryorsparepartfor",
        "isconsumablefor",
        "itemlistelement",
        "hasvariant",
        "isvariantof",
        "seller",
        "brand",
        "manufacturer",
        "author",
        "publisher",
        "aggregaterating",
        "breadcrumb",
        "offers",
        "potentialaction",
    }
)
_GTIN_KEYS = ("gtin14", "gtin13", "gtin12", "gtin8", "gtin", "upc", "ean", "ean13")
# Price types shown struck through; MSRP and MAP are reference prices, not "was" prices.
_REGULAR_PRICE_TYPES = ("strikethrough", "listprice")
_CONDITIONS = {
    "newcondition": "new",
    "new": "new",
    "usedcondition": "used",
    "used": "used",
    "refurbishedcondition": "refurbished",
    "refurbished": "refurbished",
    "damagedcondition": "damaged",
}
_LAST_SEGMENT = re.compile(r"[^/#:]+$")


def _types(node: dict) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    found = set()
    for value in values:
        if isinstance(value, str):
            match = _LAST_SEGMENT.search(value.strip())
            if match:
                found.add(match.group(0).lower())
    return found


def condition_of(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    match = _LAST_SEGMENT.search(value.strip())
    return _CONDITIONS.get(match.group(0).lower()) if match else None


def _iter_products(node: object, depth: int = 0) -> Iterator[dict]:
    if depth > 12:
        return
    if isinstance(node, list):
        for item in node:
            yield from _iter_products(item, depth + 1)
        return
    if not isinstance(node, dict):
        return
    types = _types(node)
    if types & _PRODUCT_TYPES:
        yield node
        return
    if types & _OFFER_TYPES and isinstance(node.get("itemOffered"), dict):
        # A bare Offer describing its item: read it as that item with this one offer.
        yield {**node["itemOffered"], "offers": node}
        return
    for key, value in node.items():
        if isinstance(value, dict | list) and key.lower() not in _SKIP_KEYS:
            yield from _iter_products(value, depth + 1)


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _flat_offers(value: object) -> list[dict]:
    offers: list[dict] = []
    for offer in _as_list(value):
        if not isinstance(offer, dict):
            continue
        nested = [o for o in _as_list(offer.get("offers")) if isinstance(o, dict)]
        if nested:
            offers.extend(_flat_offers(nested))
            if parse_amount(offer.get("lowPrice")) is None:
                continue
        offers.append(offer)
    return offers


class _Offer:
    __slots__ = ("availability", "condition", "currency", "price", "range", "regular", "unit")

    def __init__(self, offer: dict) -> None:
        self.price = parse_amount(offer.get("price"))
        self.range: tuple[Decimal, Decimal] | None = None
        if self.price is None:
            low = parse_amount(offer.get("lowPrice"))
            high = parse_amount(offer.get("highPrice"))
            self.price = low
            if low is not None and high is not None and high != low:
                self.range = (low, high)
        self.regular: Decimal | None = None
        self.unit: Decimal | None = None
        self.currency = _currency(offer.get("priceCurrency"))
        for spec in _as_list(offer.get("priceSpecification")):
            if isinstance(spec, dict):
                self._read_spec(spec)
        self.availability = from_token(offer.get("availability"))
        self.condition = condition_of(offer.get("itemCondition"))

    def _read_spec(self, spec: dict) -> None:
        amount = parse_amount(spec.get("price"))
        if amount is None:
            return
        self.currency = self.currency or _currency(spec.get("priceCurrency"))
        price_type = str(spec.get("priceType") or "").lower()
        quantity = spec.get("referenceQuantity")
        per_unit = isinstance(quantity, dict) and parse_amount(quantity.get("value")) not in (
            None,
            Decimal(1),
        )
        if any(word in price_type for word in _REGULAR_PRICE_TYPES):
            self.regular = self.regular or amount
        elif per_unit:
            self.unit = self.unit or amount
        elif self.price is None:
            self.price = amount

    def rank(self) -> tuple[bool, bool, bool, Decimal]:
        # A buyable new offer first, then the cheapest: what the shopper is offered first.
        return (
            self.price is not None,
            self.condition in (None, "new"),
            self.availability is None or self.availability.available,
            -(self.price or Decimal(0)),
        )


def _currency(value: object) -> str | None:
    if isinstance(value, str) and value.strip().upper() in ISO_CODES:
        return value.strip().upper()
    return None


def _url_key(url: object) -> tuple[str, str]:
    if not isinstance(url, str) or not url:
        return "", ""
    parts = urlsplit(url)
    return unquote(parts.path).rstrip("/").lower(), parts.query


def _url_match(product: dict, page_url: str | None) -> int:
    """How surely a product is the page's: 3 same URL, 2 its SKU in the URL, 1 same path."""
    if not page_url:
        return 0
    page_path, page_query = _url_key(page_url)
    path, query = _url_key(product.get("url"))
    if path and (path, query) == (page_path, page_query):
        return 3
    sku = identifier_text(product.get("sku"))
    if sku and len(sku) >= 4 and sku.lower() in page_url.lower():
        return 2
    return 1 if path and path == page_path else 0


def _offer_price(product: dict) -> Decimal | None:
    offer = _best_offer(product.get("offers"))
    return offer.price if offer is not None else None


def _variants(product: dict) -> list[dict]:
    return [v for v in _as_list(product.get("hasVariant")) if isinstance(v, dict)]


def _pick_variant(group: dict, page_url: str | None, notes: list[str]) -> dict:
    variants = _variants(group)
    if not variants:
        return group
    best = max(variants, key=lambda v: _url_match(v, page_url))
    chosen = best if _url_match(best, page_url) else None
    if chosen is None:
        priced = [(price, v) for v in variants if (price := _offer_price(v)) is not None]
        if len({price for price, _ in priced}) > 1:
            notes.append("variants differ in price and the URL names none; took the cheapest")
        chosen = min(priced, key=lambda pair: pair[0])[1] if priced else variants[0]
    # The variant inherits what only the group states (name, brand, group-level offers).
    return {**{k: v for k, v in group.items() if k != "hasVariant"}, **chosen}


def _best_offer(offers_value: object) -> _Offer | None:
    offers = [_Offer(o) for o in _flat_offers(offers_value)]
    return max(offers, key=_Offer.rank) if offers else None


def _product_score(product: dict, page_url: str | None) -> tuple[bool, int, bool]:
    has_price = _offer_price(product) is not None or any(
        _offer_price(v) is not None for v in _variants(product)
    )
    return (
        has_price,
        _url_match(product, page_url),
        bool(product.get("offers")) or bool(_variants(product)),
    )


def _read_gtin(reading: Reading, node: dict) -> None:
    for key in _GTIN_KEYS:
        if key in node:
            value = identifier_text(node[key])
            if value and value.isdigit():
                reading.set_id("gtin", value)
                return


def _read_product_ids(reading: Reading, product: dict) -> None:
    reading.set_id("sku", product.get("sku"))
    _read_gtin(reading, product)
    reading.set_id("mpn", product.get("mpn"))
    reading.set_id("isbn", product.get("isbn"))
    reading.set_id("brand", product.get("brand"))
    reading.set_id("model", product.get("model"))
    product_id = identifier_text(product.get("productID"))
    if product_id:
        kind, _, value = product_id.partition(":")
        if value and kind.lower() in {"isbn", "upc", "ean", "gtin"}:
            reading.set_id("isbn" if kind.lower() == "isbn" else "gtin", value)
        else:
            reading.set_id("item_id", product_id)
    if isinstance(product.get("url"), str):
        reading.set_id("canonical_url", product["url"])


def _reading_from_product(product: dict, page_url: str | None, source: str) -> Reading:
    reading = Reading(source=source)
    if "hasVariant" in product:
        product = _pick_variant(product, page_url, reading.notes)
    reading.title = title_text(product.get("name"))
    _read_product_ids(reading, product)
    offers = _flat_offers(product.get("offers"))
    for offer in offers:
        reading.set_id("sku", offer.get("sku"))
        _read_gtin(reading, offer)
    best = _best_offer(offers)
    if best is not None:
        reading.price = best.price
        reading.regular_price = best.regular
        reading.currency = best.currency or next(
            (c for c in (_currency(o.get("priceCurrency")) for o in offers) if c), None
        )
        reading.availability = best.availability
        reading.condition = best.condition
        reading.unit_price = best.unit
        if best.range:
            reading.notes.append(f"offers range from {best.range[0]} to {best.range[1]}")
        if best.condition not in (None, "new"):
            reading.notes.append(f"the only priced offer is {best.condition}")
    return reading


# A type name ends in a quote ("Product", "schema.org/Product"); "ProductImage" in a URL does not.
_PRODUCT_MARKERS = ('Product"', 'ProductGroup"', 'ProductModel"', 'Offer"', 'Book"', 'Vehicle"')


# Types whose blocks never carry the page's offer, even when they name a product (a review's
# itemReviewed). Only a block that is one object is judged, by its own top-level type.
_OTHER_THINGS = frozenset(
    {"Review", "BreadcrumbList", "ImageObject", "VideoObject", "WebSite", "FAQPage", "Question"}
)
_FIRST_TYPE = re.compile(r'"@type"\s*:\s*"(?:https?:\\?/\\?/schema\.org\\?/)?([A-Za-z]+)"')


def _is_other_thing(text: str) -> bool:
    if not text.lstrip().startswith("{"):
        return False
    match = _FIRST_TYPE.search(text, 0, 400)
    if not match or match.group(1) not in _OTHER_THINGS:
        return False
    # Only the block's own type counts, not a nested one ("@graph", an image before "@type").
    start = match.start()
    return text.count("{", 0, start) - text.count("}", 0, start) == 1


def json_ld_reading(page: Page, problems: list[str]) -> Reading | None:
    products: list[dict] = []
    for text in page.json_ld_texts:
        # Most blocks are breadcrumbs, images, reviews and site search: not worth decoding.
        if not any(marker in text for marker in _PRODUCT_MARKERS) or _is_other_thing(text):
            continue
        try:
            data = load_json(text)
        except InvalidJSON as error:
            problems.append(f"json-ld: invalid JSON ({error})")
            continue
        products.extend(_iter_products(data))
    if not products:
        return None
    product = max(products, key=lambda p: _product_score(p, page.url))
    return _reading_from_product(product, page.url, Source.JSON_LD)


# -- microdata ----------------------------------------------------------------------------------


def _owner_scope(node: LexborNode) -> LexborNode | None:
    parent = node.parent
    while parent is not None:
        if "itemscope" in parent.attributes:
            return parent
        parent = parent.parent
    return None


def _itemtype(node: LexborNode | None) -> str:
    return (node.attributes.get("itemtype") or "").lower() if node is not None else ""


def microdata_reading(page: Page) -> Reading | None:
    tree = page.tree
    # Either the Product scope or, in fragments that lost their Product wrapper, a price
    # property: a Product scope always precedes the properties inside it.
    first = page.microdata_start
    if first is None:
        return None
    product = first if "itemscope" in first.attributes and "product" in _itemtype(first) else None
    root = product if product is not None else tree.body
    if root is None:
        return None
    props: dict[str, str] = {}
    offer_props: dict[str, str] = {}
    for node in root.css("[itemprop]"):
        owner = _owner_scope(node)
        if _same(owner, product):
            target = props
        elif (
            owner is not None
            and "offer" in _itemtype(owner)
            and _same(_owner_scope(owner), product)
        ):
            target = offer_props
        else:
            # A property of a review, a brand or another item.
            continue
        for name in (node.attributes.get("itemprop") or "").split():
            if name not in target and "itemscope" not in node.attributes:
                value = node_value(node)
                if value:
                    target[name] = value
            elif name == "brand" and name not in target:
                brand = node.css_first("[itemprop=name]")
                if brand is not None:
                    target[name] = node_value(brand)
    merged_offer = {**{k: v for k, v in props.items() if k in _OFFER_KEYS}, **offer_props}
    reading = _reading_from_product(
        {**props, "offers": merged_offer or None}, page.url, Source.MICRODATA
    )
    return None if reading.is_empty() else reading


_OFFER_KEYS = frozenset(
    {"price", "lowPrice", "highPrice", "priceCurrency", "availability", "itemCondition"}
)


def _same(a: LexborNode | None, b: LexborNode | None) -> bool:
    """Both None (document level), or the same element."""
    if a is None or b is None:
        return a is b
    return a.mem_id == b.mem_id


# -- Open Graph ---------------------------------------------------------------------------------


def _meta_first(meta: dict[str, str], *keys: str) -> str | None:
    for key in keys:
        value = meta.get(key)
        if value:
            return value
    return None


def opengraph_reading(page: Page) -> Reading | None:
    meta = page.meta
    reading = Reading(source=Source.OPENGRAPH)
    amount = parse_amount(_meta_first(meta, "product:price:amount", "og:price:amount"))
    sale = parse_amount(_meta_first(meta, "product:sale_price:amount", "og:sale_price:amount"))
    regular = parse_amount(
        _meta_first(
            meta,
            "product:original_price:amount",
            "og:price:standard_amount",
            "product:price:standard_amount",
        )
    )
    if sale is not None:
        reading.price, reading.regular_price = sale, regular or amount
    else:
        reading.price, reading.regular_price = amount, regular
    reading.currency = _currency(
        _meta_first(
            meta, "product:price:currency", "og:price:currency", "product:sale_price:currency"
        )
    )
    reading.availability = from_token(_meta_first(meta, "product:availability", "og:availability"))
    reading.condition = condition_of(_meta_first(meta, "product:condition", "og:condition"))
    if meta.get("og:type", "").lower().endswith("product") or reading.price is not None:
        reading.title = title_text(meta.get("og:title"))
    reading.set_id("brand", _meta_first(meta, "product:brand", "og:brand"))
    reading.set_id("item_id", meta.get("product:retailer_item_id"))
    reading.set_id("mpn", meta.get("product:mfr_part_no"))
    for key in ("product:upc", "product:ean", "product:gtin", "product:isbn", "og:upc"):
        value = identifier_text(meta.get(key))
        if value:
            # og:upc sometimes carries the retailer's own SKU (Wayfair's "W005759888").
            reading.set_id("gtin" if value.isdigit() else "sku", value)
    if reading.price is None and reading.availability is None:
        return None
    return reading
