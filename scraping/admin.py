from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from scraping.models import Probe, ProviderCallback, ProviderJob


class RecordAdmin(admin.ModelAdmin):
    """Probes and provider traffic are records of what happened: shown, never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Probe)
class ProbeAdmin(RecordAdmin):
    list_display = [
        "created_at",
        "listing",
        "status",
        "price",
        "regular_price",
        "currency",
        "product_available",
        "http_status",
        "transport",
        "trigger",
        "duration_ms",
        "evidence",
    ]
    list_filter = ["status", "transport", "trigger", "listing__retailer", "created_at"]
    search_fields = ["url", "final_url", "raw_title", "error_message", "body_sha256"]
    list_select_related = ["listing__product__brand", "listing__retailer"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="page")
    def evidence(self, probe):
        if not probe.body_sha256:
            return "-"
        return format_html(
            '<a href="{}">download</a>', reverse("scraping:probe-page", args=[probe.pk])
        )


@admin.register(ProviderJob)
class ProviderJobAdmin(RecordAdmin):
    list_display = ["job_id", "listing", "status", "submitted_at", "finished_at", "probe"]
    list_filter = ["status"]
    search_fields = ["job_id"]
    list_select_related = ["listing__product", "listing__retailer"]


@admin.register(ProviderCallback)
class ProviderCallbackAdmin(RecordAdmin):
    list_display = ["received_at", "job_id", "outcome", "error_message"]
    list_filter = ["outcome"]
    search_fields = ["job_id", "body"]
