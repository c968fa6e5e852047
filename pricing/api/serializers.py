from decimal import Decimal

from rest_framework import serializers

from catalog.currencies import CURRENCY_CODES
from catalog.models import Listing, Retailer
from pricing.forecasting.selectors import forecast_hidden_reason
from pricing.models import ForecastModelRun, ListingForecast, MapViolation, Recommendation


class CurrentPriceSerializer(serializers.ModelSerializer):
    """Seed 1's PRICES row: what a retailer charges now, as last read successfully."""

    listing = serializers.IntegerField(source="pk", read_only=True)
    product_reference = serializers.CharField(source="product.reference", read_only=True)
    brand = serializers.CharField(source="product.brand.name", read_only=True)
    retailer = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    price = serializers.DecimalField(
        source="last_price", max_digits=12, decimal_places=2, read_only=True
    )
    regular_price = serializers.DecimalField(
        source="last_regular_price", max_digits=12, decimal_places=2, read_only=True
    )
    observed_at = serializers.DateTimeField(source="last_success_at", read_only=True)

    class Meta:
        model = Listing
        fields = [
            "listing",
            "product",
            "product_reference",
            "brand",
            "retailer",
            "price",
            "regular_price",
            "currency",
            "available",
            "observed_at",
            "url",
        ]
        read_only_fields = fields


class PricePointSerializer(serializers.Serializer):
    """A price an integration reports. Name the listing, or the product and the retailer."""

    listing = serializers.PrimaryKeyRelatedField(
        queryset=Listing.objects.select_related("retailer", "product"), required=False
    )
    product = serializers.IntegerField(required=False, min_value=1)
    retailer = serializers.SlugRelatedField(
        slug_field="slug", queryset=Retailer.objects.all(), required=False
    )
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    regular_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True
    )
    currency = serializers.ChoiceField(choices=CURRENCY_CODES)
    available = serializers.BooleanField(required=False, allow_null=True, default=None)
    source_url = serializers.URLField(required=False, allow_blank=True, default="")

    def validate(self, data):
        listing = data.get("listing")
        if listing is None:
            product, retailer = data.get("product"), data.get("retailer")
            if product is None or retailer is None:
                raise serializers.ValidationError(
                    {"listing": "Give the listing, or both product and retailer."}
                )
            listing = (
                Listing.objects.select_related("retailer", "product")
                .filter(product_id=product, retailer=retailer)
                .first()
            )
            if listing is None:
                raise serializers.ValidationError(
                    {"listing": f"Product {product} has no listing at {retailer.slug}."}
                )
        if not listing.active:
            raise serializers.ValidationError({"listing": "This listing is not active."})
        if data["currency"] != listing.currency:
            raise serializers.ValidationError(
                {"currency": f"The listing is priced in {listing.currency}."}
            )
        data["listing"] = listing
        return data


class RecommendationSerializer(serializers.ModelSerializer):
    product_reference = serializers.CharField(source="product.reference", read_only=True)
    brand = serializers.CharField(source="product.brand.name", read_only=True)
    delta = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "product",
            "product_reference",
            "brand",
            "status",
            "currency",
            "current_price",
            "recommended_price",
            "delta",
            "explanation",
            "warnings",
            "created_at",
            "decided_by",
            "decided_at",
            "applied_at",
            "ledger_seq",
        ]
        read_only_fields = fields


class BulkDecisionSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False)
    decision = serializers.ChoiceField(choices=["approve", "reject"])


class BulkDecisionResultSerializer(serializers.Serializer):
    decided = RecommendationSerializer(many=True)
    refused = serializers.DictField(child=serializers.CharField())


class MapViolationSerializer(serializers.ModelSerializer):
    retailer = serializers.CharField(source="listing.retailer.slug", read_only=True)
    product = serializers.IntegerField(source="listing.product_id", read_only=True)
    product_reference = serializers.CharField(source="listing.product.reference", read_only=True)
    brand = serializers.CharField(source="listing.product.brand.name", read_only=True)
    url = serializers.CharField(source="listing.url", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    evidence = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = MapViolation
        fields = [
            "id",
            "listing",
            "retailer",
            "product",
            "product_reference",
            "brand",
            "url",
            "currency",
            "map_price",
            "lowest_price",
            "last_price",
            "opened_at",
            "closed_at",
            "is_open",
            "opening_probe",
            "closing_probe",
            "evidence",
            "opened_ledger_seq",
            "closed_ledger_seq",
        ]
        read_only_fields = fields


FORECAST_NUMBERS = ("expected_price", "interval_low", "interval_high", "drop_probability")


class ForecastSerializer(serializers.ModelSerializer):
    """A listing's forecast. When its model did not beat the last-value baseline at this
    horizon, `shown` is false, the numbers are null and `hidden_reason` says why."""

    product = serializers.IntegerField(source="listing.product_id", read_only=True)
    retailer = serializers.CharField(source="listing.retailer.slug", read_only=True)
    model_version = serializers.IntegerField(source="model_run.version", read_only=True)
    drop_threshold = serializers.DecimalField(
        source="model_run.drop_threshold", max_digits=7, decimal_places=6, read_only=True
    )
    shown = serializers.BooleanField(source="beats_baseline", read_only=True)
    expected_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    interval_low = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    interval_high = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    drop_probability = serializers.DecimalField(
        max_digits=7,
        decimal_places=6,
        read_only=True,
        allow_null=True,
        help_text="Chance of a fall of at least drop_threshold within the horizon.",
    )
    hidden_reason = serializers.SerializerMethodField()

    class Meta:
        model = ListingForecast
        fields = [
            "id",
            "listing",
            "product",
            "retailer",
            "horizon_days",
            "shown",
            "hidden_reason",
            "currency",
            "base_price",
            "origin_date",
            "expected_price",
            "interval_low",
            "interval_high",
            "drop_threshold",
            "drop_probability",
            "model_version",
            "generated_at",
        ]
        read_only_fields = fields

    def get_hidden_reason(self, forecast: ListingForecast) -> str:
        return forecast_hidden_reason(forecast)

    def to_representation(self, forecast: ListingForecast) -> dict:
        data = super().to_representation(forecast)
        if not forecast.beats_baseline:
            data |= dict.fromkeys(FORECAST_NUMBERS)
        return data


class ForecastModelRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ForecastModelRun
        fields = [
            "id",
            "version",
            "status",
            "source",
            "trained_at",
            "finished_at",
            "horizons",
            "drop_threshold",
            "window_start",
            "window_end",
            "series_count",
            "price_days",
            "features",
            "parameters",
            "metrics",
            "beaten_horizons",
            "notes",
            "error",
        ]
        read_only_fields = fields
