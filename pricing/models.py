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
        help_text="Undercut or match this retailer; empty: the cheapest in-stock competitor.",
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
        "or minimum margin.",
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
