"""Reads for pricing: MAP violation episodes, for the admin, the API and CSV exports."""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from catalog.exports import escape_cell, format_money
from pricing.models import MapViolation
from scraping.models import Probe

MAP_VIOLATION_CSV_COLUMNS = (
    "violation",
    "status",
    "listing",
    "retailer",
    "brand",
    "reference",
    "product",
    "url",
    "currency",
    "map_price",
    "lowest_price",
    "last_price",
    "opened_at",
    "closed_at",
    "duration_hours",
    "opening_probe",
    "closing_probe",
    "evidence_probes",
    "opened_ledger_seq",
    "closed_ledger_seq",
)


def map_violations_list(
    *,
    open_only: bool = False,
    retailer_id: int | None = None,
    brand_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[MapViolation]:
    """Episodes, newest first, with their listing, product, brand and retailer.

    `since` and `until` keep the episodes that were open at some moment in [since, until):
    opened before `until`, and still open or closed at or after `since`.
    """
    queryset = MapViolation.objects.select_related(
        "listing__product__brand", "listing__retailer"
    ).order_by("-opened_at", "-pk")
    if open_only:
        queryset = queryset.filter(closed_at__isnull=True)
    if retailer_id is not None:
        queryset = queryset.filter(listing__retailer_id=retailer_id)
    if brand_id is not None:
        queryset = queryset.filter(listing__product__brand_id=brand_id)
    if until is not None:
        queryset = queryset.filter(opened_at__lt=until)
    if since is not None:
        queryset = queryset.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=since))
    return queryset


def map_violation_duration(violation: MapViolation, *, now: datetime | None = None) -> timedelta:
    """How long the listing was (or, when still open, has been) advertised below MAP."""
    end = violation.closed_at or now or timezone.now()
    return end - violation.opened_at


def map_violations_csv_rows(
    queryset: QuerySet[MapViolation], *, now: datetime | None = None
) -> Iterator[list[str]]:
    """The header, then one row per episode of the queryset, in its order.

    Evidence is the ids of every probe read below MAP, space-separated. An open episode's
    duration runs to `now`.
    """
    now = now or timezone.now()
    yield list(MAP_VIOLATION_CSV_COLUMNS)
    # Its own attribute, so a queryset that already prefetches evidence differently still works.
    evidence = Prefetch(
        "evidence",
        queryset=Probe.objects.only("pk").order_by("created_at", "pk"),
        to_attr="csv_evidence",
    )
    rows = queryset.select_related("listing__product__brand", "listing__retailer").prefetch_related(
        evidence
    )
    for violation in rows:
        listing = violation.listing
        product = listing.product
        hours = map_violation_duration(violation, now=now) / timedelta(hours=1)
        yield [
            str(violation.pk),
            "open" if violation.is_open else "closed",
            str(listing.pk),
            escape_cell(listing.retailer.name),
            escape_cell(product.brand.name),
            escape_cell(product.reference),
            escape_cell(product.name),
            escape_cell(listing.url),
            violation.currency,
            format_money(violation.map_price),
            format_money(violation.lowest_price),
            format_money(violation.last_price),
            violation.opened_at.isoformat(),
            violation.closed_at.isoformat() if violation.closed_at else "",
            f"{hours:.2f}",
            str(violation.opening_probe_id),
            str(violation.closing_probe_id or ""),
            " ".join(str(probe.pk) for probe in violation.csv_evidence),
            str(violation.opened_ledger_seq or ""),
            str(violation.closed_ledger_seq or ""),
        ]
