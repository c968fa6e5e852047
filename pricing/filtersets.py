import django_filters

from catalog.models import Listing


class CurrentPriceFilterSet(django_filters.FilterSet):
    product = django_filters.NumberFilter(field_name="product_id")
    retailer = django_filters.CharFilter(field_name="retailer__slug")
    brand = django_filters.CharFilter(field_name="product__brand__slug")
    available = django_filters.BooleanFilter()

    class Meta:
        model = Listing
        fields = ["product", "retailer", "brand", "available"]
