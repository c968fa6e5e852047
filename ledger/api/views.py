import json

import django_filters
from django import forms
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from ledger import merkle, selectors
from ledger.api.serializers import (
    CheckpointSerializer,
    ConsistencyProofSerializer,
    EntryWithProofSerializer,
    LedgerEntrySerializer,
    PriceHistoryPointSerializer,
)
from ledger.models import Checkpoint, LedgerEntry
from ledger.services import ledger_checkpoint_create


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class LedgerEntryFilterSet(django_filters.FilterSet):
    # Plain ids, not choices among existing rows: history outlives the objects it describes.
    product = IdFilter(field_name="product_id")
    listing = IdFilter(field_name="listing_id")
    retailer = IdFilter(field_name="retailer_id")

    class Meta:
        model = LedgerEntry
        fields = ["kind", "product", "listing", "retailer"]


class LedgerEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """Ledger entries. Retrieving one adds its inclusion proof against a signed checkpoint."""

    queryset = LedgerEntry.objects.all()
    serializer_class = LedgerEntrySerializer
    lookup_field = "seq"
    filterset_class = LedgerEntryFilterSet
    ordering_fields = ["seq"]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "tree_size",
                OpenApiTypes.INT,
                description="Prove against the checkpoint of this size (default: the latest).",
            )
        ],
        responses=EntryWithProofSerializer,
    )
    def retrieve(self, request, *args, **kwargs):
        entry = self.get_object()
        checkpoint = self.checkpoint_for(request)
        body = {"entry": LedgerEntrySerializer(entry).data, "inclusion_proof": None}
        if checkpoint is None or checkpoint.tree_size < entry.seq:
            body["detail"] = (
                "No signed checkpoint covers this entry yet; it will be in the next one."
            )
            return Response(body)
        proof = selectors.entry_inclusion_proof(entry=entry, checkpoint=checkpoint)
        body["inclusion_proof"] = {
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_hash": merkle.leaf_hash(bytes.fromhex(entry.entry_hash)).hex(),
            "hashes": proof.hashes,
            "checkpoint": CheckpointSerializer(checkpoint).data,
        }
        return Response(body)

    def checkpoint_for(self, request) -> Checkpoint | None:
        size = request.query_params.get("tree_size")
        if size is None:
            return selectors.latest_checkpoint()
        if not size.isdigit():
            raise ValidationError({"tree_size": "A whole number."})
        return get_object_or_404(Checkpoint, tree_size=int(size))


class CheckpointViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Signed checkpoints. POST signs one now (needs the add-checkpoint permission)."""

    queryset = Checkpoint.objects.all()
    serializer_class = CheckpointSerializer
    lookup_field = "tree_size"

    @extend_schema(request=None, responses={201: CheckpointSerializer})
    def create(self, request, *args, **kwargs):
        checkpoint = ledger_checkpoint_create()
        return Response(CheckpointSerializer(checkpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=CheckpointSerializer)
    @action(detail=False)
    def latest(self, request):
        checkpoint = selectors.latest_checkpoint()
        if checkpoint is None:
            return Response({"detail": "No checkpoint yet."}, status=status.HTTP_404_NOT_FOUND)
        return Response(CheckpointSerializer(checkpoint).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("first", OpenApiTypes.INT, required=True),
            OpenApiParameter("second", OpenApiTypes.INT, required=True),
        ],
        responses=ConsistencyProofSerializer,
    )
    @action(detail=False)
    def consistency(self, request):
        """RFC 9162 consistency proof between the checkpoints of sizes `first` <= `second`."""
        sizes = {}
        for name in ("first", "second"):
            value = request.query_params.get(name, "")
            if not value.isdigit():
                raise ValidationError({name: "The tree size of a checkpoint, a whole number."})
            sizes[name] = int(value)
        if sizes["first"] > sizes["second"]:
            raise ValidationError({"first": "Must not be larger than second."})
        first = get_object_or_404(Checkpoint, tree_size=sizes["first"])
        second = get_object_or_404(Checkpoint, tree_size=sizes["second"])
        return Response(
            {
                "first": CheckpointSerializer(first).data,
                "second": CheckpointSerializer(second).data,
                "hashes": selectors.consistency_proof(first=first, second=second),
            }
        )


class PriceHistoryView(APIView):
    """Seed 1's price history: every recorded price of a watch, each with its entry hash."""

    queryset = LedgerEntry.objects.none()  # for the model permission check

    @extend_schema(responses=PriceHistoryPointSerializer(many=True))
    def get(self, request, watch_id: int):
        get_object_or_404(Product, pk=watch_id)
        points = []
        for entry in selectors.product_price_history(product_id=watch_id):
            payload = json.loads(entry.payload)
            points.append(
                {
                    "seq": entry.seq,
                    "kind": entry.kind,
                    "recorded_at": entry.recorded_at,
                    "price": payload.get("price", payload.get("list_price")),
                    "currency": payload.get("currency"),
                    "listing": entry.listing_id,
                    "retailer": entry.retailer_id,
                    "blockchain_hash": entry.entry_hash,
                }
            )
        return Response(PriceHistoryPointSerializer(points, many=True).data)
