"""The merchandisers' back office: brands, products, retailers, listings and reviews."""

import json
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, F
from django.forms.fields import InvalidJSONInput
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from catalog import services
from catalog.exports import catalog_export_response
from catalog.imports import COLUMNS, MAX_ROWS, catalog_import_csv
from catalog.models import Brand, Listing, Product, Retailer, Review
from catalog.review_imports import COLUMNS as REVIEW_COLUMNS
from catalog.review_imports import MAX_ROWS as REVIEW_MAX_ROWS
from catalog.review_imports import reviews_import_csv
from catalog.selectors import product_list_with_market
from catalog.signals import announce_list_price

admin.site.site_header = "WatchPrice back office"
admin.site.site_title = "WatchPrice back office"
admin.site.index_title = "Catalog, prices and alerts"

# The import page lists this many problems; a file with more has bigger trouble than a typo.
SHOWN_IMPORT_ERRORS = 1000


# Django 6 reads a typed "example.com" as https; say so now and skip the deprecation warning.
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


def https_urls(field: models.Field, **kwargs) -> forms.Field | None:
    return field.formfield(**(HTTPS_URLS.get(type(field), {}) | kwargs))


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:,.2f}"


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "website", "product_count")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    formfield_overrides = HTTPS_URLS

    def get_queryset(self, request):
        # The aggregate drops Meta.ordering; autocomplete pages need a stable order.
        return (
            super().get_queryset(request).annotate(product_count=Count("products")).order_by("name")
        )

    @admin.display(description="products", ordering="product_count")
    def product_count(self, brand: Brand) -> int:
        return brand.product_count


class ListingInline(admin.TabularInline):
    model = Listing
    extra = 0
    fields = (
        "retailer",
        "url",
        "retailer_item_id",
        "currency",
        "last_price",
        "last_regular_price",
        "available",
        "active",
        "last_probed_at",
    )
    # Prices and availability are what the probes last read; people do not type them.
    readonly_fields = ("last_price", "last_regular_price", "available", "last_probed_at")
    autocomplete_fields = ("retailer",)
    show_change_link = True
    formfield_overrides = HTTPS_URLS

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("retailer")


class CsvImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file", widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"})
    )

    def __init__(self, *args, max_rows: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "file"
        ].help_text = f"UTF-8, comma- or semicolon-separated, at most {max_rows:,} rows."


class CsvImportMixin:
    """An "Import CSV" page beside the change list. `import_csv(file=, user=)` checks the whole
    file before it writes anything; the page lists every bad row, or imports and goes back."""

    import_csv = None
    import_columns: tuple = ()
    import_max_rows: int = 0
    import_title = ""
    import_template = ""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        urls = [path("import/", self.admin_site.admin_view(self.import_view), name=name)]
        return urls + super().get_urls()

    def has_import_permission(self, request) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"has_import_permission": self.has_import_permission(request)} | (
            extra_context or {}
        )
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        result = None
        if request.method == "POST":
            form = CsvImportForm(request.POST, request.FILES, max_rows=self.import_max_rows)
        else:
            form = CsvImportForm(max_rows=self.import_max_rows)
        if request.method == "POST" and form.is_valid():
            result = type(self).import_csv(file=form.cleaned_data["file"], user=request.user)
            if result.ok:
                self.message_user(request, result.summary(), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
                )
        errors = result.errors if result else []
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": self.import_title,
            "form": form,
            "result": result,
            "errors": errors[:SHOWN_IMPORT_ERRORS],
            "hidden_error_count": max(0, len(errors) - SHOWN_IMPORT_ERRORS),
            "columns": self.import_columns,
            "max_rows": self.import_max_rows,
        }
        return TemplateResponse(request, self.import_template, context)


@admin.register(Product)
class ProductAdmin(CsvImportMixin, admin.ModelAdmin):
    import_csv = staticmethod(catalog_import_csv)
    import_columns = COLUMNS
    import_max_rows = MAX_ROWS
    import_title = "Import products from CSV"
    import_template = "admin/catalog/product/import_csv.html"
    change_list_template = "admin/catalog/product/change_list.html"
    list_display = (
        "reference",
        "brand",
        "name",
        "category",
        "msrp_display",
        "list_price_display",
        "currency",
        "listing_count_display",
        "lowest_market_price_display",
        "in_inventory_since",
        "age_in_days",
    )
    list_display_links = ("reference", "name")
    list_filter = (
        "brand",
        "category",
        "currency",
        ("in_inventory_since", admin.DateFieldListFilter),
        "listings__retailer",
    )
    search_fields = ("reference", "name", "brand__name", "sku", "gtin", "mpn", "asin")
    list_select_related = ("brand",)
    list_per_page = 50
    autocomplete_fields = ("brand",)
    readonly_fields = ("created_at", "updated_at", "last_scraped_at")
    fieldsets = (
        (None, {"fields": ("brand", "reference", "name", "category", "description")}),
        ("Prices", {"fields": ("currency", "msrp", "cost", "list_price")}),
        ("Identifiers", {"fields": ("sku", "gtin", "mpn", "asin")}),
        ("Stock", {"fields": ("in_inventory_since",)}),
        ("History", {"fields": readonly_fields, "classes": ("collapse",)}),
    )
    inlines = (ListingInline,)
    actions = ("export_selected_as_csv",)

    def save_model(self, request, obj, form, change):
        # Django wraps the change form in a transaction, so the ledger entry commits with it.
        previous = form.initial.get("list_price") if change else None
        super().save_model(request, obj, form, change)
        announce_list_price(product=obj, previous=previous, source="admin", user=request.user)

    def get_queryset(self, request):
        queryset = product_list_with_market()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    @admin.display(description="MSRP", ordering="msrp")
    def msrp_display(self, product: Product) -> str | None:
        return money(product.msrp)

    @admin.display(description="our price", ordering="list_price")
    def list_price_display(self, product: Product) -> str | None:
        return money(product.list_price)

    @admin.display(description="listings", ordering="listing_count")
    def listing_count_display(self, product: Product) -> str:
        url = reverse("admin:catalog_listing_changelist")
        return format_html(
            '<a href="{}?product__id__exact={}&amp;active__exact=1">{}</a>',
            url,
            product.pk,
            product.listing_count,
        )

    @admin.display(
        description="lowest market price",
        ordering=F("lowest_market_price").asc(nulls_last=True),
    )
    def lowest_market_price_display(self, product: Product) -> str | None:
        return money(product.lowest_market_price)

    @admin.display(description="age (days)", ordering="-in_inventory_since")
    def age_in_days(self, product: Product) -> int | None:
        if product.in_inventory_since is None:
            return None
        return (timezone.localdate() - product.in_inventory_since).days

    # --- CSV import and export -------------------------------------------------------------

    def get_urls(self):
        urls = [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="catalog_product_export",
            ),
        ]
        return urls + super().get_urls()

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("Those filters do not apply to products.")
        return catalog_export_response(products=changelist.get_queryset(request))

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_selected_as_csv(self, request, queryset):
        return catalog_export_response(products=queryset)


JSON_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "true or false"}


def validate_selectors(value) -> None:
    example = '{"price": ".product-price", "title": "h1"}'
    if not isinstance(value, dict):
        kind = "null" if value is None else JSON_KINDS.get(type(value), "a number")
        raise ValidationError(
            f"Selectors must be a JSON object of field names to CSS selectors, like {example}; "
            f"this is {kind}."
        )
    for name, selector in value.items():
        if not isinstance(selector, str):
            kind = "null" if selector is None else JSON_KINDS.get(type(selector), "a number")
            raise ValidationError(
                f'The selector for "{name}" must be a string of CSS, like ".product-price"; '
                f"it is {kind}."
            )
        if not selector.strip():
            raise ValidationError(f'The selector for "{name}" is empty.')


class SelectorsField(forms.JSONField):
    default_error_messages = {
        "invalid": "This is not valid JSON. Write an object such as "
        '{"price": ".product-price", "title": "h1"}: double quotes, no trailing comma.'
    }

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


class RetailerAdminForm(forms.ModelForm):
    class Meta:
        model = Retailer
        fields = (
            "name",
            "slug",
            "domain",
            "base_url",
            "currency",
            "geo_location",
            "retailer_type",
            "market_type",
            "map_percentage",
            "external_price_checks_enabled",
            "extractor",
            "selectors",
            "product_url_pattern",
            "requests_per_minute",
        )
        field_classes = {"selectors": SelectorsField}
        formfield_callback = https_urls
        widgets = {
            "selectors": forms.Textarea(
                attrs={"rows": 10, "cols": 60, "style": "font-family: monospace"}
            )
        }

    def clean_selectors(self):
        value = self.cleaned_data["selectors"]
        if value is None:
            return {}
        validate_selectors(value)
        return value


@admin.register(Retailer)
class RetailerAdmin(admin.ModelAdmin):
    form = RetailerAdminForm
    list_display = (
        "name",
        "type_badge",
        "market_type",
        "map_display",
        "open_map_violations",
        "external_price_checks_enabled",
        "politeness",
        "currency",
        "domain",
        "listing_count",
    )
    list_filter = ("retailer_type", "market_type", "external_price_checks_enabled", "currency")
    search_fields = ("name", "slug", "domain")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("open_map_violations", "created_at", "updated_at")
    type_badge_colours = {
        Retailer.RetailerType.VENDOR: "#205067",
        Retailer.RetailerType.MARKETPLACE: "#6b5b95",
    }
    formfield_overrides = HTTPS_URLS
    fieldsets = (
        (None, {"fields": ("name", "slug", "domain", "base_url", "currency", "geo_location")}),
        (
            "Market",
            {
                "fields": (
                    "retailer_type",
                    "market_type",
                    "map_percentage",
                    "open_map_violations",
                    "external_price_checks_enabled",
                )
            },
        ),
        (
            "Scraping",
            {
                "fields": (
                    "fetch_method",
                    "extractor",
                    "selectors",
                    "product_url_pattern",
                    "search_url_pattern",
                    "requests_per_minute",
                )
            },
        ),
        ("History", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        # The aggregate drops Meta.ordering; autocomplete pages need a stable order. Both counts
        # join listings, so each counts distinct rows.
        return (
            super()
            .get_queryset(request)
            .annotate(
                listing_count=Count("listings", distinct=True),
                open_map_violation_count=Count(
                    "listings__map_violations",
                    filter=models.Q(listings__map_violations__closed_at__isnull=True),
                    distinct=True,
                ),
            )
            .order_by("name")
        )

    @admin.display(description="type", ordering="retailer_type")
    def type_badge(self, retailer: Retailer) -> str:
        colour = self.type_badge_colours.get(retailer.retailer_type, "#666")
        return format_html(
            '<span class="retailer-type-badge" style="background: {}; color: #fff; '
            'padding: 1px 6px; border-radius: 8px; white-space: nowrap">{}</span>',
            colour,
            retailer.get_retailer_type_display(),
        )

    @admin.display(description="MAP", ordering="map_percentage")
    def map_display(self, retailer: Retailer) -> str:
        return f"{(retailer.map_percentage * 100).normalize():f}% of MSRP"

    @admin.display(description="politeness", ordering="requests_per_minute")
    def politeness(self, retailer: Retailer) -> str:
        return f"{retailer.requests_per_minute} requests/min"

    @admin.display(description="listings", ordering="listing_count")
    def listing_count(self, retailer: Retailer) -> int:
        return retailer.listing_count

    @admin.display(description="MAP violations", ordering="open_map_violation_count")
    def open_map_violations(self, retailer: Retailer) -> str | None:
        # Marketplaces (3P) are never in violation; an unsaved retailer has nothing to count.
        if not retailer.is_vendor or retailer.pk is None:
            return None
        count = retailer.open_map_violation_count
        # pricing registers the changelist; catalog must not import pricing, only link to it.
        url = reverse("admin:pricing_mapviolation_changelist")
        return format_html(
            '<a href="{}?listing__retailer__id__exact={}&amp;status=open">'
            "{} open MAP violation{}</a>",
            url,
            retailer.pk,
            count,
            "" if count == 1 else "s",
        )


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = (
        "product",
        "retailer",
        "currency",
        "last_price",
        "last_regular_price",
        "available",
        "active",
        "last_probed_at",
        "last_success_at",
    )
    list_filter = (
        "retailer",
        "available",
        "active",
        "retailer__retailer_type",
        "currency",
    )
    search_fields = (
        "product__reference",
        "product__name",
        "product__brand__name",
        "retailer__name",
        "retailer_item_id",
        "url",
    )
    list_select_related = ("product__brand", "retailer")
    autocomplete_fields = ("product", "retailer")
    formfield_overrides = HTTPS_URLS
    readonly_fields = ("last_probed_at", "last_success_at", "created_at", "updated_at")


@admin.register(Review)
class ReviewAdmin(CsvImportMixin, admin.ModelAdmin):
    import_csv = staticmethod(reviews_import_csv)
    import_columns = REVIEW_COLUMNS
    import_max_rows = REVIEW_MAX_ROWS
    import_title = "Import reviews from CSV"
    import_template = "admin/catalog/review/import_csv.html"
    change_list_template = "admin/catalog/review/change_list.html"
    list_display = (
        "product",
        "rating",
        "sentiment_display",
        "source",
        "author",
        "posted_at",
    )
    list_filter = ("rating", "sentiment_label", "source", "sentiment_scorer", "posted_at")
    search_fields = (
        "product__reference",
        "product__name",
        "product__brand__name",
        "author",
        "title",
        "text",
        "external_id",
    )
    list_select_related = ("product__brand",)
    autocomplete_fields = ("product",)
    date_hierarchy = "posted_at"
    readonly_fields = ("created_at", "sentiment_label", "sentiment_score", "sentiment_scorer")
    actions = ("rescore_sentiment",)

    def save_model(self, request, obj, form, change):
        # Edited words get a fresh label; the form never sets the sentiment itself.
        services.review_score(review=obj)
        super().save_model(request, obj, form, change)

    @admin.display(description="sentiment", ordering="sentiment_score")
    def sentiment_display(self, review: Review) -> str:
        if not review.sentiment_label:
            return "—"
        return f"{review.get_sentiment_label_display()} ({review.sentiment_score:+.2f})"

    @admin.action(description="Score sentiment again", permissions=["change"])
    def rescore_sentiment(self, request, queryset):
        count = services.reviews_rescore(queryset=queryset)
        self.message_user(
            request, f"Scored {count} review{'s' if count != 1 else ''} again.", messages.SUCCESS
        )
