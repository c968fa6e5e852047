import django_filters

from catalog.models import Listing, Product
from pricing.forecasting.pipeline import HORIZONS
from pricing.models import ForecastModelRun, ListingForecast


class ForecastFilterSet(django_filters.FilterSet):
    # Model choices rather than numbers: an unknown or out-of-range id is a 400 naming the
    # field, not a database overflow.
    listing = django_filters.ModelChoiceFilter(queryset=Listing.objects.all())
    product = django_filters.ModelChoiceFilter(
        field_name="listing__product", queryset=Product.objects.all()
    )
    horizon = django_filters.TypedChoiceFilter(
        field_name="horizon_days",
        choices=[(str(days), f"{days} days") for days in HORIZONS],
        coerce=int,
    )
    shown = django_filters.BooleanFilter(field_name="beats_baseline")

    class Meta:
        model = ListingForecast
        fields = ["listing", "product", "horizon", "shown"]


class ForecastModelRunFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ForecastModelRun.Status.choices)

    class Meta:
        model = ForecastModelRun
        fields = ["status"]
