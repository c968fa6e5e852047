"""Writes to the catalog: the API calls these, and other interfaces (admin, commands) should.

Every write is validated against the model, its constraints included, before it reaches the
database, and a constraint the database still refuses (two requests racing) is reported the same
way: a ValidationError naming the field at fault, never an IntegrityError.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction

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
    external_id: str = "",
) -> Review:
    review = Review(
        product=product,
        source=source,
        text=text,
        rating=rating,
        posted_at=posted_at,
        author=author,
        external_id=external_id,
    )
    return _save(review)


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
