"""Reads for the pricing pages: the review queue, MAP violation episodes, the product page.

Each page reads a fixed number of queries however many rows it shows: relations come with
`select_related`, the open-MAP-violation flag is an EXISTS in the same query, competitor
prices come out of the stored explanation, and evidence is one prefetch for the whole page.
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet

from catalog.models import Brand, Listing, Product, Retailer, Review
from catalog.selectors import (
    ProductSentiment,
    SentimentMonth,
    product_latest_reviews,
    product_sentiment,
)
from catalog.sentiment import label_for
from ledger.canonical import format_utc
from ledger.models import LedgerEntry
from ledger.selectors import product_price_history
from pricing import charts
from pricing.inputs import own_map_price
from pricing.models import MapViolation, PricingRule, Recommendation
from pricing.selectors import map_violations_list
from scraping.models import Probe, ProbePage
from scraping.selectors import products_with_listings

REVIEW_STATUSES = {
    "proposed": (Recommendation.Status.PROPOSED,),
    "applied": (Recommendation.Status.APPLIED, Recommendation.Status.APPROVED),
    "rejected": (Recommendation.Status.REJECTED,),
    "all": None,
}
DEFAULT_REVIEW_STATUS = "proposed"
COMPETITORS_SHOWN = 3
MAP_VIOLATION_STATES = ("open", "closed", "all")


# --- The review queue -------------------------------------------------------------------------


def open_map_violation_exists(product_ref: str) -> Exists:
    """Whether any vendor (1P) listing of the product is in an open MAP violation episode."""
    return Exists(
        MapViolation.objects.filter(
            listing__product_id=OuterRef(product_ref),
            listing__retailer__retailer_type=Retailer.RetailerType.VENDOR,
            closed_at__isnull=True,
        )
    )


def review_recommendations() -> QuerySet[Recommendation]:
    """Recommendations with everything a review row shows, in one query for any number."""
    return Recommendation.objects.select_related(
        "product__brand", "product__map_policy", "decided_by"
    ).annotate(map_violation_open=open_map_violation_exists("product_id"))


def review_queue(
    *, status: str = DEFAULT_REVIEW_STATUS, brand: str = "", category: str = "", retailer: str = ""
) -> QuerySet[Recommendation]:
    """The rows of the review page; open proposals (one per product) by default.

    Open proposals read in catalog order, so the queue stays put while people work through
    it; other views show the latest decisions first.
    """
    queryset = review_recommendations()
    statuses = REVIEW_STATUSES.get(status, REVIEW_STATUSES[DEFAULT_REVIEW_STATUS])
    if statuses is not None:
        queryset = queryset.filter(status__in=statuses)
    if brand:
        queryset = queryset.filter(product__brand__slug=brand)
    if category:
        queryset = queryset.filter(product__category=category)
    if retailer:
        queryset = queryset.filter(
            Exists(
                Listing.objects.filter(product_id=OuterRef("product_id"), retailer__slug=retailer)
            )
        )
    if statuses == REVIEW_STATUSES["proposed"]:
        return queryset.order_by("product__brand__name", "product__reference", "pk")
    # Open ones (no decision yet) first on every database, then the latest decisions.
    return queryset.order_by(F("decided_at").desc(nulls_first=True), "-created_at", "-pk")


def review_recommendation(*, recommendation_id: int) -> Recommendation:
    return review_recommendations().get(pk=recommendation_id)


@dataclass(frozen=True)
class ReviewChoices:
    brands: list[Brand]
    categories: list[str]
    retailers: list[Retailer]


def review_choices() -> ReviewChoices:
    return ReviewChoices(
        brands=list(Brand.objects.only("name", "slug").order_by("name")),
        categories=list(
            Product.objects.exclude(category="")
            .order_by("category")
            .values_list("category", flat=True)
            .distinct()
        ),
        retailers=list(Retailer.objects.only("name", "slug").order_by("name")),
    )


@dataclass(frozen=True)
class CompetitorPrice:
    retailer: str
    price: Decimal
    currency: str
    listing_id: int
    observed_at: datetime | None


@dataclass(frozen=True)
class ReviewRow:
    recommendation: Recommendation
    competitors: list[CompetitorPrice]
    competitors_more: int
    map_price: Decimal | None
    map_violation_open: bool

    @property
    def product(self) -> Product:
        return self.recommendation.product

    @property
    def delta(self) -> Decimal | None:
        return self.recommendation.delta

    @property
    def delta_percent(self) -> Decimal | None:
        current = self.recommendation.current_price
        if self.delta is None or not current:
            return None
        return (self.delta * 100 / current).quantize(Decimal("0.1"))

    @property
    def direction(self) -> str:
        """The recommended price against ours: "down", "up" or "flat"."""
        if not self.delta:
            return "flat"
        return "down" if self.delta < 0 else "up"

    @property
    def below_map(self) -> bool:
        return self.map_price is not None and self.recommendation.recommended_price < self.map_price

    @property
    def is_open(self) -> bool:
        return self.recommendation.status == Recommendation.Status.PROPOSED


def as_decimal(text: Any) -> Decimal | None:
    if text in (None, ""):
        return None
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return None


def as_moment(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def competitor_prices(explanation: dict) -> list[CompetitorPrice]:
    """The observations the engine used, cheapest first."""
    prices = []
    for used in explanation.get("used", []):
        price = as_decimal(used.get("price"))
        if price is None:
            continue
        prices.append(
            CompetitorPrice(
                retailer=used.get("retailer", ""),
                price=price,
                currency=used.get("currency", ""),
                listing_id=used.get("listing_id"),
                observed_at=as_moment(used.get("observed_at")),
            )
        )
    return sorted(prices, key=lambda competitor: (competitor.price, competitor.retailer))


def product_map_price(product: Product) -> Decimal | None:
    """Our MAP for the product; expects `map_policy` selected with it (no query)."""
    policy = getattr(product, "map_policy", None)
    return own_map_price(msrp=product.msrp, override=policy.map_price if policy else None)


def review_row(recommendation: Recommendation) -> ReviewRow:
    competitors = competitor_prices(recommendation.explanation or {})
    return ReviewRow(
        recommendation=recommendation,
        competitors=competitors[:COMPETITORS_SHOWN],
        competitors_more=max(0, len(competitors) - COMPETITORS_SHOWN),
        map_price=product_map_price(recommendation.product),
        map_violation_open=bool(getattr(recommendation, "map_violation_open", False)),
    )


def review_rows(recommendations: Iterable[Recommendation]) -> list[ReviewRow]:
    return [review_row(recommendation) for recommendation in recommendations]


# --- The explanation --------------------------------------------------------------------------


KIND_LABELS = {"start": "Start", **dict(PricingRule.Kind.choices)}


@dataclass(frozen=True)
class ExplanationStep:
    number: int
    rule: str
    kind: str
    kind_label: str
    before: Decimal | None
    after: Decimal | None
    change: Decimal | None
    note: str
    skipped: bool
    binds: bool
    inputs: dict[str, Any]


@dataclass(frozen=True)
class IgnoredObservation:
    listing_id: int
    retailer: str
    reason: str


@dataclass(frozen=True)
class Explanation:
    currency: str
    price: Decimal | None
    steps: list[ExplanationStep]
    bound_by: str | None
    used: list[CompetitorPrice]
    ignored: list[IgnoredObservation]
    warnings: list[str] = field(default_factory=list)


def explanation_display(explanation: dict, *, retailer_names: dict[int, str]) -> Explanation:
    """The stored explanation made ready to show: money as Decimal, each step's change, the
    ignored listings named by retailer."""
    steps = []
    bound_by = explanation.get("bound_by")
    for number, step in enumerate(explanation.get("steps", []), start=1):
        before, after = as_decimal(step.get("before")), as_decimal(step.get("after"))
        change = after - before if before is not None and after is not None else None
        note = step.get("note", "")
        steps.append(
            ExplanationStep(
                number=number,
                rule=step.get("rule", ""),
                kind=step.get("kind", ""),
                kind_label=KIND_LABELS.get(step.get("kind", ""), step.get("kind", "")),
                before=before,
                after=after,
                change=change,
                note=note,
                skipped=note.startswith("skipped"),
                binds=bound_by is not None and step.get("rule") == bound_by and bool(change),
                inputs=step.get("inputs", {}),
            )
        )
    ignored = [
        IgnoredObservation(
            listing_id=item.get("listing_id"),
            retailer=retailer_names.get(item.get("listing_id"), ""),
            reason=item.get("reason", ""),
        )
        for item in explanation.get("ignored", [])
    ]
    return Explanation(
        currency=explanation.get("currency", ""),
        price=as_decimal(explanation.get("price")),
        steps=steps,
        bound_by=bound_by,
        used=competitor_prices(explanation),
        ignored=ignored,
        warnings=list(explanation.get("warnings", [])),
    )


def ignored_listing_ids(explanation: dict) -> list[int]:
    return [item["listing_id"] for item in explanation.get("ignored", []) if "listing_id" in item]


def retailer_names_of(*, listing_ids: Sequence[int]) -> dict[int, str]:
    if not listing_ids:
        return {}
    return dict(Listing.objects.filter(pk__in=listing_ids).values_list("pk", "retailer__name"))


# --- MAP violations ---------------------------------------------------------------------------


def map_violations_in(
    *, state: str = "open", retailer_id: int | None = None, brand_id: int | None = None
) -> QuerySet[MapViolation]:
    """Episodes in a state ("open", "closed" or "all"), newest first: what the CSV exports."""
    queryset = map_violations_list(
        open_only=state == "open", retailer_id=retailer_id, brand_id=brand_id
    )
    if state == "closed":
        queryset = queryset.filter(closed_at__isnull=False)
    return queryset


def map_violations_page(
    *, state: str = "open", retailer_id: int | None = None, brand_id: int | None = None
) -> QuerySet[MapViolation]:
    """The same episodes for the page, each with its evidence probes (and whether their page
    is kept) prefetched for the whole page at once."""
    evidence = (
        Probe.objects.only("pk", "created_at", "ledger_seq", "price", "listing_id")
        .annotate(has_page=Exists(ProbePage.objects.filter(probe=OuterRef("pk"))))
        .order_by("created_at", "pk")
    )
    return map_violations_in(
        state=state, retailer_id=retailer_id, brand_id=brand_id
    ).prefetch_related(Prefetch("evidence", queryset=evidence))


def map_violation_choices() -> tuple[list[Retailer], list[Brand]]:
    retailers = Retailer.objects.filter(retailer_type=Retailer.RetailerType.VENDOR).only(
        "name", "slug"
    )
    return list(retailers.order_by("name")), list(Brand.objects.only("name", "slug"))


# --- The product page -------------------------------------------------------------------------


def product_for_page(*, product_id: int) -> Product:
    """The product with its listings (scraping's selector) and its MAP override."""
    return products_with_listings().select_related("map_policy").get(pk=product_id)


def product_recommendation(*, product_id: int) -> Recommendation | None:
    """The open proposal, else the latest decided one (superseded ones are no news)."""
    recommendations = review_recommendations().filter(product_id=product_id)
    proposed = recommendations.filter(status=Recommendation.Status.PROPOSED).first()
    if proposed is not None:
        return proposed
    return (
        recommendations.exclude(status=Recommendation.Status.SUPERSEDED)
        .order_by("-created_at", "-pk")
        .first()
    )


def product_open_map_violations(*, product_id: int) -> list[MapViolation]:
    return list(
        MapViolation.objects.filter(listing__product_id=product_id, closed_at__isnull=True)
        .select_related("listing__retailer")
        .order_by("opened_at")
    )


@dataclass(frozen=True)
class PriceHistory:
    series: list[charts.Series]
    levels: list[charts.Level]
    # For the table under the chart: (when, series name, price), oldest first.
    rows: list[tuple[datetime, str, Decimal]]
    skipped_other_currency: int = 0


def recorded_moment(entry: LedgerEntry, payload: dict, key: str | None = None) -> datetime:
    """When the price held: the payload's own time when it has one, else when it was recorded."""
    return as_moment(payload.get(key) if key else None) or as_moment(entry.recorded_at)


OUR_PRICE = "Our price"


def product_price_history_chart(
    *,
    product: Product,
    listings: Sequence[Listing],
    map_price: Decimal | None,
    since: datetime | None = None,
) -> PriceHistory:
    """Our list price and every retailer's observed prices, from the ledger, as chart series.

    Our price comes from `list_price_set` entries, a retailer's from `observation` and
    `price_point` entries (named through the product's listings). Prices in another currency
    than the product's are left out: they cannot share an axis without a rate we do not keep.
    With `since`, only entries recorded from then on count, and our price in force at that
    moment (its last setting before) starts our series there.
    """
    retailer_names = {listing.retailer_id: listing.retailer.name for listing in listings}
    ours: list[charts.Point] = []
    theirs: dict[str, list[charts.Point]] = {}
    other_currency = 0
    entries = product_price_history(product_id=product.pk).only(
        "seq", "kind", "payload", "recorded_at", "retailer_id", "product_id"
    )
    if since is not None:
        # recorded_at is fixed-width UTC text, so text order is time order.
        entries = entries.filter(recorded_at__gte=format_utc(since))
        in_force = (
            product_price_history(product_id=product.pk)
            .filter(kind=LedgerEntry.Kind.LIST_PRICE_SET, recorded_at__lt=format_utc(since))
            .only("payload")
            .order_by("-seq")
            .first()
        )
        if in_force is not None:
            payload = json.loads(in_force.payload)
            price = as_decimal(payload.get("list_price"))
            if price is not None and payload.get("currency") in (None, product.currency):
                ours.append(charts.Point(since, price))
    for entry in entries:
        payload = json.loads(entry.payload)
        if payload.get("currency") not in (None, product.currency):
            other_currency += 1
            continue
        if entry.kind == LedgerEntry.Kind.LIST_PRICE_SET:
            price = as_decimal(payload.get("list_price"))
            if price is not None:
                ours.append(charts.Point(recorded_moment(entry, payload), price))
            continue
        price = as_decimal(payload.get("price"))
        if price is None:
            continue
        retailer_id = payload.get("retailer") or entry.retailer_id
        name = retailer_names.get(retailer_id, f"Retailer #{retailer_id}")
        theirs.setdefault(name, []).append(
            charts.Point(recorded_moment(entry, payload, "observed_at"), price)
        )

    series = [charts.Series(OUR_PRICE, ours, step=True, ours=True)] if ours else []
    series += [charts.Series(name, points) for name, points in sorted(theirs.items())]
    levels = []
    if product.msrp is not None:
        levels.append(charts.Level("MSRP", product.msrp))
    if map_price is not None:
        levels.append(charts.Level("MAP", map_price))
    rows = sorted(
        ((point.at, one.name, point.value) for one in series for point in one.points),
        key=lambda row: (row[0], row[1] != OUR_PRICE, row[1]),
    )
    return PriceHistory(series, levels, rows, other_currency)


def chart_window_end(history: PriceHistory, *, now: datetime) -> datetime | None:
    """Charts run to now, so our price's last step reaches today; an empty one has no axis."""
    if not any(one.points for one in history.series):
        return None
    last = max(point.at for one in history.series for point in one.points)
    return max(now, last + timedelta(seconds=1))


# --- The product page's review sentiment -------------------------------------------------------

SENTIMENT_MONTHS_SHOWN = 12
LATEST_REVIEWS_SHOWN = 5


@dataclass(frozen=True)
class SentimentRow:
    month: SentimentMonth
    # A bar from the middle of a 0-100 wide track: right for positive, left for negative.
    bar_x: float
    bar_width: float
    direction: str  # "positive", "negative" or "neutral"


@dataclass(frozen=True)
class SentimentTrend:
    summary: ProductSentiment
    rows: list[SentimentRow]
    months_hidden: int
    latest: list[Review]

    @property
    def positive_percent(self) -> int | None:
        scored = self.summary.reviews - self.summary.unscored
        return round(100 * self.summary.positive / scored) if scored else None


def product_sentiment_trend(*, product_id: int) -> SentimentTrend:
    """The last months' average sentiment with review counts, and the latest reviews: two
    queries however many reviews the product has."""
    summary = product_sentiment(product_id=product_id)
    rows = []
    for month in summary.months[-SENTIMENT_MONTHS_SHOWN:]:
        score = month.average_score or 0.0
        width = abs(score) * 50
        direction = "neutral" if month.average_score is None else label_for(score).value
        rows.append(
            SentimentRow(
                month=month,
                bar_x=50 if score >= 0 else 50 - width,
                bar_width=round(width, 2),
                direction=direction,
            )
        )
    return SentimentTrend(
        summary=summary,
        rows=rows,
        months_hidden=max(0, len(summary.months) - SENTIMENT_MONTHS_SHOWN),
        latest=product_latest_reviews(product_id=product_id, limit=LATEST_REVIEWS_SHOWN),
    )
