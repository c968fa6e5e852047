"""Alert rules merchandisers set up, the alerts they raise, and every delivery attempt.

Noise is the enemy: one ongoing condition is one alert, updated while it lasts; a rule fires when
a value crosses its threshold and re-arms only after the value has come back past the threshold
by a hysteresis margin; a cooldown keeps a flapping value from paging anyone twice in an hour.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class NotificationChannel(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Signed JSON webhook"
        APPRISE = "apprise", "Chat / SMS (Apprise URL: Slack, Teams, Telegram, SMS…)"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    target = models.CharField(
        max_length=500,
        help_text="Email addresses (comma-separated), a webhook URL, or an Apprise URL. Write "
        "secrets as ${ENV_NAME}: they are read from the environment when sending, never stored.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class AlertRule(models.Model):
    class Kind(models.TextChoices):
        PRICE_CHANGE = "price_change", "Our tracked price moved more than X%"
        COMPETITOR_DROP = "competitor_drop", "A competitor dropped more than X%"
        NEW_LOWEST_PRICE = "new_lowest_price", "A new lowest market price"
        MAP_VIOLATION = "map_violation", "A MAP violation opened"
        OUT_OF_STOCK = "out_of_stock", "Out of stock"
        BACK_IN_STOCK = "back_in_stock", "Back in stock"
        PROBE_FAILURES = "probe_failures", "A listing failing N probes in a row"
        RECOMMENDATION_WAITING = "recommendation_waiting", "A recommendation waiting N hours"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    active = models.BooleanField(default=True)
    # Scope: every field set must match; none set means everything.
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    brand = models.ForeignKey(
        "catalog.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.SlugField(max_length=64, blank=True)
    retailer = models.ForeignKey(
        "catalog.Retailer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    threshold = models.DecimalField(
        max_digits=9,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Percent kinds: a fraction (0.10 is 10%). Failures: probes in a row. "
        "Waiting: hours.",
    )
    hysteresis = models.DecimalField(
        max_digits=9,
        decimal_places=4,
        default=Decimal("0.02"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="How far back past the threshold a value must come before the rule re-arms "
        "(same unit as the threshold).",
    )
    cooldown = models.DurationField(
        default=timedelta(hours=1),
        help_text="No new alert from this rule for the same subject "
        "within this time of the last one.",
    )
    notify_on_close = models.BooleanField(
        default=False, help_text="MAP violations: also notify when the episode closes."
    )
    channels = models.ManyToManyField(NotificationChannel, blank=True, related_name="rules")
    digest = models.BooleanField(
        default=False, help_text="Bundle this rule's alerts into one daily message per channel."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RuleState(models.Model):
    """Per rule and subject: is the rule armed, and what value it measures changes against."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    subject = models.CharField(max_length=64, help_text='e.g. "listing:12" or "product:3".')
    armed = models.BooleanField(default=True)
    reference_value = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    last_value = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "subject"], name="rule_state_unique_subject")
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.subject}: {'armed' if self.armed else 'fired'}"


class Alert(models.Model):
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=32, choices=AlertRule.Kind.choices)
    dedup_key = models.CharField(
        max_length=200, help_text="One ongoing condition, one alert: rule, kind and subject."
    )
    title = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    listing = models.ForeignKey(
        "catalog.Listing", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    retailer = models.ForeignKey(
        "catalog.Retailer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    probe = models.ForeignKey(
        "scraping.Probe", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    map_violation = models.ForeignKey(
        "pricing.MapViolation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    recommendation = models.ForeignKey(
        "pricing.Recommendation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    triggered_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    occurrences = models.PositiveIntegerField(default=1)
    cleared_at = models.DateTimeField(
        null=True, blank=True, help_text="When the condition went away on its own."
    )
    resolved = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-triggered_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedup_key"],
                condition=Q(cleared_at__isnull=True, resolved=False),
                name="alert_one_ongoing_per_condition",
            )
        ]
        indexes = [models.Index(fields=["resolved", "-triggered_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return not self.resolved and self.cleared_at is None


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"
        DIGESTED = "digested", "Waiting for the daily digest"

    class Event(models.TextChoices):
        RAISED = "raised", "Alert raised"
        CLEARED = "cleared", "Condition cleared"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(
        NotificationChannel, on_delete=models.CASCADE, related_name="deliveries"
    )
    # notify_on_close sends a second message for the same alert and channel: the closing one.
    event = models.CharField(max_length=16, choices=Event.choices, default=Event.RAISED)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.alert} via {self.channel}: {self.status}"
