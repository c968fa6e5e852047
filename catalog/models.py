"""The catalog: what we sell (products of brands) and where it is sold (retailers, listings).

Seed 1's WATCHES and REVIEWS and seed 2's catalogs and catalog items meet here: a Retailer is
seed 2's "catalog" (seed 1's "marketplace"), a Listing is seed 2's "catalog item", one product
at one retailer.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from catalog.currencies import CURRENCY_CHOICES, CURRENCY_CODES

MONEY = {
    "max_digits": 12,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0"))],
}

gtin_validator = RegexValidator(r"^\d{8}$|^\d{12,14}$", "A GTIN has 8, 12, 13 or 14 digits.")
asin_validator = RegexValidator(r"^[A-Z0-9]{10}$", "An ASIN is 10 capital letters or digits.")


def currency_field(**kwargs) -> models.CharField:
    return models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="USD", **kwargs)


def valid_currency(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": CURRENCY_CODES}),
        name=name,
        violation_error_message=f"{field} must be an ISO 4217 currency code.",
    )


def not_negative(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}),
        name=name,
        violation_error_message=f"{field} must not be negative.",
    )


class Brand(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    website = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    reference = models.CharField(
        "reference / model number",
        max_length=64,
        help_text="The maker's reference, e.g. 126500LN for a Rolex Daytona.",
    )
    category = models.SlugField(
        "pricing category",
        max_length=64,
        blank=True,
        help_text='Pricing rules are keyed by it, e.g. "rolex_daytona".',
    )
    description = models.TextField(blank=True)
    currency = currency_field()
    msrp = models.DecimalField("MSRP", **MONEY, null=True, blank=True)
    cost = models.DecimalField(**MONEY, null=True, blank=True)
    list_price = models.DecimalField("our list price", **MONEY, null=True, blank=True)
    sku = models.CharField("SKU", max_length=64, blank=True, db_index=True)
    gtin = models.CharField(
        "GTIN / UPC / EAN", max_length=14, blank=True, validators=[gtin_validator], db_index=True
    )
    mpn = models.CharField("MPN", max_length=64, blank=True)
    asin = models.CharField("ASIN", max_length=10, blank=True, validators=[asin_validator])
    in_inventory_since = models.DateField(
        null=True, blank=True, help_text="When the item entered our stock; aging discounts use it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_scraped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["brand__name", "reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "reference"],
                name="product_unique_reference",
                violation_error_message="This brand already has a product with this reference.",
            ),
            not_negative("msrp", "product_msrp_not_negative"),
            not_negative("cost", "product_cost_not_negative"),
            not_negative("list_price", "product_list_price_not_negative"),
            valid_currency("currency", "product_currency_iso4217"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.reference} {self.name}"

    def identifiers(self) -> dict[str, str]:
        """The identifiers a retailer page may show, keyed by kind; empty ones left out."""
        values = {
            "sku": self.sku,
            "gtin": self.gtin,
            "mpn": self.mpn,
            "asin": self.asin,
            "reference": self.reference,
        }
        return {kind: value for kind, value in values.items() if value}


class Retailer(models.Model):
    class RetailerType(models.TextChoices):
        MARKETPLACE = "marketplace", "Marketplace (3P)"
        VENDOR = "vendor", "Vendor (1P)"

    class MarketType(models.TextChoices):
        OFFICIAL_BOUTIQUE = "official_boutique", "Official boutique"
        AUTHORIZED_DEALER = "authorized_dealer", "Authorized dealer"
        GRAY_MARKET = "gray_market", "Gray market"
        BIG_BOX = "big_box", "Big-box retailer"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    domain = models.CharField(max_length=253, help_text="Host name, e.g. www.chrono24.com")
    base_url = models.URLField()
    retailer_type = models.CharField(
        max_length=16, choices=RetailerType.choices, default=RetailerType.MARKETPLACE
    )
    market_type = models.CharField(
        max_length=32, choices=MarketType.choices, default=MarketType.AUTHORIZED_DEALER
    )
    map_percentage = models.DecimalField(
        "MAP percentage",
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.800"),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("1"))],
        help_text="MAP = MSRP x this share; 0.800 allows at most a 20% discount.",
    )
    external_price_checks_enabled = models.BooleanField(default=False)
    currency = currency_field()
    geo_location = models.CharField(
        max_length=32, blank=True, help_text="ZIP or country code probes ask for."
    )
    requests_per_minute = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(1)],
        help_text="Politeness: the most page requests a minute to this retailer.",
    )

    class FetchMethod(models.TextChoices):
        DEFAULT = "default", "The deployment's default (SCRAPING_TRANSPORT)"
        DIRECT = "direct", "Direct HTTP"
        PROVIDER = "provider", "Scraping provider"
        PROVIDER_RENDER = "provider_render", "Scraping provider, JavaScript rendered"
        BROWSER = "browser", "Local headless Chromium (JavaScript)"

    fetch_method = models.CharField(
        max_length=16,
        choices=FetchMethod.choices,
        default=FetchMethod.DEFAULT,
        help_text="How probes get this retailer's pages; pages built by JavaScript need a "
        "rendering method.",
    )
    extractor = models.CharField(
        max_length=32,
        default="generic",
        help_text='Which extractor reads its pages; "generic" works with selectors alone.',
    )
    selectors = models.JSONField(
        default=dict,
        blank=True,
        help_text='CSS selectors by field, e.g. {"price": ".product-price", "title": "h1"}.',
    )
    product_url_pattern = models.CharField(
        max_length=300,
        blank=True,
        help_text="Path or URL with {brand}, {reference}, {sku}, e.g. /watches/{brand}/{reference}",
    )
    search_url_pattern = models.CharField(
        max_length=300,
        blank=True,
        help_text="Search page with {query}, e.g. /search?q={query}; finds listings without a URL.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(map_percentage__gt=0) & Q(map_percentage__lte=1),
                name="retailer_map_percentage_range",
                violation_error_message="The MAP percentage must be above 0 and at most 1.",
            ),
            models.CheckConstraint(
                condition=Q(requests_per_minute__gte=1),
                name="retailer_requests_per_minute_min",
                violation_error_message="At least one request a minute.",
            ),
            valid_currency("currency", "retailer_currency_iso4217"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_vendor(self) -> bool:
        return self.retailer_type == self.RetailerType.VENDOR


class Listing(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="listings")
    retailer = models.ForeignKey(Retailer, on_delete=models.PROTECT, related_name="listings")
    url = models.URLField(max_length=1000, blank=True)
    retailer_item_id = models.CharField(
        max_length=64, blank=True, help_text="The retailer's own item id (SKU, ASIN, item number)."
    )
    currency = currency_field()
    last_price = models.DecimalField(**MONEY, null=True, blank=True)
    last_regular_price = models.DecimalField(**MONEY, null=True, blank=True)
    available = models.BooleanField(
        null=True, blank=True, help_text="Unknown until a probe reads the page."
    )
    last_probed_at = models.DateTimeField(null=True, blank=True)
    last_probe_status = models.CharField(
        max_length=20, blank=True, help_text="How the latest probe ended (success, blocked, …)."
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    rating_value = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("5"))],
        help_text="The retailer's average rating, on a 1-5 scale, as its page last showed it.",
    )
    rating_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many ratings or reviews that average is over."
    )
    # A worker probing this listing holds it until then; see scraping.services.listing_claim.
    probe_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "retailer"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "retailer"],
                name="listing_one_per_product_retailer",
                violation_error_message="This product already has a listing at this retailer.",
            ),
            not_negative("last_price", "listing_last_price_not_negative"),
            not_negative("last_regular_price", "listing_last_regular_price_not_negative"),
            valid_currency("currency", "listing_currency_iso4217"),
        ]

    def __str__(self) -> str:
        return f"{self.product} at {self.retailer}"


class Review(models.Model):
    class Sentiment(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    source = models.CharField(max_length=100, help_text="Where it was read: a retailer, a forum.")
    external_id = models.CharField(
        max_length=128, blank=True, help_text="The source's own id; keeps re-imports single."
    )
    author = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200, blank=True, help_text="The review's headline.")
    text = models.TextField()
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    posted_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Scored from the words alone (catalog.sentiment), never from the rating.
    sentiment_label = models.CharField(
        max_length=8, choices=Sentiment.choices, blank=True, db_index=True
    )
    sentiment_score = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-1), MaxValueValidator(1)],
        help_text="-1 most negative to +1 most positive.",
    )
    sentiment_scorer = models.CharField(
        max_length=40, blank=True, help_text="Which scorer and version gave the label."
    )

    class Meta:
        ordering = ["-posted_at"]
        indexes = [models.Index(fields=["product", "posted_at"], name="review_product_posted")]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5),
                name="review_rating_1_to_5",
                violation_error_message="A rating is 1 to 5 stars.",
            ),
            models.UniqueConstraint(
                fields=["product", "source", "external_id"],
                condition=~Q(external_id=""),
                name="review_unique_per_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.product} from {self.source}"
