"""Probes: every attempt to read a listing's page, what it found, and the page as evidence."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Probe(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCESS = "success", "Success"
        NO_PRICE = "no_price", "No buyable price"
        PRICE_HIDDEN = "price_hidden", "Price hidden until cart"
        FAILED = "failed", "Failed"
        NOT_FOUND = "not_found", "Not found"
        BLOCKED = "blocked", "Blocked"
        IDENTITY_MISMATCH = "identity_mismatch", "Identity mismatch"

    class Transport(models.TextChoices):
        DIRECT = "direct", "Direct HTTP"
        PROVIDER_REALTIME = "provider_realtime", "Provider, realtime"
        PROVIDER_BATCH = "provider_batch", "Provider, batch"
        BROWSER = "browser", "Local headless browser"
        INTEGRATION = "integration", "Reported by an integration"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Probe Now"
        API = "api", "API"
        COMMAND = "command", "Command line"

    listing = models.ForeignKey("catalog.Listing", on_delete=models.CASCADE, related_name="probes")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULE)
    transport = models.CharField(max_length=20, choices=Transport.choices, default=Transport.DIRECT)
    extractor = models.CharField(max_length=32, blank=True)
    url = models.URLField("URL asked", max_length=1000)
    final_url = models.URLField(max_length=1000, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    regular_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    product_available = models.BooleanField(null=True, blank=True)
    page_accessible = models.BooleanField(default=False)
    error_message = models.TextField(blank=True)
    raw_title = models.CharField(max_length=500, blank=True)
    geo_location = models.CharField(max_length=32, blank=True)
    identity_matched_on = models.CharField(max_length=32, blank=True)
    sources = models.JSONField(default=dict, blank=True, help_text="Which source gave each field.")
    disagreements = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    body_sha256 = models.CharField("SHA-256 of the page", max_length=64, blank=True)
    ledger_seq = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The ledger entry recording this observation."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["listing", "-created_at"]),
            models.Index(fields=["status", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="success") | Q(price__isnull=True),
                name="probe_price_only_on_success",
                violation_error_message="Only a successful probe carries a price.",
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0) & Q(regular_price__gte=0)
                | Q(price__isnull=True)
                | Q(regular_price__isnull=True),
                name="probe_prices_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"probe {self.pk} of {self.listing_id}: {self.status}"


class ProbePage(models.Model):
    """The page a probe read, zlib-compressed: evidence for MAP violations and disputes."""

    probe = models.OneToOneField(Probe, on_delete=models.CASCADE, related_name="page")
    body = models.BinaryField()
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(help_text="Uncompressed size in bytes.")
    sha256 = models.CharField(max_length=64)
    pinned = models.BooleanField(
        default=False, help_text="Kept past the retention period (evidence of a MAP violation)."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"page of probe {self.probe_id}"


class ProviderJob(models.Model):
    """A page requested from the scraping provider's batch (push-pull) API."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    job_id = models.CharField(max_length=64, unique=True)
    listing = models.ForeignKey(
        "catalog.Listing", on_delete=models.CASCADE, related_name="provider_jobs"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    probe = models.OneToOneField(
        Probe, null=True, blank=True, on_delete=models.SET_NULL, related_name="provider_job"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "submitted_at"])]

    def __str__(self) -> str:
        return f"provider job {self.job_id} ({self.status})"


class ProviderCallback(models.Model):
    """Every callback the provider sent, kept as received, whatever became of it."""

    class Outcome(models.TextChoices):
        PROCESSED = "processed", "Processed"
        DUPLICATE = "duplicate", "Duplicate (already processed)"
        MALFORMED = "malformed", "Malformed payload"
        UNKNOWN_JOB = "unknown_job", "Unknown job"
        FAILED = "failed", "Processing failed"

    received_at = models.DateTimeField(auto_now_add=True)
    job_id = models.CharField(max_length=64, blank=True, db_index=True)
    body = models.TextField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"callback {self.job_id or '?'} ({self.outcome})"
