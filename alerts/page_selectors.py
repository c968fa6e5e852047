"""Reads for the alerts dashboard: the alerts asked for, active counts by kind, and how each
alert's notifications went.

The page reads a fixed number of queries however many rows it shows: every subject comes with
`select_related`, whether the probe's page is kept is an EXISTS in the same query, and the
deliveries (with their channels) are one prefetch for the whole page.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from alerts.models import Alert, AlertRule, Delivery, NotificationChannel
from catalog.models import Brand, Product, Retailer
from scraping.models import ProbePage

SHOWS = ("active", "history")
DEFAULT_SHOW = "active"

# The rule kinds' labels say what a rule watches ("A competitor dropped more than X%"); a badge
# on an alert needs the short name of what happened.
KIND_NAMES = {
    AlertRule.Kind.PRICE_CHANGE: "Price change",
    AlertRule.Kind.COMPETITOR_DROP: "Competitor drop",
    AlertRule.Kind.NEW_LOWEST_PRICE: "New lowest price",
    AlertRule.Kind.MAP_VIOLATION: "MAP violation",
    AlertRule.Kind.OUT_OF_STOCK: "Out of stock",
    AlertRule.Kind.BACK_IN_STOCK: "Back in stock",
    AlertRule.Kind.PROBE_FAILURES: "Probe failures",
    AlertRule.Kind.RECOMMENDATION_WAITING: "Recommendation waiting",
}
CHANNEL_WORDS = {
    NotificationChannel.Kind.EMAIL: "email",
    NotificationChannel.Kind.WEBHOOK: "webhook",
    NotificationChannel.Kind.APPRISE: "chat",
}
DELIVERY_WORDS = {
    Delivery.Status.PENDING: "pending",
    Delivery.Status.SENT: "sent",
    Delivery.Status.RETRYING: "retrying",
    Delivery.Status.FAILED: "failed",
    Delivery.Status.DIGESTED: "in the daily digest",
}


def active_alerts() -> Q:
    return Q(resolved=False, cleared_at__isnull=True)


def dashboard_alerts() -> QuerySet[Alert]:
    """Alerts with every subject a row links to and every delivery, for any number of rows."""
    # The alert's own messages first, then the all-clear ones notify_on_close sends.
    deliveries = Delivery.objects.select_related("channel").order_by(
        "-event", "channel__name", "pk"
    )
    return (
        Alert.objects.select_related(
            "product__brand",
            "listing__product__brand",
            "listing__retailer",
            "retailer",
            "probe",
            "map_violation__listing__retailer",
            "recommendation",
            "resolved_by",
        )
        .annotate(probe_has_page=Exists(ProbePage.objects.filter(probe_id=OuterRef("probe_id"))))
        .prefetch_related(Prefetch("deliveries", queryset=deliveries))
    )


def alerts_matching(
    *,
    kind: str = "",
    brand: str = "",
    retailer: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Q:
    """Alerts of a kind, about a brand's watch or at a retailer (by slug), triggered in
    [since, until)."""
    condition = Q()
    if kind:
        condition &= Q(kind=kind)
    if brand:
        condition &= Q(product__brand__slug=brand) | Q(listing__product__brand__slug=brand)
    if retailer:
        condition &= Q(retailer__slug=retailer) | Q(listing__retailer__slug=retailer)
    if since is not None:
        condition &= Q(triggered_at__gte=since)
    if until is not None:
        condition &= Q(triggered_at__lt=until)
    return condition


def dashboard_page(*, show: str = DEFAULT_SHOW, **filters) -> QuerySet[Alert]:
    """The active alerts, or every alert for the history; newest first either way."""
    queryset = dashboard_alerts().filter(alerts_matching(**filters))
    if show != "history":
        queryset = queryset.filter(active_alerts())
    return queryset.order_by("-triggered_at", "-pk")


def dashboard_alert(*, alert_id: int) -> Alert:
    return dashboard_alerts().get(pk=alert_id)


@dataclass(frozen=True)
class KindCount:
    kind: str
    name: str
    count: int


def active_counts_by_kind(**filters) -> list[KindCount]:
    """How many alerts of each kind are active, among those the other filters leave; every
    kind with at least one, in the rules' order."""
    counts = dict(
        Alert.objects.filter(active_alerts(), alerts_matching(**filters))
        .values_list("kind")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return [
        KindCount(kind=kind, name=name, count=counts[kind])
        for kind, name in KIND_NAMES.items()
        if counts.get(kind)
    ]


@dataclass(frozen=True)
class DeliveryNote:
    """One message's outcome in a few words, e.g. "webhook failed (3 tries)" or "email
    all-clear sent"."""

    text: str
    status: str
    detail: str


def delivery_notes(deliveries: Iterable[Delivery]) -> list[DeliveryNote]:
    """What happened to each notification: expects the channels selected with them."""
    notes = []
    for delivery in deliveries:
        channel = delivery.channel
        text = CHANNEL_WORDS.get(channel.kind, channel.kind)
        if delivery.event == Delivery.Event.CLEARED:
            text += " all-clear"
        text += f" {DELIVERY_WORDS.get(delivery.status, delivery.status)}"
        if delivery.status in (Delivery.Status.FAILED, Delivery.Status.RETRYING) or (
            delivery.attempts > 1
        ):
            text += f" ({delivery.attempts} tr{'ies' if delivery.attempts != 1 else 'y'})"
        detail = channel.name
        if delivery.last_error and delivery.status != Delivery.Status.SENT:
            detail += f": {delivery.last_error}"
        notes.append(DeliveryNote(text=text, status=delivery.status, detail=detail))
    return notes


@dataclass(frozen=True)
class DashboardChoices:
    kinds: list[tuple[str, str]]
    brands: list[Brand]
    retailers: list[Retailer]


def dashboard_choices() -> DashboardChoices:
    return DashboardChoices(
        kinds=list(KIND_NAMES.items()),
        brands=list(Brand.objects.only("name", "slug").order_by("name")),
        retailers=list(Retailer.objects.only("name", "slug").order_by("name")),
    )


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    deliveries: list[DeliveryNote]

    @property
    def product(self) -> Product | None:
        """The watch the alert is about, directly or through its listing."""
        alert = self.alert
        return alert.product or (alert.listing.product if alert.listing else None)

    @property
    def retailer(self) -> Retailer | None:
        alert = self.alert
        return alert.retailer or (alert.listing.retailer if alert.listing else None)

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.alert.kind, self.alert.kind)


def dashboard_row(alert: Alert) -> AlertRow:
    return AlertRow(alert=alert, deliveries=delivery_notes(alert.deliveries.all()))


def dashboard_rows(alerts: Iterable[Alert]) -> list[AlertRow]:
    return [dashboard_row(alert) for alert in alerts]
