"""Embedded application state: Next.js __NEXT_DATA__, window.__PRELOADED_STATE__ and kin.

These blobs have no schema, so the product is found by shape: the dict closest to a "product"
key that carries both a price and a name, skipping branches about other products
(recommendations, bundles, accessories).
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from decimal import Decimal

from .availability import from_token
from .currencies import ISO_CODES
from .document import Page
from .prices import parse_amount
from .reading import Reading, identifier_text, title_text
from .result import Source
from .structured import InvalidJSON, load_json

# (marker, source) pairs for `window.X = {...}` assignments.
ASSIGNED_STATES = (
    ("__PRELOADED_STATE__", Source.PRELOADED_STATE),
    ("__INITIAL_STATE__", Source.INITIAL_STATE),
)

_ASSIGNMENT = re.compile(r"""\s*["']?\]?\s*=\s*""")
_DECODER = json.JSONDecoder(parse_float=Decimal, strict=False)

_PRICE_KEYS = (
    "currentPrice",
    "salePrice",
    "finalPrice",
    "sellingPrice",
    "offerPrice",
    "customerPrice",
    "displayPrice",
    "price",
    "priceValue",
)
_REGULAR_KEYS = (
    "wasPrice",
    "listPrice",
    "regularPrice",
    "originalPrice",
    "strikethroughPrice",
    "strikeThroughPrice",
    "compareAtPrice",
    "comparePrice",
    "previousPrice",
)
# Inside a price object: {"original": "150.00", "sale": "120.00"}.
_INNER_PRICE_KEYS = ("price", "value", "amount", "current", "sale", "priceValue", "raw")
_INNER_REGULAR_KEYS = ("original", "regular", "list", "was", "wasPrice", "listPrice")
_PRICE_CONTAINERS = ("priceInfo", "prices", "pricing", "priceData")
_NAME_KEYS = ("name", "productName", "title", "displayName")
_AVAILABILITY_KEYS = (
    "availabilityStatus",
    "availability",
    "stockStatus",
    "inventoryStatus",
    "buttonState",
    "inStock",
    "isInStock",
    "isAvailable",
    "available",
)
_CURRENCY_KEYS = ("currency", "currencyCode", "currencyUnit", "priceCurrency")
_ID_KEYS = (
    ("sku", "sku"),
    ("usItemId", "item_id"),
    ("itemId", "item_id"),
    ("productId", "item_id"),
    ("upc", "gtin"),
    ("gtin", "gtin"),
    ("gtin13", "gtin"),
    ("ean", "gtin"),
    ("mpn", "mpn"),
    ("manufacturerProductId", "mpn"),
    ("model", "model"),
    ("modelNumber", "model"),
    ("brand", "brand"),
)
_OTHER_PRODUCTS = re.compile(
    r"related|recommend|similar|carousel|sponsor|accessor|bundle|upsell|cross|also|review"
    r"|breadcrumb|compar|recent|history|footer|header|nav",
    re.IGNORECASE,
)
# Bounds the walk on multi-megabyte state blobs.
_MAX_NODES = 40_000


def next_data(page: Page) -> object | None:
    text = page.next_data_text
    return load_json(text) if text else None


def assigned_state(page: Page, marker: str) -> object | None:
    """Decode `window.MARKER = {...}` (or `= JSON.parse("...")`) straight from the raw page."""
    pos = page.raw_find(marker)
    while pos != -1:
        after = pos + len(marker)
        match = _ASSIGNMENT.match(page.raw_slice(after, after + 24))
        if match:
            start = after + match.end()
            end = page.raw_find("</script", start)
            text = page.raw_slice(start, end if end != -1 else page.size)
            try:
                if text.startswith("JSON.parse("):
                    literal, _ = _DECODER.raw_decode(text, len("JSON.parse("))
                    return load_json(literal) if isinstance(literal, str) else None
                value, _ = _DECODER.raw_decode(text)
            except ValueError as error:
                raise InvalidJSON(str(error)) from None
            return value
        pos = page.raw_find(marker, after)
    return None


def _money(value: object, depth: int = 0) -> Decimal | None:
    if isinstance(value, dict):
        if depth > 2:
            return None
        for key in _INNER_PRICE_KEYS:
            if key in value:
                amount = _money(value[key], depth + 1)
                if amount is not None:
                    return amount
        return None
    return parse_amount(value)


def _currency_in(node: dict, depth: int = 0) -> str | None:
    for key in _CURRENCY_KEYS:
        value = node.get(key)
        if isinstance(value, str) and value.upper() in ISO_CODES:
            return value.upper()
    if depth < 2:
        for value in node.values():
            if isinstance(value, dict):
                found = _currency_in(value, depth + 1)
                if found:
                    return found
    return None


def _price_pair(node: dict) -> tuple[Decimal | None, Decimal | None, dict | None]:
    """(price, regular, the dict that held them), looking one level into price containers."""
    holders = [node] + [node[k] for k in _PRICE_CONTAINERS if isinstance(node.get(k), dict)]
    for holder in holders:
        for key in _PRICE_KEYS:
            if key not in holder:
                continue
            price = _money(holder[key])
            if price is None:
                continue
            regular = next(
                (r for k in _REGULAR_KEYS if k in holder and (r := _money(holder[k])) is not None),
                None,
            )
            inner = holder[key]
            if regular is None and isinstance(inner, dict):
                regular = next(
                    (r for k in _INNER_REGULAR_KEYS if (r := parse_amount(inner.get(k)))),
                    None,
                )
            return price, regular, holder
    return None, None, None


def _walk(data: object) -> Iterator[tuple[dict, str, int]]:
    queue: deque[tuple[object, str, int]] = deque([(data, "", 0)])
    seen = 0
    while queue and seen < _MAX_NODES:
        node, path, depth = queue.popleft()
        seen += 1
        if isinstance(node, dict):
            yield node, path, depth
            for key, value in node.items():
                if isinstance(value, dict | list) and not _OTHER_PRODUCTS.search(key):
                    queue.append((value, f"{path}/{key}", depth + 1))
        elif isinstance(node, list):
            for value in node[:50]:
                if isinstance(value, dict | list):
                    queue.append((value, path, depth + 1))


def find_product(data: object) -> dict | None:
    best: tuple[tuple[bool, int], dict] | None = None
    for node, path, depth in _walk(data):
        if not any(isinstance(node.get(k), str) for k in _NAME_KEYS):
            continue
        price, _, _ = _price_pair(node)
        if price is None:
            continue
        # Nearest to a "product" key wins: the page's item sits above its lists of others.
        score = ("product" in path.lower(), -depth)
        if best is None or score > best[0]:
            best = (score, node)
    return best[1] if best else None


def reading_from_state_product(node: dict, source: str) -> Reading:
    reading = Reading(source=source)
    reading.price, reading.regular_price, holder = _price_pair(node)
    reading.currency = _currency_in(holder or node) or _currency_in(node)
    reading.title = title_text(next((node[k] for k in _NAME_KEYS if k in node), None))
    for key in _AVAILABILITY_KEYS:
        if key in node:
            reading.availability = from_token(node[key])
            if reading.availability is not None:
                break
    for key, kind in _ID_KEYS:
        value = identifier_text(node.get(key))
        if value and (kind != "gtin" or value.isdigit()):
            reading.set_id(kind, value)
    return reading


def state_readings(page: Page, problems: list[str]) -> list[Reading]:
    readings = []
    sources: list[tuple[str, object]] = []
    try:
        sources.append((Source.NEXT_DATA, next_data(page)))
    except InvalidJSON as error:
        problems.append(f"next_data: invalid JSON ({error})")
    for marker, source in ASSIGNED_STATES:
        try:
            sources.append((source, assigned_state(page, marker)))
        except InvalidJSON as error:
            problems.append(f"{source}: invalid JSON ({error})")
    for source, data in sources:
        if data is None:
            continue
        product = find_product(data)
        if product is not None:
            readings.append(reading_from_state_product(product, source))
    return readings
