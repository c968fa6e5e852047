from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.models import Listing
from pricing import services
from pricing.api.serializers import (
    BulkDecisionResultSerializer,
    BulkDecisionSerializer,
    CurrentPriceSerializer,
    ForecastModelRunSerializer,
    ForecastSerializer,
    MapViolationSerializer,
    PricePointSerializer,
    RecommendationSerializer,
)
from pricing.filtersets import (
    CurrentPriceFilterSet,
    MapViolationFilterSet,
    RecommendationFilterSet,
)
from pricing.forecasting.filtersets import ForecastFilterSet, ForecastModelRunFilterSet
from pricing.forecasting.selectors import forecasts_list
from pricing.models import ForecastModelRun, ListingForecast, MapViolation, Recommendation
from scraping.services import price_point_record
from watchprice.permissions import ReadForUsersWriteWithNamedPermission


class PriceViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Seed 1's Price API: current prices, and price points reported by integrations.

    A price point is recorded like a probe: it updates the listing, is appended to the ledger,
    and MAP enforcement and alerts see it. Reporting needs the "add probe" permission.
    """

    queryset = (
        Listing.objects.filter(active=True, last_price__isnull=False)
        .select_related("product__brand", "retailer")
        .order_by("product_id", "retailer__name")
    )
    serializer_class = CurrentPriceSerializer
    filterset_class = CurrentPriceFilterSet
    ordering_fields = ["last_price", "last_success_at", "product_id"]
    permission_classes = [ReadForUsersWriteWithNamedPermission]
    write_permission = "scraping.add_probe"

    def get_serializer_class(self):
        return PricePointSerializer if self.action == "create" else CurrentPriceSerializer

    @extend_schema(request=PricePointSerializer, responses={201: CurrentPriceSerializer})
    def create(self, request, *args, **kwargs):
        serializer = PricePointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        listing = data["listing"]
        price_point_record(
            listing=listing,
            price=data["price"],
            currency=data["currency"],
            available=data.get("available"),
            regular_price=data.get("regular_price"),
            source_url=data.get("source_url", ""),
            user=request.user,
        )
        listing = self.get_queryset().get(pk=listing.pk)
        return Response(CurrentPriceSerializer(listing).data, status=status.HTTP_201_CREATED)


def decision_response(recommendation_id: int, decide, request) -> Response:
    try:
        recommendation = decide(recommendation_id=recommendation_id, user=request.user)
    except services.DecisionRefused as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    return Response(RecommendationSerializer(recommendation).data)


class RecommendationViewSet(viewsets.ReadOnlyModelViewSet):
    """Recommended prices with their explanation. Deciding needs "change recommendation"."""

    queryset = Recommendation.objects.select_related("product__brand", "decided_by")
    serializer_class = RecommendationSerializer
    filterset_class = RecommendationFilterSet
    ordering_fields = ["created_at", "recommended_price"]
    permission_classes = [ReadForUsersWriteWithNamedPermission]
    write_permission = "pricing.change_recommendation"

    @extend_schema(request=None, responses={200: RecommendationSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve and apply: our list price becomes the recommended price (in the ledger)."""
        return decision_response(self.get_object().pk, services.recommendation_approve, request)

    @extend_schema(request=None, responses={200: RecommendationSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return decision_response(self.get_object().pk, services.recommendation_reject, request)

    @extend_schema(request=BulkDecisionSerializer, responses={200: BulkDecisionResultSerializer})
    @action(detail=False, methods=["post"])
    def decide(self, request):
        """Approve or reject many at once; each one that cannot be decided says why."""
        serializer = BulkDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = services.recommendations_decide(
            recommendation_ids=serializer.validated_data["ids"],
            approve=serializer.validated_data["decision"] == "approve",
            user=request.user,
        )
        return Response(
            {
                "decided": RecommendationSerializer(outcome.decided, many=True).data,
                "refused": {str(k): v for k, v in outcome.refused.items()},
            }
        )


class MapViolationViewSet(viewsets.ReadOnlyModelViewSet):
    """MAP violation episodes: open and past, with the probes that are their evidence."""

    queryset = MapViolation.objects.select_related(
        "listing__product__brand", "listing__retailer"
    ).prefetch_related("evidence")
    serializer_class = MapViolationSerializer
    filterset_class = MapViolationFilterSet
    ordering_fields = ["opened_at", "closed_at", "lowest_price"]


class ForecastViewSet(viewsets.ReadOnlyModelViewSet):
    """Each listing's forecast price 7 and 30 days ahead, from the latest successful model run.

    Filter by `listing`, `product`, `horizon` or `shown`. A horizon whose model did not beat the
    last-value baseline is listed with `shown` false, null numbers and the reason.
    """

    serializer_class = ForecastSerializer
    filterset_class = ForecastFilterSet
    ordering_fields = ["horizon_days", "expected_price", "drop_probability"]

    # The schema reads the model from here; requests get the latest run's rows.
    queryset = ListingForecast.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return forecasts_list()


class ForecastModelRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Forecast model runs, newest first: training window, features, metrics of the model and
    of the last-value and rolling-median baselines per horizon, and failed runs' errors."""

    queryset = ForecastModelRun.objects.all()
    serializer_class = ForecastModelRunSerializer
    filterset_class = ForecastModelRunFilterSet
    ordering_fields = ["version", "trained_at"]
