"""Pages where merchandisers review recommended prices, follow MAP violations, and see a
product's price history.

Like scraping's pages, each renders whole for a plain request and only its swapped fragment for
htmx (`scraping.views.render_page` decides), and every htmx action is also a plain link or
form. Writes go through `pricing.services`; deciding needs "change recommendation".
"""

import csv
from collections.abc import Iterator
from datetime import UTC, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe

from catalog.models import Product
from pricing import charts, page_selectors, services
from pricing.forecasting import selectors as forecasting_selectors
from pricing.models import Recommendation
from pricing.selectors import map_violations_csv_rows
from scraping.views import render_page, safe_next

DECIDE = "pricing.change_recommendation"
REVIEW_PAGE_SIZE = 50
MAP_VIOLATIONS_PAGE_SIZE = 50
# A year of history: years of daily probes would make a chart nobody can read.
CHART_DAYS = 365
REVIEW_ROW = "pricing/review.html#review-row"


# --- Price review -----------------------------------------------------------------------------


def review_filters(request: HttpRequest) -> dict[str, str]:
    status = request.GET.get("status", page_selectors.DEFAULT_REVIEW_STATUS)
    if status not in page_selectors.REVIEW_STATUSES:
        status = page_selectors.DEFAULT_REVIEW_STATUS
    return {
        "status": status,
        "brand": request.GET.get("brand", ""),
        "category": request.GET.get("category", ""),
        "retailer": request.GET.get("retailer", ""),
    }


@require_safe
@login_required
def review(request: HttpRequest) -> HttpResponse:
    filters = review_filters(request)
    queryset = page_selectors.review_queue(**filters)
    page = Paginator(queryset, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": page_selectors.review_rows(page),
        "filters": filters,
        "filtered": any(filters[key] for key in ("brand", "category", "retailer")),
        "choices": page_selectors.review_choices(),
        "statuses": [
            ("proposed", "Open"),
            ("applied", "Applied"),
            ("rejected", "Rejected"),
            ("all", "All"),
        ],
        "next_url": request.get_full_path(),
    }
    return render_page(request, "pricing/review.html", context, partial="review-table")


@login_required
@require_POST
@permission_required(DECIDE, raise_exception=True)
def recommendation_approve(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    return decide_one(request, recommendation_id, approve=True)


@login_required
@require_POST
@permission_required(DECIDE, raise_exception=True)
def recommendation_reject(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    return decide_one(request, recommendation_id, approve=False)


def decide_one(request: HttpRequest, recommendation_id: int, *, approve: bool) -> HttpResponse:
    """Approve or reject; htmx gets the row in its new state, a plain post goes back."""
    recommendation = get_object_or_404(
        Recommendation.objects.select_related("product__brand"), pk=recommendation_id
    )
    decide = services.recommendation_approve if approve else services.recommendation_reject
    refusal = ""
    try:
        decided = decide(recommendation_id=recommendation.pk, user=request.user)
    except services.DecisionRefused as exc:
        refusal = str(exc)
    next_url = safe_next(request, default=reverse("pricing:review"))
    if request.htmx:
        row = page_selectors.review_row(
            page_selectors.review_recommendation(recommendation_id=recommendation.pk)
        )
        return render(request, REVIEW_ROW, {"row": row, "notice": refusal, "next_url": next_url})
    product = recommendation.product
    if refusal:
        messages.error(request, f"{product.brand.name} {product.reference}: {refusal}")
    elif approve:
        messages.success(
            request,
            f"Approved {product.brand.name} {product.reference}: our price is now "
            f"{decided.recommended_price:,.2f} {decided.currency}.",
        )
    else:
        messages.success(
            request, f"Rejected the recommendation for {product.brand.name} {product.reference}."
        )
    return redirect(next_url)


@login_required
@require_POST
@permission_required(DECIDE, raise_exception=True)
def recommendations_decide(request: HttpRequest) -> HttpResponse:
    """The bulk form: approve or reject every ticked recommendation, then back to the list."""
    next_url = safe_next(request, default=reverse("pricing:review"))
    decision = request.POST.get("decision")
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    if decision not in ("approve", "reject"):
        messages.error(request, "Choose approve or reject.")
        return redirect(next_url)
    if not ids:
        messages.warning(request, "Tick at least one recommendation first.")
        return redirect(next_url)
    outcome = services.recommendations_decide(
        recommendation_ids=ids, approve=decision == "approve", user=request.user
    )
    if outcome.decided:
        count = len(outcome.decided)
        verb = "Approved" if decision == "approve" else "Rejected"
        applied = " and applied their prices" if decision == "approve" else ""
        messages.success(
            request, f"{verb} {count} recommendation{'s' if count != 1 else ''}{applied}."
        )
    if outcome.refused:
        names = dict(
            (pk, f"{brand} {reference}")
            for pk, brand, reference in Recommendation.objects.filter(
                pk__in=outcome.refused
            ).values_list("pk", "product__brand__name", "product__reference")
        )
        listed = "; ".join(
            f"{names.get(pk, f'#{pk}')}: {reason}" for pk, reason in outcome.refused.items()
        )
        count = len(outcome.refused)
        messages.warning(request, f"{count} not decided. {listed}")
    return redirect(next_url)


@login_required
@require_POST
@permission_required(DECIDE, raise_exception=True)
def recommendations_recompute(request: HttpRequest) -> HttpResponse:
    summary = services.recommendations_refresh()
    parts = [
        f"{summary.raised} new proposal{'s' if summary.raised != 1 else ''}",
        f"{summary.kept} kept",
        f"{summary.superseded} superseded",
        f"{summary.unchanged} already at the right price",
    ]
    if summary.without_price:
        parts.append(f"{summary.without_price} without a price to start from")
    if summary.warnings:
        parts.append(f"{summary.warnings} with warnings")
    messages.success(request, f"Recomputed {summary.evaluated} products: {', '.join(parts)}.")
    return redirect(safe_next(request, default=reverse("pricing:review")))


@require_safe
@login_required
def recommendation_why(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    """The explanation: below its row for htmx, or a page of its own."""
    try:
        recommendation = page_selectors.review_recommendation(recommendation_id=recommendation_id)
    except Recommendation.DoesNotExist as exc:
        raise Http404("No such recommendation.") from exc
    # "Hide" swaps the row back to its empty placeholder; without htmx there is nothing to hide.
    hidden = bool(request.htmx) and request.GET.get("hide") == "1"
    context = {"recommendation": recommendation, "hidden": hidden}
    if not hidden:
        listing_ids = page_selectors.ignored_listing_ids(recommendation.explanation)
        context["explanation"] = page_selectors.explanation_display(
            recommendation.explanation,
            retailer_names=page_selectors.retailer_names_of(listing_ids=listing_ids),
        )
    return render_page(request, "pricing/explanation.html", context, partial="why-row")


# --- MAP violations ---------------------------------------------------------------------------


def map_violation_filters(request: HttpRequest) -> dict:
    """The state tab and the retailer and brand (by slug) asked for, resolved to ids."""
    retailers, brands = page_selectors.map_violation_choices()
    state = request.GET.get("state", "open")
    if state not in page_selectors.MAP_VIOLATION_STATES:
        state = "open"
    retailer_slug, brand_slug = request.GET.get("retailer", ""), request.GET.get("brand", "")
    retailer = next((r for r in retailers if r.slug == retailer_slug), None)
    brand = next((b for b in brands if b.slug == brand_slug), None)
    return {
        "state": state,
        "retailer": retailer,
        "brand": brand,
        "retailers": retailers,
        "brands": brands,
        "query": {
            "state": state,
            "retailer_id": retailer.pk if retailer else None,
            "brand_id": brand.pk if brand else None,
        },
    }


@require_safe
@login_required
def map_violations(request: HttpRequest) -> HttpResponse:
    filters = map_violation_filters(request)
    queryset = page_selectors.map_violations_page(**filters["query"])
    page = Paginator(queryset, MAP_VIOLATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "states": [("open", "Open"), ("closed", "Closed"), ("all", "All")],
        "now": timezone.now(),
    }
    return render_page(request, "pricing/map_violations.html", context, partial="violation-table")


class _Echo:
    """A file that hands back what is written to it, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterator[list[str]]) -> Iterator[str]:
    yield "\ufeff"  # Excel reads the file as UTF-8 with it
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)


@require_safe
@login_required
def map_violations_export(request: HttpRequest) -> StreamingHttpResponse:
    filters = map_violation_filters(request)
    now = timezone.now()
    queryset = page_selectors.map_violations_in(**filters["query"])
    filename = f"map-violations-{filters['state']}-{now:%Y%m%d-%H%M%S}.csv"
    return StreamingHttpResponse(
        csv_lines(map_violations_csv_rows(queryset, now=now)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- The product page -------------------------------------------------------------------------


@require_safe
@login_required
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    """Scraping's product page with the price history chart and the recommendation above the
    listings, whose rows are scraping's own partial (Probe Now included)."""
    try:
        product = page_selectors.product_for_page(product_id=product_id)
    except Product.DoesNotExist as exc:
        raise Http404("No such product.") from exc
    listings = product.listing_rows
    map_price = page_selectors.product_map_price(product)
    recommendation = page_selectors.product_recommendation(product_id=product.pk)
    names = {listing.pk: listing.retailer.name for listing in listings}
    now = timezone.now()
    history = page_selectors.product_price_history_chart(
        product=product,
        listings=listings,
        map_price=map_price,
        since=now - timedelta(days=CHART_DAYS),
    )
    context = {
        "product": product,
        "map_price": map_price,
        "row": page_selectors.review_row(recommendation) if recommendation else None,
        "explanation": (
            page_selectors.explanation_display(recommendation.explanation, retailer_names=names)
            if recommendation
            else None
        ),
        "open_violations": page_selectors.product_open_map_violations(product_id=product.pk),
        "history": history,
        "sentiment": page_selectors.product_sentiment_trend(product_id=product.pk),
        "forecasts": forecasting_selectors.product_forecasts(product_id=product.pk),
        # Built from escaped text only (see pricing.charts.render_svg).
        "chart": mark_safe(  # noqa: S308
            charts.price_chart_svg(
                history.series,
                history.levels,
                end=page_selectors.chart_window_end(history, now=now),
                title=f"Price history of {product.brand.name} {product.reference}",
                description=chart_description(product, history),
                currency=product.currency,
            )
        ),
        "next_url": request.get_full_path(),
    }
    return render(request, "pricing/product_detail.html", context)


def chart_description(product: Product, history: page_selectors.PriceHistory) -> str:
    """What the chart shows, in words, for screen readers and anyone the chart fails."""
    if not history.rows:
        return "No prices have been recorded for this product yet."
    retailers = [one.name for one in history.series if not one.ours]
    shown = []
    if any(one.ours for one in history.series):
        shown.append("our list price")
    if retailers:
        plural = "s" if len(retailers) != 1 else ""
        shown.append(f"the prices observed at {len(retailers)} retailer{plural}")
    first, last = history.rows[0][0], history.rows[-1][0]
    parts = [
        f"{' and '.join(shown).capitalize()} in {product.currency}, "
        f"from {first.astimezone(UTC):%Y-%m-%d} to {last.astimezone(UTC):%Y-%m-%d}"
        + (f": {', '.join(retailers)}." if retailers else ".")
    ]
    parts += [f"{level.name} {level.value:,.2f} is a horizontal line." for level in history.levels]
    return " ".join(parts)
