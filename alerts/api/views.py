from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts.api.serializers import AlertSerializer
from alerts.filtersets import AlertFilterSet
from alerts.models import Alert
from alerts.resolution import alerts_resolve
from watchprice.permissions import ReadForUsersWriteWithNamedPermission


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Seed 1's Alert API: what the rules raised, each delivery's outcome, and resolving.

    Resolving needs the "change alert" permission; resolving a resolved alert changes nothing.
    """

    queryset = Alert.objects.select_related(
        "rule", "product__brand", "retailer", "resolved_by"
    ).prefetch_related("deliveries__channel")
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    ordering_fields = ["triggered_at", "last_seen_at", "occurrences"]
    search_fields = ["title"]
    permission_classes = [ReadForUsersWriteWithNamedPermission]
    write_permission = "alerts.change_alert"

    @extend_schema(request=None, responses={200: AlertSerializer})
    @action(detail=True, methods=["put", "post"])
    def resolve(self, request, pk=None):
        alert = self.get_object()
        alerts_resolve(alert_ids=[alert.pk], user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=alert.pk)).data)
