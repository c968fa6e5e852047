"""Pricing rules merchandisers manage, the recommendations they produce, and MAP enforcement."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

MONEY = {"max_digits": 12, "decimal_places": 2}
SHARE = {
    "max_digits": 7,
    "decimal_places": 6,
    "validators": [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
}


class PricingRule(models.Model):
    """One step of the pricing engine, scoped to the products it applies to.

    Price-setting rules (undercut, match, aging) run in ascending priority; rounding runs after
    them; floors and ceilings bound the result last, whatever their priority.
    """

    class Kind(models.TextChoices):
        UNDERCUT = "undercut", "Undercut a competitor by an amount"
        MATCH_MINUS_PERCENT = "match_minus_percent", "Match a competitor minus a percentage"
        AGING_DISCOUNT = "aging_discount", "Aging-inventory discount"
        FLOOR_MARGIN = "floor_margin", "Floor: minimum margin over cost"
        FLOOR_MAP = "floor_map", "Floor: never below MAP"
        FLOOR_FIXED = "floor_fixed", "Floor: never below a fixed price"
        CEILING_MSRP = "ceiling_msrp", "Ceiling: never above MSRP"
        ROUNDING = "rounding", "Price ending / rounding"
        HOLD_ON_FORECAST_REVERT = (
            "hold_on_forecast_revert",
            "Hold when a competitor's drop is forecast to revert",
        )

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    priority = models.PositiveIntegerField(
        default=100, help_text="Lower runs first among the price-setting rules."
    )
    active = models.BooleanField(default=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    # Scope: every field set must match; none set means the whole catalog.
    category = models.SlugField(max_length=64, blank=True)
    brand = models.ForeignKey(
        "catalog.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    competitor = models.ForeignKey(
        "catalog.Retailer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Undercut or match this retailer; empty: the cheapest in-stock competitor. "
        "Hold on forecast: only when following this retailer; empty: any.",
    )
    # Parameters; which ones a kind uses is checked in clean() and shown in the admin.
    amount = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Undercut amount, or the fixed floor price.",
    )
    percent = models.DecimalField(
        **SHARE,
        null=True,
        blank=True,
        help_text="As a fraction: 0.05 is 5%. Match discount, aging discount per 30 days, "
        "minimum margin, or how far above the competitor's price its 7-day forecast must be "
        "to hold.",
    )
    days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Aging: days in inventory before the discount starts."
    )
    cap = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Aging: at most this many 30-day steps (seed 1: 3)."
    )
    round_to = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Rounding: to the nearest multiple of this, e.g. 10.",
    )
    ending = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Rounding: end in this, e.g. 9 with round_to 10 gives 12,349.",
    )
    allow_above_msrp = models.BooleanField(
        default=False, help_text="Ceiling: let the price go above MSRP."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gt=models.F("valid_from")),
                name="pricing_rule_valid_window",
                violation_error_message="The rule must end after it starts.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class MapPolicy(models.Model):
    """A product's own MAP, overriding MSRP x the retailer's MAP percentage."""

    product = models.OneToOneField(
        "catalog.Product", on_delete=models.CASCADE, related_name="map_policy"
    )
    map_price = models.DecimalField(
        "MAP price", **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    note = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "MAP override"
        constraints = [
            models.CheckConstraint(
                condition=Q(map_price__gte=0), name="map_policy_price_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"MAP {self.map_price} for {self.product}"


class Recommendation(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        APPLIED = "applied", "Applied"
        SUPERSEDED = "superseded", "Superseded"

    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="recommendations"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    current_price = models.DecimalField(**MONEY, null=True, blank=True)
    recommended_price = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    explanation = models.JSONField(
        default=dict, help_text="Every step, the bound that applied, the observations used."
    )
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    ledger_seq = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # At most one open proposal per product: recomputing replaces it.
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(status="proposed"),
                name="recommendation_one_open_per_product",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product}: {self.recommended_price} ({self.status})"

    @property
    def delta(self) -> Decimal | None:
        if self.current_price is None:
            return None
        return self.recommended_price - self.current_price


class MapViolation(models.Model):
    """One episode of a listing advertised below MAP: opened by a probe, closed by a later one."""

    listing = models.ForeignKey(
        "catalog.Listing", on_delete=models.CASCADE, related_name="map_violations"
    )
    map_price = models.DecimalField("MAP price", **MONEY)
    currency = models.CharField(max_length=3)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    lowest_price = models.DecimalField(**MONEY)
    last_price = models.DecimalField(**MONEY)
    opening_probe = models.ForeignKey("scraping.Probe", on_delete=models.PROTECT, related_name="+")
    closing_probe = models.ForeignKey(
        "scraping.Probe", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evidence = models.ManyToManyField(
        "scraping.Probe", related_name="map_violations", help_text="Every probe below MAP."
    )
    opened_ledger_seq = models.PositiveBigIntegerField(null=True, blank=True)
    closed_ledger_seq = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing"],
                condition=Q(closed_at__isnull=True),
                name="map_violation_one_open_per_listing",
            )
        ]
        indexes = [models.Index(fields=["closed_at", "-opened_at"])]

    def __str__(self) -> str:
        return f"MAP violation at {self.listing} since {self.opened_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ForecastModelRun(models.Model):
    """One training of the price forecasts: its data, its metrics against the naive baselines,
    and whether it beat last value at each horizon. Failed runs are kept with their error."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        PROBES = "probes", "Probe history"
        DEMO = "demo", "Demo marketplace's simulated history"

    version = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.PROBES)
    trained_at = models.DateTimeField(help_text="When training started.")
    finished_at = models.DateTimeField(null=True, blank=True)
    horizons = models.JSONField(default=list, help_text="Days ahead, e.g. [7, 30].")
    drop_threshold = models.DecimalField(
        **SHARE, help_text="A drop is a fall of at least this share: 0.05 is 5%."
    )
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    series_count = models.PositiveIntegerField(default=0, help_text="Listings with a history.")
    price_days = models.PositiveIntegerField(default=0, help_text="Listing-days with a price.")
    features = models.JSONField(default=list)
    parameters = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per horizon: MAE and MASE of the model and both baselines, interval "
        "coverage, drop Brier score, rows and folds of the cross-validation.",
    )
    beaten_horizons = models.JSONField(
        default=list, blank=True, help_text="Horizons where the model beat the last value."
    )
    notes = models.JSONField(
        default=dict, blank=True, help_text="Per horizon: why it is not shown."
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"forecast model v{self.version} ({self.status})"


class ListingForecast(models.Model):
    """A listing's expected price some days ahead, as one model run forecast it.

    A forecast whose horizon the model did not win against the last value is stored (so anyone
    can check the record) but never shown or used: `beats_baseline` says which.
    """

    model_run = models.ForeignKey(
        ForecastModelRun, on_delete=models.CASCADE, related_name="forecasts"
    )
    listing = models.ForeignKey(
        "catalog.Listing", on_delete=models.CASCADE, related_name="price_forecasts"
    )
    horizon_days = models.PositiveSmallIntegerField()
    origin_date = models.DateField(help_text="The last day of history the forecast starts from.")
    base_price = models.DecimalField(**MONEY, help_text="The price on the origin date.")
    expected_price = models.DecimalField(**MONEY)
    interval_low = models.DecimalField(**MONEY)
    interval_high = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    drop_probability = models.DecimalField(
        **SHARE, help_text="Chance of a drop of at least the run's threshold within the horizon."
    )
    beats_baseline = models.BooleanField()
    generated_at = models.DateTimeField()

    class Meta:
        ordering = ["listing_id", "horizon_days"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_run", "listing", "horizon_days"],
                name="forecast_one_per_run_listing_horizon",
            )
        ]

    def __str__(self) -> str:
        return f"{self.listing} in {self.horizon_days} days: {self.expected_price}"


# --- Market dashboard rollups ---------------------------------------------------------------
# Derived data, rebuilt by pricing.market.services.market_rollups_refresh(): the dashboard reads
# these instead of aggregating two million probes per render. References to catalog rows carry no
# database constraint and cascade nothing: a deleted product or listing drops out of the reads
# (they join the live tables) and out of the rows at the next refresh.
DERIVED = {"on_delete": models.DO_NOTHING, "db_constraint": False, "related_name": "+"}


class MarketRefresh(models.Model):
    """One refresh of the market rollups: the moment its numbers are exact as of."""

    computed_at = models.DateTimeField(db_index=True, help_text="The numbers are as of this.")
    finished_at = models.DateTimeField()
    days_from = models.DateField(
        null=True, blank=True, help_text="First day recomputed; empty: every day (full)."
    )
    products = models.PositiveIntegerField(default=0)
    probe_days = models.PositiveIntegerField(default=0, help_text="Day rows recomputed.")
    moves = models.PositiveIntegerField(default=0)
    seconds = models.JSONField(default=dict, help_text="Time per rollup.")
    error = models.TextField(
        blank=True,
        help_text="Why the refresh stopped; empty when it finished. A failed refresh may have "
        "replaced some rollups: the next one recomputes from the last finished refresh.",
    )

    class Meta:
        ordering = ["-computed_at"]
        get_latest_by = "computed_at"
        verbose_name = "market rollup refresh"

    def __str__(self) -> str:
        outcome = " (failed)" if self.error else ""
        return f"Market rollups as of {self.computed_at:%Y-%m-%d %H:%M} UTC{outcome}"


class MarketProductSnapshot(models.Model):
    """A product against the market at the refresh: the where-we-stand query's row, stored."""

    product = models.OneToOneField("catalog.Product", primary_key=True, **DERIVED)
    brand = models.ForeignKey("catalog.Brand", **DERIVED)
    category = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=3)
    our_price = models.DecimalField(null=True, **MONEY)
    lowest = models.DecimalField(null=True, **MONEY)
    median = models.FloatField(null=True)
    highest = models.DecimalField(null=True, **MONEY)
    competitors = models.PositiveIntegerField(null=True)
    gap = models.FloatField(null=True, help_text="Percent of our price above the median.")
    distance = models.FloatField(null=True, help_text="|gap|: the top gaps read an index.")
    place = models.CharField(max_length=16)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["brand", "category"]),
            models.Index(fields=["category"]),
            models.Index(fields=["-distance", "product"], name="market_snapshot_top_gap"),
        ]

    def __str__(self) -> str:
        return f"Product {self.product_id} against the market"


class MarketProbeDay(models.Model):
    """Finished probes of one UTC day at one retailer for one brand and category, by outcome."""

    day = models.DateField()
    retailer = models.ForeignKey("catalog.Retailer", **DERIVED)
    brand = models.ForeignKey("catalog.Brand", **DERIVED)
    category = models.CharField(max_length=64, blank=True)
    success = models.PositiveIntegerField(default=0)
    blocked = models.PositiveIntegerField(default=0)
    mismatch = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    no_price = models.PositiveIntegerField(default=0)
    other = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "retailer", "brand", "category"], name="market_probe_day_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Probes on {self.day} at retailer {self.retailer_id}"


class MarketTrendDay(models.Model):
    """Successful probes of one UTC day for one brand and category, as a market index sum.

    Not per retailer: a product is counted once a day however many retailers priced it, and a
    product has one brand and one category, so these rows add up to the day's distinct products.
    """

    day = models.DateField()
    brand = models.ForeignKey("catalog.Brand", **DERIVED)
    category = models.CharField(max_length=64, blank=True)
    observations = models.PositiveIntegerField()
    index_sum = models.FloatField(help_text="Sum of 100 x price / our list price.")
    products = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "brand", "category"], name="market_trend_day_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Market trend on {self.day}"


class MarketMove(models.Model):
    """A listing whose price changed over a preset range ending on the refresh's day."""

    preset = models.PositiveSmallIntegerField(help_text="Days in the range: 7, 30 or 90.")
    listing = models.ForeignKey("catalog.Listing", **DERIVED)
    product = models.ForeignKey("catalog.Product", **DERIVED)
    brand = models.ForeignKey("catalog.Brand", **DERIVED)
    category = models.CharField(max_length=64, blank=True)
    retailer = models.ForeignKey("catalog.Retailer", **DERIVED)
    currency = models.CharField(max_length=3)
    first_price = models.DecimalField(**MONEY)
    last_price = models.DecimalField(**MONEY)
    change = models.FloatField(help_text="Percent from the first price to the last.")
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["preset", "listing"], name="market_move_unique")
        ]
        indexes = [
            models.Index(fields=["preset", "-change", "listing"], name="market_move_up"),
            models.Index(fields=["preset", "change", "listing"], name="market_move_down"),
        ]

    def __str__(self) -> str:
        return f"Listing {self.listing_id} over {self.preset} days"


class MarketStandingSummary(models.Model):
    """The snapshot's counts for one brand and category, so a render adds up ~160 rows, not
    100,000: products by place, and the sum and count of the gaps for the mean index."""

    brand = models.ForeignKey("catalog.Brand", **DERIVED)
    category = models.CharField(max_length=64, blank=True)
    products = models.PositiveIntegerField()
    without_price = models.PositiveIntegerField()
    cheapest = models.PositiveIntegerField()
    within = models.PositiveIntegerField()
    above = models.PositiveIntegerField()
    no_market = models.PositiveIntegerField()
    gap_sum = models.FloatField(null=True)
    gaps = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Standing of brand {self.brand_id}, {self.category or 'no category'}"


class MarketRetailerListings(models.Model):
    """Active listings of one retailer for one brand and category at the refresh: the
    denominator of the MAP section's share of listings."""

    retailer = models.ForeignKey("catalog.Retailer", **DERIVED)
    brand = models.ForeignKey("catalog.Brand", **DERIVED)
    category = models.CharField(max_length=64, blank=True)
    listings = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.listings} listings at retailer {self.retailer_id}"
