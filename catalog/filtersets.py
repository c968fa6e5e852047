"""Filters for catalog lists, shared by the API and the HTML list pages."""

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.currencies import CURRENCY_CHOICES
from catalog.models import Brand, Listing, Product, Retailer, Review


# drf-spectacular looks for the slug at brand__slug__slug and gives up; the type is plain.
@extend_schema_field(OpenApiTypes.STR)
class SlugFilter(django_filters.ModelMultipleChoiceFilter):
    """Related objects named by slug; repeating the parameter matches any of them."""

    def __init__(self, related: str, queryset: QuerySet, **kwargs):
        super().__init__(
            field_name=f"{related}__slug", to_field_name="slug", queryset=queryset, **kwargs
        )


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label="Search name, reference, SKU and GTIN (contains, any case)"
    )
    brand = SlugFilter("brand", Brand.objects.all(), label="Brand slug, e.g. `rolex`")
    currency = django_filters.MultipleChoiceFilter(choices=CURRENCY_CHOICES)
    reference = django_filters.CharFilter(lookup_expr="iexact", label="Reference (any case)")

    class Meta:
        model = Product
        fields = ["q", "brand", "category", "currency", "reference"]

    def search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(reference__icontains=value)
            | Q(sku__icontains=value)
            | Q(gtin__icontains=value)
        )


class RetailerFilterSet(django_filters.FilterSet):
    class Meta:
        model = Retailer
        fields = ["retailer_type", "market_type"]


class ListingFilterSet(django_filters.FilterSet):
    retailer = SlugFilter("retailer", Retailer.objects.all(), label="Retailer slug")

    class Meta:
        model = Listing
        fields = ["product", "retailer", "available", "active"]


class ReviewFilterSet(django_filters.FilterSet):
    posted_after = django_filters.IsoDateTimeFilter(
        field_name="posted_at", lookup_expr="gte", label="Posted at or after (ISO 8601)"
    )
    posted_before = django_filters.IsoDateTimeFilter(
        field_name="posted_at", lookup_expr="lt", label="Posted before (ISO 8601)"
    )

    class Meta:
        model = Review
        fields = ["product", "rating", "source", "sentiment_label", "posted_after", "posted_before"]
