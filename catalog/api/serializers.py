"""The shape of the catalog API. Checking input against the domain is the services' job.

Each serializer sets ``validators = []``: DRF would report a unique constraint over several
fields as a ``non_field_errors`` message, whereas the service names the field at fault.
"""

from decimal import Decimal

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import MONEY, Brand, Listing, Product, Retailer, Review


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^\d{1,10}(?:\.\d{1,2})?$",
        "example": "9500.00",
    }
)
class MoneyField(serializers.DecimalField):
    """An amount in the `currency` beside it: a string, so no float touches it, and never
    negative (the database refuses that too; saying so here names every bad field at once)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(**kwargs)


MONEY_FIELDS = serializers.ModelSerializer.serializer_field_mapping | {
    models.DecimalField: MoneyField
}


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name", "slug", "website"]


class WatchSerializer(serializers.ModelSerializer):
    serializer_field_mapping = MONEY_FIELDS
    brand = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Brand.objects.all(),
        help_text="The brand's slug, e.g. `rolex`; writes name the brand by it too.",
    )
    brand_name = serializers.CharField(source="brand.name", read_only=True)
    listing_count = serializers.IntegerField(
        read_only=True, help_text="How many active listings the watch has."
    )
    lowest_market_price = MoneyField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text=(
            "The lowest last price among active, in-stock listings in the watch's own "
            "`currency`; null when there is none."
        ),
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "brand",
            "brand_name",
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
            "created_at",
            "updated_at",
            "last_scraped_at",
            "listing_count",
            "lowest_market_price",
        ]
        read_only_fields = ["last_scraped_at"]
        validators = []


class RetailerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Retailer
        fields = [
            "id",
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
            "search_url_pattern",
            "fetch_method",
            "created_at",
            "updated_at",
        ]
        validators = []


class ListingSerializer(serializers.ModelSerializer):
    serializer_field_mapping = MONEY_FIELDS
    retailer = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Retailer.objects.all(),
        help_text="The retailer's slug, e.g. `chrono24`.",
    )
    # A rating, not money: the plain decimal field, not MoneyField.
    rating_value = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="The retailer's average rating (1-5) as its page last showed it.",
    )

    class Meta:
        model = Listing
        fields = [
            "id",
            "product",
            "retailer",
            "url",
            "retailer_item_id",
            "currency",
            "last_price",
            "last_regular_price",
            "available",
            "last_probed_at",
            "last_success_at",
            "rating_value",
            "rating_count",
            "active",
            "created_at",
            "updated_at",
        ]
        # What a probe observes is recorded by scraping, so the ledger sees every price.
        read_only_fields = [
            "last_price",
            "last_regular_price",
            "available",
            "last_probed_at",
            "last_success_at",
            "rating_value",
            "rating_count",
        ]
        extra_kwargs = {
            "product": {"help_text": "The watch's id."},
            "currency": {"help_text": "ISO 4217 code; the retailer's currency when left out."},
        }
        validators = []


class ReviewSerializer(serializers.ModelSerializer):
    external_id = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        help_text=(
            "The source's own id for the review. Left out, it is a fingerprint of author, day "
            "and words. A review already recorded for the same watch and source with the same "
            "id is refused with a 400 naming `external_id`."
        ),
    )

    class Meta:
        model = Review
        fields = [
            "id",
            "product",
            "source",
            "external_id",
            "author",
            "title",
            "text",
            "rating",
            "posted_at",
            "created_at",
            "sentiment_label",
            "sentiment_score",
            "sentiment_scorer",
        ]
        # The sentiment is scored from the words on every write; clients do not send it.
        read_only_fields = ["sentiment_label", "sentiment_score", "sentiment_scorer"]
        extra_kwargs = {
            "product": {"help_text": "The watch's id."},
            "sentiment_label": {"help_text": "positive, neutral or negative, from the words."},
            "sentiment_score": {"help_text": "-1 (most negative) to +1 (most positive)."},
        }
        validators = []


class SentimentMonthSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="The first day of the calendar month (UTC).")
    reviews = serializers.IntegerField()
    positive = serializers.IntegerField()
    neutral = serializers.IntegerField()
    negative = serializers.IntegerField()
    average_score = serializers.FloatField(allow_null=True)
    average_rating = serializers.FloatField(allow_null=True)


class ProductSentimentSerializer(serializers.Serializer):
    reviews = serializers.IntegerField(help_text="Every review of the watch.")
    positive = serializers.IntegerField()
    neutral = serializers.IntegerField()
    negative = serializers.IntegerField()
    unscored = serializers.IntegerField(help_text="Reviews not scored yet (see rescore_reviews).")
    average_score = serializers.FloatField(
        allow_null=True, help_text="Mean sentiment score, -1 to +1; null without reviews."
    )
    average_rating = serializers.FloatField(allow_null=True, help_text="Mean star rating, 1-5.")
    scorer = serializers.CharField(help_text="The scorer new reviews are labelled with.")
    months = SentimentMonthSerializer(many=True, help_text="Oldest month first.")
