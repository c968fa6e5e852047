"""Filters for alert lists, shared by the API and the HTML pages."""

import django_filters
from django.db.models import Q, QuerySet

from alerts.models import Alert, AlertRule


class AlertFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=AlertRule.Kind.choices)
    resolved = django_filters.BooleanFilter()
    active = django_filters.BooleanFilter(
        method="filter_active", label="Ongoing: neither resolved nor cleared"
    )
    rule = django_filters.NumberFilter(field_name="rule_id")
    product = django_filters.NumberFilter(field_name="product_id")
    brand = django_filters.CharFilter(field_name="product__brand__slug", label="Brand slug")
    retailer = django_filters.CharFilter(field_name="retailer__slug", label="Retailer slug")
    since = django_filters.IsoDateTimeFilter(
        field_name="triggered_at", lookup_expr="gte", label="Triggered at or after (ISO 8601)"
    )

    class Meta:
        model = Alert
        fields = ["kind", "resolved", "active", "rule", "product", "brand", "retailer", "since"]

    def filter_active(self, queryset: QuerySet[Alert], name: str, value: bool | None):
        ongoing = Q(resolved=False, cleared_at__isnull=True)
        return queryset.filter(ongoing) if value else queryset.exclude(ongoing)
