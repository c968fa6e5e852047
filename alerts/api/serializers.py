from rest_framework import serializers

from alerts.models import Alert, Delivery


class DeliverySerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "channel",
            "event",
            "status",
            "attempts",
            "last_error",
            "next_attempt_at",
            "sent_at",
            "created_at",
        ]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    """Seed 1's ALERTS row: `kind` is its alert_type, `data` its alert_data."""

    rule_name = serializers.CharField(source="rule.name", read_only=True)
    brand = serializers.SlugRelatedField(
        source="product.brand", slug_field="slug", read_only=True, allow_null=True
    )
    retailer = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "title",
            "data",
            "rule",
            "rule_name",
            "dedup_key",
            "product",
            "brand",
            "listing",
            "retailer",
            "probe",
            "map_violation",
            "recommendation",
            "triggered_at",
            "last_seen_at",
            "occurrences",
            "cleared_at",
            "active",
            "resolved",
            "resolved_at",
            "resolved_by",
            "deliveries",
        ]
        read_only_fields = fields
