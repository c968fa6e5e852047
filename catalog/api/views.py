from dataclasses import asdict

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import filtersets, selectors, sentiment, services
from catalog.api.serializers import (
    BrandSerializer,
    ListingSerializer,
    ProductSentimentSerializer,
    RetailerSerializer,
    ReviewSerializer,
    WatchSerializer,
)
from catalog.models import Brand, Listing, Product, Retailer, Review


class CatalogViewSet(viewsets.GenericViewSet):
    """Writes go through catalog.services; their ValidationErrors become 400s naming fields."""

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = serializers.ValidationError(serializers.as_serializer_error(exc))
        return super().handle_exception(exc)

    def reload(self, instance):
        """The saved row as the list shows it, annotations included."""
        return self.get_queryset().get(pk=instance.pk)


class CreateListRetrieveViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, CatalogViewSet
):
    pass


class CreateListRetrieveUpdateViewSet(mixins.UpdateModelMixin, CreateListRetrieveViewSet):
    pass


class BrandViewSet(CreateListRetrieveViewSet):
    queryset = Brand.objects.all()
    serializer_class = BrandSerializer
    ordering_fields = ["name", "slug"]

    def perform_create(self, serializer):
        serializer.instance = services.brand_create(**serializer.validated_data)


class WatchViewSet(CreateListRetrieveUpdateViewSet):
    # An aggregate drops Meta.ordering, and pages need a stable order.
    queryset = selectors.product_list_with_market().order_by(*Product._meta.ordering)
    serializer_class = WatchSerializer
    filterset_class = filtersets.ProductFilterSet
    ordering_fields = [
        "name",
        "reference",
        "brand__name",
        "category",
        "msrp",
        "list_price",
        "in_inventory_since",
        "created_at",
        "updated_at",
        "last_scraped_at",
        "listing_count",
        "lowest_market_price",
    ]

    def perform_create(self, serializer):
        product = services.product_create(**serializer.validated_data, user=self.request.user)
        serializer.instance = self.reload(product)

    def perform_update(self, serializer):
        product = services.product_update(
            product=serializer.instance, data=serializer.validated_data, user=self.request.user
        )
        serializer.instance = self.reload(product)

    @extend_schema(
        summary="Review sentiment of a watch",
        description="Counts by label, the mean score and rating, and the same by calendar month "
        "(UTC, oldest first).",
        responses=ProductSentimentSerializer,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def sentiment(self, request: Request, pk=None) -> Response:
        return sentiment_response(product_id=self.get_object().pk)


def sentiment_response(*, product_id: int, source: str | None = None) -> Response:
    summary = selectors.product_sentiment(product_id=product_id, source=source)
    data = asdict(summary) | {"scorer": sentiment.SCORER}
    return Response(ProductSentimentSerializer(data).data)


class RetailerViewSet(CreateListRetrieveUpdateViewSet):
    queryset = Retailer.objects.all()
    serializer_class = RetailerSerializer
    filterset_class = filtersets.RetailerFilterSet
    ordering_fields = ["name", "slug", "retailer_type", "market_type", "created_at"]

    def perform_create(self, serializer):
        serializer.instance = services.retailer_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.retailer_update(
            retailer=serializer.instance, data=serializer.validated_data
        )


class ListingViewSet(CreateListRetrieveUpdateViewSet):
    queryset = Listing.objects.select_related("retailer")
    serializer_class = ListingSerializer
    filterset_class = filtersets.ListingFilterSet
    ordering_fields = ["last_price", "last_probed_at", "last_success_at", "created_at"]

    @extend_schema(
        summary="Review sentiment at one retailer",
        description="The watch's reviews read from this retailer's pages (source = the "
        "retailer's slug): counts by label, the mean score and rating, and the same by month.",
        responses=ProductSentimentSerializer,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def sentiment(self, request: Request, pk=None) -> Response:
        listing = self.get_object()
        return sentiment_response(product_id=listing.product_id, source=listing.retailer.slug)

    def perform_create(self, serializer):
        serializer.instance = services.listing_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.listing_update(
            listing=serializer.instance, data=serializer.validated_data
        )


class ReviewViewSet(CreateListRetrieveViewSet):
    """Reviews of watches, each labelled positive, neutral or negative from its words.

    Writing a review the source already gave us (same watch, `source` and `external_id`; without
    an `external_id`, the same author, day and words) is refused with a 400 naming
    `external_id`: nothing is recorded twice, and nothing is overwritten silently.
    """

    queryset = Review.objects.all()
    serializer_class = ReviewSerializer
    filterset_class = filtersets.ReviewFilterSet
    ordering_fields = ["posted_at", "rating"]

    def perform_create(self, serializer):
        # A duplicate (same watch, source and external id) is a 400 naming external_id.
        serializer.instance = services.review_create(**serializer.validated_data)
