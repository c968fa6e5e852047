"""The baseline extraction_bench measures against: the same fields, read in the same order, with
BeautifulSoup over lxml, written the way a careful engineer would write it with those tools.

One parse (``BeautifulSoup(html, "lxml")``), then, as scraping.extraction does:

1. structured sources: JSON-LD (json.loads of every ld+json script, the Product picked by
   price and URL, its offers flattened and the best one kept), microdata (the Product scope's
   own itemprops and its Offer's), Open Graph / product: meta tags, and __NEXT_DATA__ when none
   of those had a price;
2. the visible page through the project's own per-retailer selector tables (the same
   ``Extractor`` class attributes: regions, price scope, price, was-price, title, availability,
   buy button, identifier selectors), with soupsieve's ``select_one`` confined to the same
   regions, plus the retailer quirks that decide the manifest's fields (Amazon's used-only buy
   box, detail table and ASIN in the URL; Costco's base64 price; Etsy's listing id);
3. the same precedence: the shopper-facing price over structured prices, a struck-through
   price only above the price, a currency named by the page over "$" plus the hint, the
   buy box's availability over structured data, structured titles and identifiers first.

What it shares with the fast path is only what does not touch the parser: the selector tables,
price_parser-based ``parse_price``/``parse_amount``, the availability phrase tables and the
dict walk over __NEXT_DATA__. What it leaves out are the fast path's rarer guards (bot walls,
"see price in cart", per-unit price conflicts), which cost little and decide none of the
manifest's fields; extraction_bench prints how often each agrees with the manifest.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from bs4 import BeautifulSoup, Tag

from scraping.extraction import Extraction, Identifiers, Status
from scraping.extraction.availability import (
    IN_STOCK,
    OUT_OF_STOCK,
    Availability,
    from_text,
    from_token,
)
from scraping.extraction.currencies import ISO_CODES, currency_from_host, same_symbol
from scraping.extraction.factory import extractor_class
from scraping.extraction.prices import parse_amount, parse_price
from scraping.extraction.state import find_product, reading_from_state_product

_PRODUCT_TYPES = {"Product", "ProductGroup", "ProductModel", "IndividualProduct", "Book", "Vehicle"}
_REGULAR_TYPES = ("listprice", "strikethroughprice", "regularprice", "msrp", "srp")
_GTIN_KEYS = ("gtin13", "gtin12", "gtin14", "gtin8", "gtin")
_WRAPPERS = re.compile(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$")
_ASIN_IN_URL = re.compile(r"/(?:dp|gp/product)/([A-Z0-9]{10})")
_ETSY_LISTING = re.compile(r"/listing/(\d+)")
_AMAZON_DETAILS = "#prodDetails, #detailBullets_feature_div, #technicalSpecifications_feature_div"
_AMAZON_LABELS = {
    "item model number": "model",
    "model number": "model",
    "número de modelo": "model",
    "part number": "mpn",
    "manufacturer part number": "mpn",
    "brand": "brand",
    "marca": "brand",
    "isbn-13": "isbn",
}
_AMAZON_USED = ("#usedBuySection .offer-price", "#usedBuySection .a-color-price")
_LABEL_NOISE = re.compile(r"[\u200e\u200f:]")
_SPACES = re.compile(r"\s+")


@dataclass
class _Reading:
    source: str
    price: Decimal | None = None
    regular_price: Decimal | None = None
    currency: str | None = None
    currency_is_guess: bool = False
    availability: Availability | None = None
    title: str | None = None
    ids: dict[str, str] = field(default_factory=dict)

    def set_id(self, kind: str, value: object) -> None:
        if isinstance(value, dict):
            value = value.get("name")
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and kind not in self.ids:
            text = _clean(value)
            if 0 < len(text) <= 120:
                self.ids[kind] = text


def soup_extract(html: bytes | str, *, url: str, retailer_currency: str | None) -> Extraction:
    soup = BeautifulSoup(html, "lxml")
    hint = retailer_currency if retailer_currency in ISO_CODES else currency_from_host(url)
    retailer = extractor_class(url=url)
    lang = ((soup.html.get("lang") or "")[:2].lower() or None) if soup.html else None

    structured = [
        r for r in (_json_ld(soup, url), _microdata(soup), _opengraph(soup)) if r is not None
    ]
    if retailer.read_embedded_state and not any(r.price is not None for r in structured):
        state = _next_data(soup)
        if state is not None:
            structured.append(state)
    visible = _visible(soup, retailer, url=url, hint=hint, lang=lang, structured=structured)
    return _combine(soup, structured, visible, hint=hint, lang=lang, extractor=retailer.name)


# -- structured sources --------------------------------------------------------------------------


def _json_ld(soup: BeautifulSoup, url: str) -> _Reading | None:
    products: list[dict] = []
    for script in soup.find_all("script", type=re.compile(r"^application/ld\+json$", re.I)):
        try:
            data = json.loads(_WRAPPERS.sub("", script.get_text()).strip(), parse_float=Decimal)
        except ValueError:
            continue
        products.extend(_products(data))
    if not products:
        return None
    product = max(
        products, key=lambda p: (_best_offer(p.get("offers")) is not None, p.get("url") == url)
    )
    if isinstance(product.get("hasVariant"), list) and product["hasVariant"]:
        variants = [v for v in product["hasVariant"] if isinstance(v, dict)]
        chosen = next((v for v in variants if v.get("url") == url), None) or next(
            (v for v in variants if _best_offer(v.get("offers")) is not None), variants[0]
        )
        product = {**{k: v for k, v in product.items() if k != "hasVariant"}, **chosen}
    reading = _Reading("json-ld", title=_text(product.get("name")))
    _product_ids(reading, product)
    offer = _best_offer(product.get("offers"))
    if offer is not None:
        reading.price, reading.regular_price, reading.currency, reading.availability = offer
    return reading


def _products(node: object, depth: int = 0) -> Iterator[dict]:
    if depth > 12:
        return
    if isinstance(node, list):
        for item in node:
            yield from _products(item, depth + 1)
    elif isinstance(node, dict):
        types = node.get("@type")
        types = set(types) if isinstance(types, list) else {types}
        if {str(t).rsplit("/", 1)[-1] for t in types} & _PRODUCT_TYPES:
            yield node
            return
        for key, value in node.items():
            if key not in ("review", "itemReviewed", "isRelatedTo", "isSimilarTo"):
                yield from _products(value, depth + 1)


def _flat_offers(value: object) -> Iterator[dict]:
    for offer in value if isinstance(value, list) else [value]:
        if isinstance(offer, dict):
            if offer.get("offers"):
                yield from _flat_offers(offer["offers"])
            if offer.get("price") is not None or offer.get("lowPrice") is not None:
                yield offer


def _best_offer(value: object):
    best = None
    for offer in _flat_offers(value):
        price = parse_amount(offer.get("price")) or parse_amount(offer.get("lowPrice"))
        regular = None
        specs = offer.get("priceSpecification")
        for spec in specs if isinstance(specs, list) else [specs]:
            if isinstance(spec, dict):
                kind = str(spec.get("priceType") or "").lower()
                amount = parse_amount(spec.get("price"))
                if any(word in kind for word in _REGULAR_TYPES):
                    regular = regular or amount
                elif price is None:
                    price = amount
        if price is None:
            continue
        currency = offer.get("priceCurrency")
        currency = (
            currency.upper()
            if isinstance(currency, str) and currency.upper() in ISO_CODES
            else None
        )
        availability = from_token(offer.get("availability"))
        condition = str(offer.get("itemCondition") or "").lower()
        rank = ("used" not in condition, availability is None or availability.available, -price)
        if best is None or rank > best[0]:
            best = (rank, (price, regular, currency, availability))
    return best[1] if best else None


def _product_ids(reading: _Reading, product: dict) -> None:
    reading.set_id("sku", product.get("sku"))
    for key in _GTIN_KEYS:
        value = product.get(key)
        if isinstance(value, str | int) and str(value).strip().isdigit():
            reading.set_id("gtin", str(value))
            break
    for kind in ("mpn", "isbn", "brand", "model"):
        reading.set_id(kind, product.get(kind))
    offers = product.get("offers")
    for offer in offers if isinstance(offers, list) else [offers]:
        if isinstance(offer, dict):
            reading.set_id("sku", offer.get("sku"))


def _microdata(soup: BeautifulSoup) -> _Reading | None:
    scope = soup.select_one('[itemscope][itemtype*="schema.org/Product" i]')
    root = scope if scope is not None else soup.body
    if root is None:
        return None
    props: dict[str, str] = {}
    offer: dict[str, str] = {}
    for node in root.find_all(attrs={"itemprop": True}):
        owner = node.find_parent(attrs={"itemscope": True})
        if owner is scope:
            target = props
        elif (
            owner is not None
            and "offer" in (owner.get("itemtype") or "").lower()
            and owner.find_parent(attrs={"itemscope": True}) is scope
        ):
            target = offer
        else:
            continue
        for name in node["itemprop"].split():
            if name in target:
                continue
            if node.has_attr("itemscope"):
                if name == "brand" and (brand := node.find(attrs={"itemprop": "name"})):
                    target[name] = _node_value(brand)
                continue
            value = _node_value(node)
            if value:
                target[name] = value
    merged = {**props, **offer}
    reading = _Reading("microdata", title=_text(props.get("name")))
    _product_ids(reading, props)
    reading.price = parse_amount(merged.get("price")) or parse_amount(merged.get("lowPrice"))
    currency = (merged.get("priceCurrency") or "").upper()
    reading.currency = currency if currency in ISO_CODES else None
    reading.availability = from_token(merged.get("availability"))
    empty = reading.price is None and reading.availability is None and not reading.title
    return None if empty and not reading.ids else reading


def _opengraph(soup: BeautifulSoup) -> _Reading | None:
    meta: dict[str, str] = {}
    for node in (soup.head or soup).find_all("meta", attrs={"content": True}):
        key = node.get("property") or node.get("name")
        if key and key.lower() not in meta:
            meta[key.lower()] = node["content"].strip()
    reading = _Reading("opengraph")
    sale = parse_amount(meta.get("product:sale_price:amount"))
    amount = parse_amount(meta.get("product:price:amount") or meta.get("og:price:amount"))
    regular = parse_amount(
        meta.get("product:original_price:amount")
        or meta.get("og:price:standard_amount")
        or meta.get("product:price:standard_amount")
    )
    reading.price, reading.regular_price = (sale, regular or amount) if sale else (amount, regular)
    currency = (meta.get("product:price:currency") or meta.get("og:price:currency") or "").upper()
    reading.currency = currency if currency in ISO_CODES else None
    reading.availability = from_token(
        meta.get("product:availability") or meta.get("og:availability")
    )
    if meta.get("og:type", "").lower().endswith("product") or reading.price is not None:
        reading.title = _text(meta.get("og:title"))
    reading.set_id("brand", meta.get("product:brand"))
    upc = meta.get("og:upc") or meta.get("product:upc")
    if upc:
        reading.set_id("gtin" if upc.isdigit() else "sku", upc)
    if reading.price is None and reading.availability is None:
        return None
    return reading


def _next_data(soup: BeautifulSoup) -> _Reading | None:
    script = soup.find("script", id="__NEXT_DATA__")
    if script is None:
        return None
    try:
        data = json.loads(script.get_text(), parse_float=Decimal)
    except ValueError:
        return None
    product = find_product(data)
    if product is None:
        return None
    state = reading_from_state_product(product, "next_data")
    reading = _Reading("next_data", state.price, state.regular_price, state.currency)
    reading.availability, reading.title, reading.ids = state.availability, state.title, state.ids
    return reading


# -- the visible page ----------------------------------------------------------------------------


def _visible(soup, retailer, *, url, hint, lang, structured) -> _Reading:
    reading = _Reading("selectors")
    roots = [n for s in retailer.regions if (n := soup.select_one(s)) is not None] or [soup]

    def candidates(selectors, within=None) -> Iterator[Tag]:
        for selector in selectors:
            for root in [within] if within is not None else roots:
                node = root.select_one(selector)
                if node is not None:
                    yield node
                    break

    scope = next(candidates(retailer.price_scope), None)
    if not retailer.price_scope or scope is not None:
        for node in candidates(retailer.price_selectors, scope):
            money = parse_price(_price_text(node), currency_hint=hint)
            if money is not None:
                reading.price, reading.currency = money.amount, money.currency
                reading.currency_is_guess = money.ambiguous
                break
        for node in candidates(retailer.regular_price_selectors, scope):
            money = parse_price(_price_text(node), currency_hint=hint)
            if money is not None:
                reading.regular_price = money.amount
                break
    if not any(r.title for r in structured):
        node = next(candidates(retailer.title_selectors), None)
        reading.title = _node_value(node) if node is not None else None
    for node in candidates(retailer.availability_selectors):
        found = from_token(node.get("content") or node.get("href")) or from_text(
            _visible_text(node)[:1000], lang
        )
        if found is not None:
            reading.availability = found
            break
    else:
        button = next(candidates(retailer.buy_button_selectors), None)
        if button is not None:
            said = from_text(_visible_text(button), lang)
            disabled = button.has_attr("disabled") or "disabled" in (button.get("class") or [])
            reading.availability = (
                said
                if said is not None and not said.available
                else OUT_OF_STOCK
                if disabled
                else IN_STOCK
            )
    known = {kind for r in structured for kind in r.ids}
    for kind, selectors in retailer.id_selectors.items():
        if kind not in known and (node := next(candidates(selectors), None)) is not None:
            reading.set_id(kind, _node_value(node))

    if retailer.name == "amazon":
        if reading.price is None:
            node = next(candidates(_AMAZON_USED), None)
            money = parse_price(_price_text(node), currency_hint=hint) if node else None
            if money is not None:
                reading.price, reading.currency = money.amount, money.currency
                reading.currency_is_guess = money.ambiguous
        for block in soup.select(_AMAZON_DETAILS):
            for row in block.find_all(["tr", "li"]):
                cells = row.find_all(["th", "td"], limit=2) if row.name == "tr" else []
                if len(cells) == 2:
                    label, value = cells[0].get_text(" "), cells[1].get_text(" ")
                else:
                    label, _, value = row.get_text(" ").partition(":")
                kind = _AMAZON_LABELS.get(_clean(_LABEL_NOISE.sub("", label)).lower())
                if kind:
                    reading.set_id(kind, _LABEL_NOISE.sub("", value))
        if (match := _ASIN_IN_URL.search(url)) is not None:
            reading.set_id("asin", match.group(1))
    elif retailer.name == "costco":
        node = soup.select_one(".online-price[data-opvalue]")
        if node is not None and reading.price is None:
            with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
                reading.price = parse_amount(base64.b64decode(node["data-opvalue"]).decode())
    elif retailer.name == "etsy" and (match := _ETSY_LISTING.search(url)) is not None:
        reading.set_id("item_id", match.group(1))
    return reading


# -- reconciling ---------------------------------------------------------------------------------


def _combine(soup, structured, visible, *, hint, lang, extractor) -> Extraction:
    readings = [*structured, visible]
    chosen = visible if visible.price is not None else _structured_price(structured)
    result = Extraction(status=Status.NO_PRICE, extractor=extractor, lang=lang)
    if chosen is not None:
        result.status, result.price = Status.OK, chosen.price
        regular = chosen.regular_price or next(
            (r.regular_price for r in structured if r.regular_price and r.price == chosen.price),
            None,
        )
        if regular is not None and regular > chosen.price:
            result.regular_price = regular
    named = next((r.currency for r in structured if r.currency), None)
    if (
        chosen is not None
        and chosen.currency_is_guess
        and named
        and same_symbol(named, chosen.currency)
    ):
        result.currency = named
    else:
        result.currency = (chosen.currency if chosen else None) or named or visible.currency or hint

    availability = next((r.availability for r in structured if r.availability), None)
    if visible.availability is not None:
        availability = visible.availability
    if availability is None:
        heading = soup.find("h1")
        region = heading.parent.parent if heading is not None and heading.parent else None
        availability = from_text(_visible_text(region)[:3000], lang) if region else None
    result.available = availability.available if availability else None

    result.title = next((r.title for r in readings if r.title), None)
    if not result.title:
        heading = soup.find("h1")
        title_tag = soup.title.get_text() if soup.title else ""
        result.title = (
            _clean(heading.get_text(" ")) if heading else _clean(title_tag.split(" | ")[0])
        )
    ids = result.identifiers = Identifiers()
    canonical = soup.find("link", rel="canonical")
    ids.canonical_url = canonical.get("href") if canonical is not None else None
    for reading in readings:
        for kind, value in reading.ids.items():
            if kind in Identifiers.__dataclass_fields__ and getattr(ids, kind) is None:
                setattr(ids, kind, value)
    result.text_source = lambda: _visible_text(soup.body) if soup.body else ""
    return result


def _structured_price(structured: list[_Reading]) -> _Reading | None:
    base = next((r for r in structured if r.price is not None), None)
    # A source pairing a lower price with base's price as its "was" shows base's is the regular.
    for other in structured:
        if base and other.price and other.regular_price == base.price and other.price < base.price:
            return other
    return base


# -- text ----------------------------------------------------------------------------------------


def _clean(text: str | None) -> str:
    return _SPACES.sub(" ", text).strip() if text else ""


def _text(value: object) -> str | None:
    return _clean(value) or None if isinstance(value, str) else None


def _visible_text(node: Tag) -> str:
    # bs4 leaves <script> and <style> contents out of get_text().
    return _clean(node.get_text(" "))


def _node_value(node: Tag) -> str:
    for name in ("content", "value", "data-price", "datetime"):
        if node.get(name):
            return _clean(node[name])
    if node.name in ("a", "link") and node.get("itemprop") and node.get("href"):
        return _clean(node["href"])
    return _clean(node.get_text(" "))


def _price_text(node: Tag) -> str:
    for name in ("content", "value", "data-price"):
        if node.get(name):
            return _clean(node[name])
    return _clean(node.get_text(""))
