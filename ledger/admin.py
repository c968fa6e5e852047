from django.contrib import admin
from django.utils.html import format_html

from ledger.models import Checkpoint, LedgerEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is shown, never edited: no add, change or delete, whoever is asking."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "kind", "subject", "recorded_at", "short_hash"]
    list_filter = ["kind"]
    search_fields = ["subject", "entry_hash", "payload"]
    show_full_result_count = False
    readonly_fields = [
        "seq",
        "kind",
        "subject",
        "product",
        "listing",
        "retailer",
        "recorded_at",
        "payload",
        "payload_hash",
        "prev_hash",
        "entry_hash",
        "idempotency_key",
    ]

    @admin.display(description="entry hash")
    def short_hash(self, entry):
        return format_html("<code>{}…</code>", entry.entry_hash[:16])


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["tree_size", "timestamp", "root_hash"]
    readonly_fields = ["tree_size", "root_hash", "timestamp", "body", "signature", "public_key"]
