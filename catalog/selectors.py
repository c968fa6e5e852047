from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth

from catalog.models import Listing, Product, Review


def product_list_with_market() -> QuerySet[Product]:
    """Products with how many listings they have and the lowest in-stock market price.

    The lowest price only counts listings in the product's own currency: comparing a CHF price
    with a USD one would need a rate we do not keep.
    """
    lowest = (
        Listing.objects.filter(
            product=OuterRef("pk"),
            active=True,
            available=True,
            last_price__isnull=False,
            currency=OuterRef("currency"),
        )
        .order_by("last_price")
        .values("last_price")[:1]
    )
    # An aggregate drops Meta.ordering; pages need a stable order, so it is restated.
    return (
        Product.objects.select_related("brand")
        .annotate(
            listing_count=Count("listings", filter=Q(listings__active=True), distinct=True),
            lowest_market_price=Subquery(lowest),
        )
        .order_by(*Product._meta.ordering)
    )


def lowest_market_price(*, product: Product):
    return Listing.objects.filter(
        product=product,
        active=True,
        available=True,
        last_price__isnull=False,
        currency=product.currency,
    ).aggregate(lowest=Min("last_price"))["lowest"]


# --- Review sentiment -------------------------------------------------------------------------


@dataclass(frozen=True)
class SentimentMonth:
    month: date
    reviews: int
    positive: int
    neutral: int
    negative: int
    # Over the month's scored reviews; None when none is scored yet.
    average_score: float | None
    average_rating: float | None


@dataclass(frozen=True)
class ProductSentiment:
    reviews: int
    positive: int
    neutral: int
    negative: int
    unscored: int
    average_score: float | None
    average_rating: float | None
    months: list[SentimentMonth] = field(default_factory=list)


def product_sentiment(
    *, product_id: int, since: datetime | None = None, source: str | None = None
) -> ProductSentiment:
    """A product's review sentiment in total and by calendar month (UTC), oldest month first;
    with `source`, only the reviews from there (a listing's are its retailer's slug).

    One aggregate query grouped by month; the totals are sums of the month rows.
    """
    reviews = Review.objects.filter(product_id=product_id)
    if source is not None:
        reviews = reviews.filter(source=source)
    if since is not None:
        reviews = reviews.filter(posted_at__gte=since)
    rows = (
        reviews.annotate(month=TruncMonth("posted_at", tzinfo=UTC))
        .values("month")
        .annotate(
            reviews=Count("pk"),
            positive=Count("pk", filter=Q(sentiment_label=Review.Sentiment.POSITIVE)),
            neutral=Count("pk", filter=Q(sentiment_label=Review.Sentiment.NEUTRAL)),
            negative=Count("pk", filter=Q(sentiment_label=Review.Sentiment.NEGATIVE)),
            scored=Count("sentiment_score"),
            score_sum=Sum("sentiment_score"),
            rating_sum=Sum("rating"),
        )
        .order_by("month")
    )
    months = []
    totals = {"reviews": 0, "positive": 0, "neutral": 0, "negative": 0, "scored": 0}
    score_sum, rating_sum = 0.0, 0
    for row in rows:
        for name in totals:
            totals[name] += row[name]
        score_sum += row["score_sum"] or 0.0
        rating_sum += row["rating_sum"] or 0
        month = row["month"]
        months.append(
            SentimentMonth(
                month=month.date() if isinstance(month, datetime) else month,
                reviews=row["reviews"],
                positive=row["positive"],
                neutral=row["neutral"],
                negative=row["negative"],
                average_score=_mean(row["score_sum"], row["scored"], 3),
                average_rating=_mean(row["rating_sum"], row["reviews"], 2),
            )
        )
    return ProductSentiment(
        reviews=totals["reviews"],
        positive=totals["positive"],
        neutral=totals["neutral"],
        negative=totals["negative"],
        unscored=totals["reviews"] - totals["scored"],
        average_score=_mean(score_sum, totals["scored"], 3),
        average_rating=_mean(rating_sum, totals["reviews"], 2),
        months=months,
    )


def _mean(total: float | int | None, count: int, digits: int) -> float | None:
    return round(float(total) / count, digits) if count and total is not None else None


def product_latest_reviews(*, product_id: int, limit: int = 5) -> list[Review]:
    return list(Review.objects.filter(product_id=product_id).order_by("-posted_at", "-pk")[:limit])
