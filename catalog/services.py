"""Writes to the catalog: the API calls these, and other interfaces (admin, commands) should.

Every write is validated against the model, its constraints included, before it reaches the
database, and a constraint the database still refuses (two requests racing) is reported the same
way: a ValidationError naming the field at fault, never an IntegrityError.
"""

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from catalog import sentiment
from catalog.models import Brand, Listing, Product, Retailer, Review
from catalog.signals import announce_list_price

PRODUCT_FIELDS = (
    "brand",
    "name",
    "reference",
    "category",
    "description",
    "currency",
    "msrp",
    "cost",
    "list_price",
    "sku",
    "gtin",
    "mpn",
    "asin",
    "in_inventory_since",
)
RETAILER_FIELDS = (
    "name",
    "slug",
    "domain",
    "base_url",
    "retailer_type",
    "market_type",
    "map_percentage",
    "external_price_checks_enabled",
    "currency",
    "geo_location",
    "requests_per_minute",
    "extractor",
    "selectors",
    "product_url_pattern",
)
M = TypeVar("M", bound=models.Model)

LISTING_FIELDS = ("product", "retailer", "url", "retailer_item_id", "currency", "active")
# What probes observe is recorded by scraping, not typed in, so these services leave it alone
# and do not judge it (``available`` is null until a probe has looked).
LISTING_OBSERVED_FIELDS = (
    "last_price",
    "last_regular_price",
    "available",
    "last_probed_at",
    "last_success_at",
)


def brand_create(*, name: str, slug: str, website: str = "") -> Brand:
    return _save(Brand(name=name, slug=slug, website=website))


def product_create(
    *,
    brand: Brand,
    name: str,
    reference: str,
    category: str = "",
    description: str = "",
    currency: str = "USD",
    msrp: Decimal | None = None,
    cost: Decimal | None = None,
    list_price: Decimal | None = None,
    sku: str = "",
    gtin: str = "",
    mpn: str = "",
    asin: str = "",
    in_inventory_since: date | None = None,
    user=None,
    source: str = "api",
) -> Product:
    product = Product(
        brand=brand,
        name=name,
        reference=reference,
        category=category,
        description=description,
        currency=currency,
        msrp=msrp,
        cost=cost,
        list_price=list_price,
        sku=sku,
        gtin=gtin,
        mpn=mpn,
        asin=asin,
        in_inventory_since=in_inventory_since,
    )
    with transaction.atomic():
        _save(product)
        announce_list_price(product=product, previous=None, source=source, user=user)
    return product


def product_update(
    *, product: Product, data: Mapping[str, Any], user=None, source: str = "api"
) -> Product:
    previous = product.list_price
    with transaction.atomic():
        _update(product, data, allowed=PRODUCT_FIELDS)
        announce_list_price(product=product, previous=previous, source=source, user=user)
    return product


def retailer_create(
    *,
    name: str,
    slug: str,
    domain: str,
    base_url: str,
    retailer_type: str = Retailer.RetailerType.MARKETPLACE,
    market_type: str = Retailer.MarketType.AUTHORIZED_DEALER,
    map_percentage: Decimal = Decimal("0.800"),
    external_price_checks_enabled: bool = False,
    currency: str = "USD",
    geo_location: str = "",
    requests_per_minute: int = 30,
    extractor: str = "generic",
    selectors: dict[str, str] | None = None,
    product_url_pattern: str = "",
) -> Retailer:
    retailer = Retailer(
        name=name,
        slug=slug,
        domain=domain,
        base_url=base_url,
        retailer_type=retailer_type,
        market_type=market_type,
        map_percentage=map_percentage,
        external_price_checks_enabled=external_price_checks_enabled,
        currency=currency,
        geo_location=geo_location,
        requests_per_minute=requests_per_minute,
        extractor=extractor,
        selectors=selectors or {},
        product_url_pattern=product_url_pattern,
    )
    return _save(retailer)


def retailer_update(*, retailer: Retailer, data: Mapping[str, Any]) -> Retailer:
    return _update(retailer, data, allowed=RETAILER_FIELDS)


def listing_create(
    *,
    product: Product,
    retailer: Retailer,
    url: str = "",
    retailer_item_id: str = "",
    currency: str | None = None,
    active: bool = True,
) -> Listing:
    """A listing is priced in its retailer's currency unless told otherwise."""
    listing = Listing(
        product=product,
        retailer=retailer,
        url=url,
        retailer_item_id=retailer_item_id,
        currency=currency or retailer.currency,
        active=active,
    )
    return _save(listing, exclude=LISTING_OBSERVED_FIELDS)


def listing_update(*, listing: Listing, data: Mapping[str, Any]) -> Listing:
    return _update(listing, data, allowed=LISTING_FIELDS, exclude=LISTING_OBSERVED_FIELDS)


def review_create(
    *,
    product: Product,
    source: str,
    text: str,
    rating: int,
    posted_at: datetime,
    author: str = "",
    title: str = "",
    external_id: str = "",
) -> Review:
    """Record one review, scored. A review the source has already given us (the same external
    id, or without one the same author, day and words) is refused, naming ``external_id``."""
    external_id = external_id or review_fingerprint(
        author=author, posted_at=posted_at, text=text, title=title
    )
    review = Review(
        product=product,
        source=source,
        text=text,
        rating=rating,
        posted_at=posted_at,
        author=author,
        title=title,
        external_id=external_id,
    )
    _score(review)
    return _save(review)


@dataclass(frozen=True)
class ReviewInput:
    """One review as a source gives it; ``posted_at`` None means the source does not say."""

    text: str
    rating: int
    posted_at: datetime | None = None
    author: str = ""
    title: str = ""
    external_id: str = ""


@dataclass
class ReviewIngest:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Why reviews were left out, e.g. {"no_text": 2}; the sources count their own skips too.
    skipped: dict[str, int] = dataclasses.field(default_factory=dict)

    def skip(self, reason: str, count: int = 1) -> None:
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count


REVIEW_CONTENT_FIELDS = ("author", "title", "text", "rating", "posted_at")


def review_fingerprint(
    *, author: str, posted_at: datetime | date | None, text: str, title: str = ""
) -> str:
    """A stable id for a review its source gives none: the same review read again on another
    day hashes the same; whitespace and case do not count."""
    day = posted_at.date() if isinstance(posted_at, datetime) else posted_at
    parts = (author, day.isoformat() if day else "", title, text)
    canonical = "\x1f".join(" ".join(part.split()).casefold() for part in map(str, parts))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def review_key(external_id: str) -> str:
    """An external id that fits the column: long ones (review URLs) are hashed."""
    external_id = external_id.strip()
    max_length = Review._meta.get_field("external_id").max_length
    if len(external_id) <= max_length:
        return external_id
    return "sha256:" + hashlib.sha256(external_id.encode()).hexdigest()[:40]


def reviews_ingest(
    *,
    product: Product,
    source: str,
    reviews: Iterable[ReviewInput],
    seen_at: datetime | None = None,
) -> ReviewIngest:
    """Create or update a source's reviews of a product; reading them again changes nothing.

    A review is matched on (product, source, external id); one without an id gets the
    fingerprint of its author, day and words. A review the source does not date is dated
    ``seen_at``, the first time we read it (a later reading keeps that date). Reviews that
    break the model's rules (no text, a rating outside 1-5) are skipped and counted, never
    raised: one bad review must not lose the others.
    """
    seen_at = seen_at or timezone.now()
    # Cut to the column once, so a long source name finds what it stored last time.
    source = source[: Review._meta.get_field("source").max_length]
    result = ReviewIngest()
    wanted: dict[str, ReviewInput] = {}
    for item in reviews:
        if not (item.text or "").strip():
            result.skip("no_text")
            continue
        if not isinstance(item.rating, int) or not 1 <= item.rating <= 5:
            result.skip("bad_rating")
            continue
        key = review_key(item.external_id) or review_fingerprint(
            author=item.author, posted_at=item.posted_at, text=item.text, title=item.title
        )
        if key in wanted:
            result.skip("repeated")
            continue
        wanted[key] = item
    if not wanted:
        return result

    existing = {
        review.external_id: review
        for review in Review.objects.filter(
            product=product, source=source, external_id__in=list(wanted)
        )
    }
    new, changed = [], []
    for key, item in wanted.items():
        values = {
            "author": item.author[:100],
            "title": item.title[:200],
            "text": item.text.strip(),
            "rating": item.rating,
            "posted_at": item.posted_at,
        }
        review = existing.get(key)
        if review is None:
            review = Review(product=product, source=source, external_id=key, **values)
            review.posted_at = review.posted_at or seen_at
            _score(review)
            new.append(review)
            continue
        if values["posted_at"] is None:
            values["posted_at"] = review.posted_at
        differs = [name for name, value in values.items() if getattr(review, name) != value]
        if not differs:
            result.unchanged += 1
            continue
        for name in differs:
            setattr(review, name, values[name])
        _score(review)
        changed.append(review)
    with transaction.atomic():
        Review.objects.bulk_create(new, batch_size=500)
        Review.objects.bulk_update(
            changed, [*REVIEW_CONTENT_FIELDS, *REVIEW_SENTIMENT_FIELDS], batch_size=500
        )
    result.created, result.updated = len(new), len(changed)
    return result


REVIEW_SENTIMENT_FIELDS = ("sentiment_label", "sentiment_score", "sentiment_scorer")


def review_score(*, review: Review) -> Review:
    """Label an unsaved or edited review from its words (the caller saves it)."""
    _score(review)
    return review


def _score(review: Review) -> None:
    found = sentiment.score_review(title=review.title, text=review.text)
    review.sentiment_label = found.label.value
    review.sentiment_score = found.score
    review.sentiment_scorer = found.scorer


def reviews_rescore(
    *,
    queryset: QuerySet[Review] | None = None,
    batch_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Score reviews again (all of them by default), batch by batch; returns how many.

    Batches go by primary key, so rows added meanwhile do not shift the pages, and each batch
    commits on its own: an interrupted run keeps what it finished.
    """
    queryset = Review.objects.all() if queryset is None else queryset
    total = queryset.count()
    done, last_pk = 0, 0
    while True:
        batch = list(
            queryset.select_related(None)
            .filter(pk__gt=last_pk)
            .order_by("pk")
            .only("pk", "title", "text", *REVIEW_SENTIMENT_FIELDS)[:batch_size]
        )
        if not batch:
            break
        for review in batch:
            _score(review)
        with transaction.atomic():
            Review.objects.bulk_update(batch, REVIEW_SENTIMENT_FIELDS)
        done += len(batch)
        last_pk = batch[-1].pk
        if progress is not None:
            progress(done, total)
    return done


def listing_rating_record(*, listing: Listing, value: Decimal | None, count: int | None) -> None:
    """The retailer's average rating as its page shows it (1-5 scale)."""
    if value is not None and not Decimal(1) <= value <= Decimal(5):
        value = None
    if (listing.rating_value, listing.rating_count) == (value, count):
        return  # most probes read the same figures again; no write for them
    Listing.objects.filter(pk=listing.pk).update(rating_value=value, rating_count=count)
    listing.rating_value, listing.rating_count = value, count


def _assign(instance: models.Model, data: Mapping[str, Any], *, allowed: Iterable[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise TypeError(f"{type(instance).__name__} has no editable fields {sorted(unknown)}")
    for field, value in data.items():
        setattr(instance, field, value)


def _update(
    instance: M, data: Mapping[str, Any], *, allowed: Iterable[str], exclude: Iterable[str] = ()
) -> M:
    _assign(instance, data, allowed=allowed)
    return _save(instance, exclude=exclude)


def _save(instance: M, *, exclude: Iterable[str] = ()) -> M:
    validate(instance, exclude=exclude)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        # Another request saved a clashing row between our check and our write; checking again
        # now names the field. Anything else is a bug and should stay loud.
        validate(instance, exclude=exclude)
        raise
    return instance


def validate(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """``full_clean()``, with each constraint's error put on the field the constraint is about.

    Django reports a CheckConstraint, and a UniqueConstraint over several fields, as an error
    of the whole object; a client filling in a form needs to know which field to fix.
    """
    exclude = set(exclude)
    errors: dict[str, list] = {}
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    for constraint in instance._meta.constraints:
        fields = constrained_fields(constraint)
        if fields & (exclude | errors.keys()):
            continue  # not ours to judge, or a field it tests is already wrong
        try:
            constraint.validate(type(instance), instance)
        except ValidationError as exc:
            errors.setdefault(field_at_fault(constraint), []).extend(exc.error_list)
    if errors:
        raise ValidationError(errors)


def constrained_fields(constraint: models.BaseConstraint) -> set[str]:
    if isinstance(constraint, models.UniqueConstraint):
        return set(constraint.fields)
    if isinstance(constraint, models.CheckConstraint):
        return {lookup.split("__")[0] for lookup in _lookups(constraint.condition)}
    return set()


def field_at_fault(constraint: models.BaseConstraint) -> str:
    """The field a violation is reported on.

    For a unique constraint that is its last field, the one that must be unique within the
    others (a reference within its brand, a retailer within a product's listings); for a check,
    the one field it tests. Anything else belongs to the whole object.
    """
    if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
        return constraint.fields[-1]
    fields = constrained_fields(constraint)
    if isinstance(constraint, models.CheckConstraint) and len(fields) == 1:
        return fields.pop()
    return NON_FIELD_ERRORS


def _lookups(condition: models.Q) -> Iterable[str]:
    for child in condition.children:
        if isinstance(child, models.Q):
            yield from _lookups(child)
        elif isinstance(child, tuple):
            yield child[0]
