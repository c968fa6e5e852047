"""The back office for alerts: rules and channels merchandisers configure; alerts, deliveries and
rule states the system records, which nobody edits (alerts are resolved, deliveries retried)."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from alerts.models import Alert, AlertRule, Delivery, NotificationChannel, RuleState
from alerts.resolution import alerts_resolve
from alerts.services import (
    DEFAULT_THRESHOLDS,
    MOVEMENT_DIRECTIONS,
    PRODUCT_KINDS,
    deliveries_retry_now,
)

Kind = AlertRule.Kind
PERCENT_KINDS = tuple(MOVEMENT_DIRECTIONS)

# What the threshold means for each kind, shown beside the form.
THRESHOLD_UNITS = {
    Kind.PRICE_CHANGE: "a fraction of the reference price, either way (0.10 = 10%)",
    Kind.COMPETITOR_DROP: "a fraction of the reference price, downwards (0.05 = 5%)",
    Kind.NEW_LOWEST_PRICE: "how far below the previous low, as a fraction (0 = any new low)",
    Kind.MAP_VIOLATION: "not used: every episode the pricing app opens",
    Kind.OUT_OF_STOCK: "not used",
    Kind.BACK_IN_STOCK: "not used",
    Kind.PROBE_FAILURES: "probes in a row that failed, were blocked or read another product",
    Kind.RECOMMENDATION_WAITING: "hours a proposed recommendation has waited for a decision",
}


def threshold_help() -> str:
    rows = (
        (label, THRESHOLD_UNITS[kind], DEFAULT_THRESHOLDS.get(kind, "-"))
        for kind, label in Kind.choices
    )
    return format_html(
        "<table><tr><th>Kind</th><th>Threshold</th><th>Default</th></tr>{}</table>"
        "<p>Hysteresis is in the threshold's unit: after firing, a percent rule re-arms once "
        "the value is back within threshold minus hysteresis of its reference. The cooldown "
        "holds back a new alert for the same subject that soon after the last one.</p>",
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
    )


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = [
            "name",
            "kind",
            "active",
            "product",
            "brand",
            "category",
            "retailer",
            "threshold",
            "hysteresis",
            "cooldown",
            "notify_on_close",
            "channels",
            "digest",
        ]

    def clean(self):
        data = super().clean()
        kind, threshold = data.get("kind"), data.get("threshold")
        if kind in PRODUCT_KINDS and data.get("retailer") is not None:
            self.add_error(
                "retailer", "This kind is about a product as a whole; scope it without a retailer."
            )
        if threshold is not None and kind in PERCENT_KINDS and threshold > 1:
            self.add_error("threshold", "Write percentages as fractions: 0.10 for 10%.")
        whole = threshold is not None and threshold == threshold.to_integral_value()
        if kind == Kind.PROBE_FAILURES and threshold is not None and (threshold < 1 or not whole):
            self.add_error("threshold", "A whole number of probes, at least 1.")
        hysteresis = data.get("hysteresis")
        effective = threshold if threshold is not None else DEFAULT_THRESHOLDS.get(kind)
        if (
            kind == Kind.PRICE_CHANGE
            and hysteresis is not None
            and effective is not None
            and hysteresis >= effective > Decimal(0)
        ):
            self.add_error(
                "hysteresis", "Keep it below the threshold, or the rule only re-arms at 0%."
            )
        if data.get("notify_on_close") and kind != Kind.MAP_VIOLATION:
            self.add_error("notify_on_close", "Only MAP violations have a close to notify.")
        return data


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleForm
    list_display = (
        "name",
        "kind",
        "scope",
        "threshold_shown",
        "cooldown",
        "channel_names",
        "digest",
        "active",
    )
    list_filter = ("kind", "active", "digest", "channels")
    list_editable = ("active",)
    search_fields = ("name",)
    autocomplete_fields = ("product", "brand", "retailer")
    filter_horizontal = ("channels",)
    fieldsets = (
        (None, {"fields": ("name", "kind", "active")}),
        (
            "Scope",
            {
                "fields": ("product", "brand", "category", "retailer"),
                "description": "Every field set must match; none set means the whole catalog.",
            },
        ),
        (
            "When it fires",
            {
                "fields": ("threshold", "hysteresis", "cooldown", "notify_on_close"),
                "description": threshold_help(),
            },
        ),
        ("Who hears about it", {"fields": ("channels", "digest")}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("product__brand", "brand", "retailer")
            .prefetch_related("channels")
        )

    @admin.display(description="scope")
    def scope(self, rule: AlertRule) -> str:
        parts = [
            str(part) for part in (rule.product, rule.brand, rule.category, rule.retailer) if part
        ]
        return ", ".join(parts) or "everything"

    @admin.display(description="threshold")
    def threshold_shown(self, rule: AlertRule) -> str:
        value = rule.threshold if rule.threshold is not None else DEFAULT_THRESHOLDS.get(rule.kind)
        if value is None:
            return "-"
        if rule.kind in PERCENT_KINDS:
            return f"{(value * 100).normalize():f}%"
        if rule.kind == Kind.PROBE_FAILURES:
            return f"{int(value)} in a row"
        if rule.kind == Kind.RECOMMENDATION_WAITING:
            return f"{value.normalize():f} h"
        return f"{value.normalize():f}"

    @admin.display(description="channels")
    def channel_names(self, rule: AlertRule) -> str:
        return ", ".join(channel.name for channel in rule.channels.all()) or "-"


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "target", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "target")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ("channel", "event", "status", "attempts", "last_error", "next_attempt_at", "sent_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class AlertStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("cleared", "Cleared"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(resolved=False, cleared_at__isnull=True)
        if self.value() == "cleared":
            return queryset.filter(cleared_at__isnull=False)
        if self.value() == "resolved":
            return queryset.filter(resolved=True)
        return queryset


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "kind",
        "rule",
        "triggered_at",
        "last_seen_at",
        "occurrences",
        "status",
        "resolved_by",
    )
    list_filter = (AlertStatusFilter, "kind", "rule")
    list_select_related = ("rule", "resolved_by")
    search_fields = ("title", "dedup_key")
    date_hierarchy = "triggered_at"
    inlines = (DeliveryInline,)
    actions = ("resolve",)

    @admin.display(description="status")
    def status(self, alert: Alert) -> str:
        if alert.resolved:
            return "resolved"
        return "cleared" if alert.cleared_at else "active"

    @admin.action(description="Resolve the selected alerts", permissions=["change"])
    def resolve(self, request, queryset):
        resolved = alerts_resolve(
            alert_ids=queryset.values_list("pk", flat=True), user=request.user
        )
        self.message_user(request, f"Resolved {resolved} alert{'s' if resolved != 1 else ''}.")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "alert",
        "channel",
        "event",
        "status",
        "attempts",
        "error",
        "next_attempt_at",
        "sent_at",
        "created_at",
    )
    list_filter = ("status", "event", "channel")
    list_select_related = ("alert", "channel")
    search_fields = ("alert__title", "last_error")
    date_hierarchy = "created_at"
    actions = ("retry_now",)

    @admin.display(description="last error")
    def error(self, delivery: Delivery) -> str:
        text = delivery.last_error
        return text if len(text) <= 120 else f"{text[:119]}…"

    @admin.action(description="Retry the selected failed deliveries now", permissions=["change"])
    def retry_now(self, request, queryset):
        retried = deliveries_retry_now(delivery_ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - retried
        self.message_user(
            request, f"Queued {retried} deliver{'ies' if retried != 1 else 'y'} to send again."
        )
        if skipped:
            self.message_user(
                request,
                f"{skipped} already sent, pending or waiting for the digest: left alone.",
                messages.WARNING,
            )


@admin.register(RuleState)
class RuleStateAdmin(ReadOnlyAdmin):
    """Why a rule is quiet: disarmed since it fired, and the value it measures against."""

    list_display = (
        "rule",
        "subject",
        "armed",
        "reference_value",
        "last_value",
        "last_fired_at",
        "updated_at",
    )
    list_filter = ("armed", "rule__kind", "rule")
    list_select_related = ("rule",)
    search_fields = ("subject", "rule__name")

    def has_change_permission(self, request, obj=None):
        return False
