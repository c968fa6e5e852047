from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from catalog.models import Listing
from pricing.api.serializers import CurrentPriceSerializer, PricePointSerializer
from pricing.filtersets import CurrentPriceFilterSet
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
