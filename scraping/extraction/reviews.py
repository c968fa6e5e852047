"""Reviews on a product page: schema.org Review and AggregateRating, from JSON-LD and microdata.

extract_reviews(html, url=...) -> PageReviews

Only the page's own product's reviews count. A page describes other products too (carousels,
"compare with"), so reviews are kept when they sit inside the product the price extraction
would pick, or stand alone (a top-level Review block, an @graph node) naming that product, or
nothing, as their itemReviewed. Ratings on any scale (bestRating/worstRating, 1-5 by default)
are put on a 1-5 scale. A review with no words or no usable rating is skipped and counted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from dateutil import parser as date_parser
from selectolax.lexbor import LexborNode

from .document import Page, clean, node_value
from .prices import parse_amount
from .result import FoundRating, FoundReview, PageReviews
from .structured import (
    InvalidJSON,
    _as_list,
    _iter_products,
    _product_score,
    _types,
    load_json,
)

# Every schema.org Review or AggregateRating names its type like this, in JSON-LD
# ("@type": "Review") or microdata (itemtype=".../Review"); a page with none is not parsed.
_MARKERS = (b'Review"', b"/Review", b"AggregateRating", b'review"', b"/review")
_REVIEW_KEYS = ("review", "reviews")
_TAGS = re.compile(r"<[^>]+>")
MAX_TEXT = 10_000


def extract_reviews(html: str | bytes, *, url: str | None) -> PageReviews:
    raw = html.encode("utf-8", "replace") if isinstance(html, str) else html
    # Most pages carry no reviews; a byte search costs far less than parsing them.
    if not any(marker in raw for marker in _MARKERS):
        return PageReviews()
    page = Page(html, url)
    found = PageReviews()
    _from_json_ld(page, found)
    if not found.reviews and found.rating is None:
        _from_microdata(page, found)
    _drop_shared_identifiers(found, url)
    return found


def _drop_shared_identifiers(found: PageReviews, url: str | None) -> None:
    """An id that several reviews on the page share (often the page's own URL given as each
    review's `url`) names the page, not a review: keeping it would merge those reviews into one
    when they are stored. Without it they are told apart by author, day and words."""
    counts = Counter(review.external_id for review in found.reviews if review.external_id)
    shared = {identifier for identifier, count in counts.items() if count > 1}
    if url:
        shared.add(url)
    found.reviews[:] = [
        replace(review, external_id="") if review.external_id in shared else review
        for review in found.reviews
    ]


# -- Values ---------------------------------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, list):
        value = next((item for item in value if item), "")
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    if not isinstance(value, str | int | float | Decimal):
        return ""
    return clean(_TAGS.sub(" ", str(value)))


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        value = value.strip().replace(",", ".")
        try:
            return Decimal(value)
        except ArithmeticError:
            return parse_amount(value)
    return None


def to_five(value: object, best: object = None, worst: object = None) -> Decimal | None:
    """A rating on a 1-5 scale; None when it is missing or outside its own scale."""
    number = _number(value)
    high = _number(best) if best not in (None, "") else Decimal(5)
    low = _number(worst) if worst not in (None, "") else Decimal(1)
    if number is None or high is None or low is None or high <= low:
        return None
    if not low <= number <= high:
        return None
    return Decimal(1) + (number - low) * 4 / (high - low)


def stars(value: object, best: object = None, worst: object = None) -> int | None:
    five = to_five(value, best, worst)
    if five is None:
        return None
    return int(five.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_posted_at(value: object) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = date_parser.parse(text)
        except (ValueError, OverflowError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # an offset that pushes the time past year 1 or 9999 in UTC
        return None


def _count(*values: object) -> int | None:
    for value in values:
        number = _number(value)
        if number is not None and number >= 0:
            return int(number)
    return None


def _review(
    props: dict, rating: dict | None, found: PageReviews, identifier: str = ""
) -> FoundReview | None:
    body = _text(props.get("reviewBody")) or _text(props.get("description"))
    title = _text(props.get("name")) or _text(props.get("headline"))
    if not body:
        body, title = title, ""
    if not body:
        found.skip("no_text")
        return None
    rating = rating or {}
    value = rating.get("ratingValue")
    if value in (None, ""):
        found.skip("no_rating")
        return None
    score = stars(value, rating.get("bestRating"), rating.get("worstRating"))
    if score is None:
        found.skip("bad_rating")
        return None
    return FoundReview(
        text=body[:MAX_TEXT],
        rating=score,
        author=_text(props.get("author"))[:100],
        title=title[:200],
        posted_at=parse_posted_at(props.get("datePublished") or props.get("dateCreated")),
        external_id=identifier,
    )


def _aggregate(props: dict) -> FoundRating | None:
    value = to_five(props.get("ratingValue"), props.get("bestRating"), props.get("worstRating"))
    if value is None:
        return None
    return FoundRating(
        value=value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        count=_count(props.get("reviewCount"), props.get("ratingCount")),
    )


# -- JSON-LD --------------------------------------------------------------------------------------


def _nodes(node: object, depth: int = 0) -> Iterator[dict]:
    if depth > 12:
        return
    if isinstance(node, list):
        for item in node:
            yield from _nodes(item, depth + 1)
    elif isinstance(node, dict):
        yield node
        for value in node.values():
            if isinstance(value, dict | list):
                yield from _nodes(value, depth + 1)


def _identifier(node: dict) -> str:
    for key in ("@id", "url", "identifier"):
        value = _text(node.get(key))
        if value:
            return value
    return ""


def _from_json_ld(page: Page, found: PageReviews) -> None:
    blocks = []
    for text in page.json_ld_texts:
        if "Review" not in text and "Rating" not in text:
            continue
        try:
            blocks.append(load_json(text))
        except InvalidJSON:
            continue
    if not blocks:
        return
    by_id = {node["@id"]: node for node in _nodes(blocks) if isinstance(node.get("@id"), str)}
    products = [product for block in blocks for product in _iter_products(block)]
    main = max(products, key=lambda p: _product_score(p, page.url)) if products else None

    reviews: list[dict] = []
    if main is not None:
        for key in _REVIEW_KEYS:
            for item in _as_list(main.get(key)):
                if isinstance(item, dict) and set(item) == {"@id"}:
                    item = by_id.get(item["@id"], item)
                if isinstance(item, dict):
                    reviews.append(item)
        rating = main.get("aggregateRating")
        if isinstance(rating, dict) and set(rating) == {"@id"}:
            rating = by_id.get(rating["@id"], rating)
        if isinstance(rating, dict):
            found.rating = _aggregate(rating)

    # Reviews and ratings standing alone, about the product by name, @id or implicitly.
    inside = {id(node) for product in products for node in _nodes(product)}
    taken = {id(node) for node in reviews}
    for node in _nodes(blocks):
        if id(node) in inside or id(node) in taken:
            continue
        types = _types(node)
        is_review = any(kind.endswith("review") for kind in types)
        if not is_review and "aggregaterating" not in types:
            continue
        if not _about(node.get("itemReviewed"), main, by_id):
            if is_review:
                found.skip("other_product")
            continue
        if is_review:
            reviews.append(node)
            taken.add(id(node))
        elif found.rating is None:
            found.rating = _aggregate(node)

    for node in reviews:
        rating = node.get("reviewRating")
        review = _review(
            node, rating if isinstance(rating, dict) else None, found, _identifier(node)
        )
        if review is not None:
            found.reviews.append(review)


def _about(subject: object, main: dict | None, by_id: dict[str, dict]) -> bool:
    """Whether a standalone review's itemReviewed is the page's product."""
    if subject is None or main is None:
        return subject is None or main is None
    if not isinstance(subject, dict):
        return _text(subject).casefold() == _text(main.get("name")).casefold()
    if set(subject) == {"@id"}:
        return subject["@id"] == main.get("@id") or by_id.get(subject["@id"]) is main
    for key in ("@id", "sku", "gtin13", "gtin", "mpn", "url", "name"):
        mine, theirs = _text(main.get(key)), _text(subject.get(key))
        if mine and theirs:
            return mine.casefold() == theirs.casefold()
    return True


# -- Microdata ------------------------------------------------------------------------------------


def _scope_of(node: LexborNode) -> LexborNode | None:
    parent = node.parent
    while parent is not None:
        if "itemscope" in parent.attributes:
            return parent
        parent = parent.parent
    return None


def _itemtype(node: LexborNode | None) -> str:
    return (node.attributes.get("itemtype") or "").lower() if node is not None else ""


def _props(scope: LexborNode) -> tuple[dict[str, str], dict[str, LexborNode]]:
    """A scope's own properties: plain values, and nested scopes by property name."""
    values: dict[str, str] = {}
    scopes: dict[str, LexborNode] = {}
    for node in scope.css("[itemprop]"):
        owner = _scope_of(node)
        if owner is None or owner.mem_id != scope.mem_id:
            continue
        for name in (node.attributes.get("itemprop") or "").split():
            if "itemscope" in node.attributes:
                scopes.setdefault(name, node)
            elif name not in values:
                value = node_value(node)
                if value:
                    values[name] = value
    return values, scopes


def _in_other_product(node: LexborNode) -> bool:
    scope = _scope_of(node)
    while scope is not None:
        if "schema.org/product" in _itemtype(scope):
            # The first Product scope on the page is the page's product.
            return scope.mem_id != _first_product(node).mem_id
        scope = _scope_of(scope)
    return False


def _first_product(node: LexborNode) -> LexborNode:
    root = node
    while root.parent is not None:
        root = root.parent
    first = root.css_first('[itemscope][itemtype*="schema.org/Product" i]')
    return first if first is not None else node


def _from_microdata(page: Page, found: PageReviews) -> None:
    tree = page.tree
    for scope in tree.css('[itemscope][itemtype*="schema.org/Review" i]'):
        if _in_other_product(scope):
            found.skip("other_product")
            continue
        values, scopes = _props(scope)
        if "author" in scopes:
            values.setdefault("author", _props(scopes["author"])[0].get("name", ""))
        rating = _props(scopes["reviewRating"])[0] if "reviewRating" in scopes else None
        identifier = scope.attributes.get("itemid") or values.get("url", "")
        review = _review(values, rating, found, identifier or "")
        if review is not None:
            found.reviews.append(review)
    for scope in tree.css('[itemscope][itemtype*="schema.org/AggregateRating" i]'):
        if _in_other_product(scope):
            continue
        found.rating = _aggregate(_props(scope)[0])
        if found.rating is not None:
            break
