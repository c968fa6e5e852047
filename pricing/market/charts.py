"""The market trend drawn on the server as SVG, with `pricing.charts` (the product page's chart).

SVG made here rather than in the browser: it shows with JavaScript off and in a saved page,
there is no charting library to vendor or update, an htmx swap carries the chart with the numbers
it belongs to, and tests read it as markup. Plain functions over plain data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from decimal import Decimal

from pricing import charts
from pricing.market.selectors import TrendDay

OUR_PRICE = Decimal("100")


def trend_chart_svg(days: Sequence[TrendDay], *, title: str, start, end) -> str:
    """The daily mean market index against our price (the level at 100), over the range."""
    points = [
        charts.Point(datetime.combine(day.day, time(12), tzinfo=UTC), day.index) for day in days
    ]
    series = [charts.Series(name="Market price index (daily mean)", points=points)]
    levels = [charts.Level(name="Our price", value=OUR_PRICE)]
    plot = charts.plot(
        series,
        levels,
        start=datetime.combine(start, time.min, tzinfo=UTC),
        end=datetime.combine(end, time.max, tzinfo=UTC),
    )
    return charts.render_svg(
        plot, title=title, description=trend_description(days), id_prefix="market-trend"
    )


def trend_description(days: Sequence[TrendDay]) -> str:
    if not days:
        return "No competitor prices were observed in this range."
    first, last = days[0], days[-1]
    low = min(days, key=lambda day: day.index)
    high = max(days, key=lambda day: day.index)
    return (
        f"The market's prices as a percentage of ours (100 is our price), averaged per day over "
        f"{len(days)} day{'s' if len(days) != 1 else ''} from {first.day:%Y-%m-%d} to "
        f"{last.day:%Y-%m-%d}: {first.index} on the first day, {last.index} on the last, "
        f"lowest {low.index} on {low.day:%Y-%m-%d}, highest {high.index} on {high.day:%Y-%m-%d}."
    )
