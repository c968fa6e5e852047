import django_filters

from catalog.models import Listing
from pricing.models import MapViolation, Recommendation


class CurrentPriceFilterSet(django_filters.FilterSet):
    product = django_filters.NumberFilter(field_name="product_id")
    retailer = django_filters.CharFilter(field_name="retailer__slug")
    brand = django_filters.CharFilter(field_name="product__brand__slug")
    available = django_filters.BooleanFilter()

    class Meta:
        model = Listing
        fields = ["product", "retailer", "brand", "available"]


class RecommendationFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Recommendation.Status.choices)
    product = django_filters.NumberFilter(field_name="product_id")
    brand = django_filters.CharFilter(field_name="product__brand__slug")
    category = django_filters.CharFilter(field_name="product__category")

    class Meta:
        model = Recommendation
        fields = ["status", "product", "brand", "category"]


class MapViolationFilterSet(django_filters.FilterSet):
    open = django_filters.BooleanFilter(field_name="closed_at", lookup_expr="isnull")
    retailer = django_filters.CharFilter(field_name="listing__retailer__slug")
    brand = django_filters.CharFilter(field_name="listing__product__brand__slug")
    opened_after = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = MapViolation
        fields = ["open", "retailer", "brand"]
