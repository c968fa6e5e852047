"""The back office for MAP: overrides merchandisers edit, and the violation episodes probes
recorded, which nobody edits."""

import csv
from datetime import timedelta
from decimal import Decimal

from django.contrib import admin
from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from pricing.models import (
    ForecastModelRun,
    ListingForecast,
    MapPolicy,
    MapViolation,
    MarketRefresh,
)
from pricing.selectors import map_violation_duration, map_violations_csv_rows


def money(value) -> str | None:
    return None if value is None else f"{value:,.2f}"


def probe_page_url(probe_id: int) -> str | None:
    try:
        return reverse("scraping:probe-page", args=[probe_id])
    except NoReverseMatch:
        return None


def probe_link(probe) -> str:
    """The probe's admin page and, when its page is stored, the page as a download."""
    record = format_html(
        '<a href="{}">probe {}</a>',
        reverse("admin:scraping_probe_change", args=[probe.pk]),
        probe.pk,
    )
    page_url = probe_page_url(probe.pk) if probe.body_sha256 else None
    if page_url is None:
        return record
    return format_html('{} (<a href="{}">page</a>)', record, page_url)


def days(duration: timedelta) -> str:
    whole = duration.days
    if whole >= 1:
        return f"{whole} day{'s' if whole != 1 else ''}"
    hours = int(duration.total_seconds() // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


@admin.register(MapPolicy)
class MapPolicyAdmin(admin.ModelAdmin):
    list_display = ("product", "map_price", "msrp", "share_of_msrp", "note", "updated_at")
    list_select_related = ("product__brand",)
    list_filter = ("product__brand",)
    search_fields = ("product__reference", "product__name", "product__brand__name", "note")
    autocomplete_fields = ("product",)
    readonly_fields = ("share_of_msrp", "updated_at")
    fields = ("product", "map_price", "share_of_msrp", "note", "updated_at")

    @admin.display(description="MSRP", ordering="product__msrp")
    def msrp(self, policy: MapPolicy) -> str | None:
        return money(policy.product.msrp)

    @admin.display(description="against MSRP")
    def share_of_msrp(self, policy: MapPolicy) -> str:
        """What the override means next to the retailers' usual MSRP x percentage."""
        if policy.pk is None:
            return "Overrides MSRP x each retailer's MAP percentage for this product."
        msrp = policy.product.msrp
        if not msrp:
            return "Own MAP; the product has no MSRP."
        share = (policy.map_price / msrp * 100).quantize(Decimal("0.1")).normalize()
        return f"Own MAP, {share:f}% of MSRP, instead of MSRP x each retailer's MAP percentage."


class MapViolationStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("open", "Open"), ("closed", "Closed"))

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(closed_at__isnull=True)
        if self.value() == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset


@admin.register(MapViolation)
class MapViolationAdmin(admin.ModelAdmin):
    """Episodes are records of what probes read: shown and exported, never edited."""

    list_display = (
        "product",
        "retailer",
        "status",
        "map_price_display",
        "lowest_price_display",
        "last_price_display",
        "currency",
        "opened_at",
        "closed_at",
    )
    list_filter = (MapViolationStatusFilter, "listing__retailer", "listing__product__brand")
    list_select_related = ("listing__product__brand", "listing__retailer")
    search_fields = (
        "listing__product__reference",
        "listing__product__name",
        "listing__product__brand__name",
        "listing__retailer__name",
    )
    date_hierarchy = "opened_at"
    fields = (
        "listing",
        "status",
        "map_price",
        "currency",
        "lowest_price",
        "last_price",
        "opened_at",
        "opening_probe_link",
        "opened_ledger_seq",
        "closed_at",
        "closing_probe_link",
        "closed_ledger_seq",
        "evidence_links",
    )
    readonly_fields = fields
    actions = ("export_selected_as_csv",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="product", ordering="listing__product__reference")
    def product(self, violation: MapViolation):
        return violation.listing.product

    @admin.display(description="retailer", ordering="listing__retailer__name")
    def retailer(self, violation: MapViolation):
        return violation.listing.retailer

    @admin.display(description="MAP status", ordering="closed_at")
    def status(self, violation: MapViolation) -> str:
        duration = days(map_violation_duration(violation, now=timezone.now()))
        if violation.is_open:
            return f"Open for {duration}"
        return f"Closed after {duration}"

    @admin.display(description="MAP", ordering="map_price")
    def map_price_display(self, violation: MapViolation) -> str | None:
        return money(violation.map_price)

    @admin.display(description="lowest price", ordering="lowest_price")
    def lowest_price_display(self, violation: MapViolation) -> str | None:
        return money(violation.lowest_price)

    @admin.display(description="last price", ordering="last_price")
    def last_price_display(self, violation: MapViolation) -> str | None:
        return money(violation.last_price)

    @admin.display(description="opening probe")
    def opening_probe_link(self, violation: MapViolation) -> str:
        return probe_link(violation.opening_probe)

    @admin.display(description="closing probe")
    def closing_probe_link(self, violation: MapViolation) -> str | None:
        return probe_link(violation.closing_probe) if violation.closing_probe else None

    @admin.display(description="evidence")
    def evidence_links(self, violation: MapViolation) -> str:
        probes = violation.evidence.order_by("created_at", "pk")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} {}: {} {}</li>",
                (
                    (
                        probe_link(probe),
                        f"{probe.created_at:%Y-%m-%d %H:%M} UTC",
                        money(probe.price),
                        probe.currency,
                    )
                    for probe in probes
                ),
            ),
        )

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_selected_as_csv(self, request, queryset):
        response = HttpResponse(
            content_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="map-violations-'
                f'{timezone.now():%Y%m%d-%H%M%S}.csv"'
            },
        )
        # The byte-order mark makes Excel read the file as UTF-8.
        response.write("\ufeff")
        csv.writer(response).writerows(map_violations_csv_rows(queryset))
        return response


def metric(value, places: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{places}f}"


@admin.register(ForecastModelRun)
class ForecastModelRunAdmin(admin.ModelAdmin):
    """Model runs are records of a training: shown with their metrics, never edited."""

    list_display = (
        "version",
        "status",
        "source",
        "trained_at",
        "window_start",
        "window_end",
        "series_count",
        "shown_horizons",
        "mase_summary",
    )
    list_filter = ("status", "source")
    fields = (
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
        "metrics_table",
        "notes",
        "features",
        "parameters",
        "error",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="shown horizons")
    def shown_horizons(self, run: ForecastModelRun) -> str:
        return ", ".join(f"{h} days" for h in run.beaten_horizons) or "none"

    @admin.display(description="MASE model / last value")
    def mase_summary(self, run: ForecastModelRun) -> str:
        parts = []
        for horizon in run.horizons:
            metrics = run.metrics.get(str(horizon)) or {}
            parts.append(
                f"{horizon}d: {metric(metrics.get('mase_model'), 3)} / "
                f"{metric(metrics.get('mase_last_value'), 3)}"
            )
        return "; ".join(parts)

    @admin.display(description="metrics (rolling-origin cross-validation)")
    def metrics_table(self, run: ForecastModelRun) -> str:
        header = mark_safe(
            "<tr><th>horizon</th><th>MAE model</th><th>MAE last value</th>"
            "<th>MAE rolling median</th><th>MASE model</th><th>MASE last value</th>"
            "<th>MASE rolling median</th><th>coverage</th><th>drop Brier</th><th>test rows</th>"
            "<th>beats last value</th></tr>"
        )
        rows = format_html_join(
            "",
            "<tr><td>{} days</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    horizon,
                    metric(m.get("mae_model")),
                    metric(m.get("mae_last_value")),
                    metric(m.get("mae_rolling_median")),
                    metric(m.get("mase_model"), 3),
                    metric(m.get("mase_last_value"), 3),
                    metric(m.get("mase_rolling_median"), 3),
                    "n/a" if m.get("coverage") is None else f"{m['coverage']:.0%}",
                    metric(m.get("drop_brier"), 3),
                    m.get("test_rows", "n/a"),
                    "yes" if horizon in run.beaten_horizons else "no",
                )
                for horizon in run.horizons
                for m in [run.metrics.get(str(horizon)) or {}]
            ),
        )
        return format_html("<table>{}{}</table>", header, rows)


@admin.register(ListingForecast)
class ListingForecastAdmin(admin.ModelAdmin):
    list_display = (
        "listing",
        "horizon_days",
        "expected_price",
        "interval_low",
        "interval_high",
        "currency",
        "drop_probability",
        "beats_baseline",
        "model_run",
        "generated_at",
    )
    list_filter = ("horizon_days", "beats_baseline", "model_run")
    list_select_related = ("listing__product", "listing__retailer", "model_run")
    search_fields = ("listing__product__reference", "listing__retailer__name")
    readonly_fields = [field.name for field in ListingForecast._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MarketRefresh)
class MarketRefreshAdmin(admin.ModelAdmin):
    """The dashboard's rollup refreshes, failed ones with their error: records, never edited."""

    list_display = ("computed_at", "outcome", "finished_at", "days_from", "products", "moves")
    list_filter = (("error", admin.EmptyFieldListFilter),)
    fields = (
        "computed_at",
        "finished_at",
        "days_from",
        "products",
        "probe_days",
        "moves",
        "seconds",
        "error",
    )
    readonly_fields = fields
    date_hierarchy = "computed_at"

    @admin.display(description="Outcome")
    def outcome(self, refresh: MarketRefresh) -> str:
        return "failed" if refresh.error else "finished"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
