"""The market dashboard page: the whole page for a plain request, the sections alone for htmx.

The filter form is a plain GET form (it works without JavaScript); htmx submits it on change,
swaps the sections in place and pushes the URL, so a filtered view can be bookmarked and shared.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from pricing.market import charts, filters, rollups, selectors
from scraping.views import render_page


@require_safe
@login_required
def market(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    asked = filters.market_filters(request.GET, today=now.date())
    choices = selectors.dashboard_choices()
    errors = list(asked.errors)
    brand = next((one for one in choices.brands if one.slug == asked.brand), None)
    if asked.brand and brand is None:
        errors.append(f"Brand: there is no brand {asked.brand!r}; showing every brand.")
    category = asked.category if asked.category in choices.categories else ""
    if asked.category and not category:
        errors.append(f"Category: there is no category {asked.category!r}; showing them all.")
    scope = selectors.Scope(brand_id=brand.pk if brand else None, category=category)
    sections = rollups.dashboard_sections(scope=scope, asked=asked, now=now)
    trend = sections.trend
    scope_name = " · ".join(part for part in (brand.name if brand else "", category) if part)
    context = {
        "filters": asked,
        "choices": choices,
        "brand": brand,
        "category": category,
        "scope_name": scope_name or "Whole catalog",
        "errors": errors,
        "presets": filters.PRESETS,
        "max_age_hours": settings.PRICING_MAX_OBSERVATION_AGE_HOURS,
        "as_of": sections.as_of,
        "movers_live": sections.movers_live,
        "failed_at": sections.failed_at,
        "standing": sections.standing,
        "movers": sections.movers,
        "violations": sections.violations,
        "health": sections.health,
        "health_groups": selectors.HEALTH_GROUPS,
        "trend": trend,
        # Built from escaped text only (see pricing.charts.render_svg).
        "chart": mark_safe(  # noqa: S308
            charts.trend_chart_svg(
                trend,
                title=f"Market price index, {scope_name or 'whole catalog'}",
                start=asked.start,
                end=asked.end,
            )
        ),
    }
    return render_page(request, "pricing/market.html", context, partial="market-sections")
