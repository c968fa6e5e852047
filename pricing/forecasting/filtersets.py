import django_filters

from pricing.models import ForecastModelRun, ListingForecast


class ForecastFilterSet(django_filters.FilterSet):
    listing = django_filters.NumberFilter(field_name="listing_id")
    product = django_filters.NumberFilter(field_name="listing__product_id")
    horizon = django_filters.NumberFilter(field_name="horizon_days")
    shown = django_filters.BooleanFilter(field_name="beats_baseline")

    class Meta:
        model = ListingForecast
        fields = ["listing", "product", "horizon", "shown"]


class ForecastModelRunFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ForecastModelRun.Status.choices)

    class Meta:
        model = ForecastModelRun
        fields = ["status"]
