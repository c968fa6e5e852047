from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery

from catalog.models import Listing, Product


def product_list_with_market() -> QuerySet[Product]:
    """Products with how many listings they have and the lowest in-stock market price.

    The lowest price only counts listings in the product's own currency: comparing a CHF price
    with a USD one would need a rate we do not keep.
    """
    lowest = (
        Listing.objects.filter(
            product=OuterRef("pk"),
            active=True,
            available=True,
            last_price__isnull=False,
            currency=OuterRef("currency"),
        )
        .order_by("last_price")
        .values("last_price")[:1]
    )
    # An aggregate drops Meta.ordering; pages need a stable order, so it is restated.
    return (
        Product.objects.select_related("brand")
        .annotate(
            listing_count=Count("listings", filter=Q(listings__active=True), distinct=True),
            lowest_market_price=Subquery(lowest),
        )
        .order_by(*Product._meta.ordering)
    )


def lowest_market_price(*, product: Product):
    return Listing.objects.filter(
        product=product,
        active=True,
        available=True,
        last_price__isnull=False,
        currency=product.currency,
    ).aggregate(lowest=Min("last_price"))["lowest"]
