import json

from rest_framework import serializers

from ledger.models import Checkpoint, LedgerEntry


class LedgerEntrySerializer(serializers.ModelSerializer):
    payload = serializers.SerializerMethodField(
        help_text="The payload as JSON. `payload_canonical` holds the exact hashed text."
    )
    payload_canonical = serializers.CharField(source="payload", read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "seq",
            "kind",
            "subject",
            "product",
            "listing",
            "retailer",
            "recorded_at",
            "payload",
            "payload_canonical",
            "payload_hash",
            "prev_hash",
            "entry_hash",
        ]
        read_only_fields = fields

    def get_payload(self, entry) -> dict:
        return json.loads(entry.payload)


class CheckpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = Checkpoint
        fields = ["tree_size", "root_hash", "timestamp", "body", "signature", "public_key"]
        read_only_fields = fields


class InclusionProofSerializer(serializers.Serializer):
    leaf_index = serializers.IntegerField(help_text="seq - 1")
    tree_size = serializers.IntegerField()
    leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || raw entry_hash bytes), hex")
    hashes = serializers.ListField(
        child=serializers.CharField(), help_text="RFC 9162 audit path, deepest sibling first"
    )
    checkpoint = CheckpointSerializer()


class EntryWithProofSerializer(serializers.Serializer):
    entry = LedgerEntrySerializer()
    inclusion_proof = InclusionProofSerializer(allow_null=True)
    detail = serializers.CharField(required=False)


class ConsistencyProofSerializer(serializers.Serializer):
    first = CheckpointSerializer()
    second = CheckpointSerializer()
    hashes = serializers.ListField(child=serializers.CharField())


class PriceHistoryPointSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    kind = serializers.CharField()
    recorded_at = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField(allow_null=True)
    listing = serializers.IntegerField(allow_null=True)
    retailer = serializers.IntegerField(allow_null=True)
    blockchain_hash = serializers.CharField(help_text="The entry hash (seed 1's blockchain_hash).")
