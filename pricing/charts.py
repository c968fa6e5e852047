"""The price history chart, drawn on the server as SVG.

Why SVG made here rather than a JavaScript charting library: the chart shows with JavaScript
off (and in print, and in a saved page), there is no script to ship, pin or update, and what
the reviewer sees is markup a test can parse and count.

Plain functions over plain data, nothing from Django: `plot()` turns series of (time, price)
points and horizontal levels (MSRP, MAP) into coordinates, ticks and a legend; `render_svg()`
writes that as an accessible SVG string; `price_chart_svg()` does both. Prices stay Decimal;
only pixel positions are floats.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from html import escape

OUR_COLOR = "#1f4fd1"
RETAILER_COLORS = (
    "#0e8a7e",
    "#c2600c",
    "#7c4bd0",
    "#2f7d32",
    "#d0367a",
    "#0369a1",
    "#8a6100",
    "#55606e",
)
# Beyond the colors, dashes keep retailers apart: the first eight are solid, the next dashed.
RETAILER_DASHES = ("", "7 4", "2 3")
LEVEL_STYLES = {"MSRP": ("#6b7280", "8 5"), "MAP": ("#b42318", "3 3")}
DEFAULT_LEVEL_STYLE = ("#6b7280", "4 4")

DAY = timedelta(days=1)
# Fixed steps for the time axis; a month or more steps by calendar months instead.
TIME_STEPS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
)
MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60)
# Weeks start on Monday: 1970-01-05 was one.
TICK_EPOCH = datetime(1970, 1, 5, tzinfo=UTC)
CHAR_WIDTH = 6.6  # roughly, at the 12px legend size; enough to lay the legend out


@dataclass(frozen=True)
class Point:
    at: datetime
    value: Decimal


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[Point]
    # A price that holds until it changes (our list price) is drawn as steps.
    step: bool = False
    ours: bool = False


@dataclass(frozen=True)
class Level:
    """A horizontal line across the chart: MSRP, MAP."""

    name: str
    value: Decimal


@dataclass(frozen=True)
class Box:
    width: int = 880
    plot_height: int = 280
    left: int = 72
    right: int = 24
    top: int = 26
    axis_height: int = 34
    legend_row: int = 22

    @property
    def plot_right(self) -> float:
        return self.width - self.right


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class PlottedSeries:
    name: str
    color: str
    dash: str
    width: float
    # One marker per data point; the line adds the corners of steps.
    markers: tuple[tuple[float, float, Point], ...]
    line: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class PlottedLevel:
    name: str
    value: Decimal
    color: str
    dash: str
    y: float


@dataclass(frozen=True)
class LegendItem:
    name: str
    color: str
    dash: str
    width: float
    x: float
    y: float
    marker: bool


@dataclass(frozen=True)
class Plot:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    series: tuple[PlottedSeries, ...]
    levels: tuple[PlottedLevel, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    legend: tuple[LegendItem, ...]
    empty: bool


# --- Scales and ticks -------------------------------------------------------------------------


def scale(value: float, domain: tuple[float, float], span: tuple[float, float]) -> float:
    """Map value from the domain onto the span linearly; a zero-width domain maps to the middle."""
    low, high = domain
    start, end = span
    if high == low:
        return (start + end) / 2
    return start + (value - low) * (end - start) / (high - low)


def nice_step(span: Decimal, count: int) -> Decimal:
    """A step of 1, 2, 2.5 or 5 x 10^k giving about `count` intervals over the span."""
    if span <= 0:
        return Decimal(1)
    raw = span / count
    exponent = math.floor(math.log10(raw))
    magnitude = Decimal(10) ** exponent
    for factor in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if magnitude * factor >= raw:
            return magnitude * factor
    return magnitude * 10  # pragma: no cover - the loop always returns


def money_range(values: Sequence[Decimal], *, count: int = 5) -> tuple[Decimal, Decimal, Decimal]:
    """(low, high, step) of the money axis: every value inside, bounds on whole steps.

    A flat range (one price, or equal prices) opens by 5% of the price either way, at least 1.
    """
    low, high = min(values), max(values)
    if low == high:
        pad = max(abs(low) * Decimal("0.05"), Decimal(1))
        low, high = low - pad, high + pad
    else:
        pad = (high - low) * Decimal("0.06")
        low, high = low - pad, high + pad
    if min(values) >= 0:
        low = max(low, Decimal(0))
    step = nice_step(high - low, count)
    low = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    high = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    return low, high, step


def money_ticks(low: Decimal, high: Decimal, step: Decimal) -> list[Decimal]:
    ticks = []
    value = low
    while value <= high:
        ticks.append(value)
        value += step
    return ticks


def money_label(value: Decimal, step: Decimal) -> str:
    places = 0 if step == step.to_integral_value() else 2
    return f"{value:,.{places}f}"


def time_range(
    times: Sequence[datetime], *, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime] | None:
    """The time axis: from the first point (or `start`) to the last (or `end`).

    A single moment opens a day either way, so one point sits in the middle of the chart.
    """
    low = start or (min(times) if times else None)
    high = end or (max(times) if times else None)
    if times:
        low, high = min(low, *times), max(high, *times)
    if low is None or high is None:
        return None
    if low == high:
        return low - DAY, high + DAY
    return low, high


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def time_ticks(start: datetime, end: datetime, *, count: int = 7) -> list[datetime]:
    """Round moments (hours, midnights, Mondays, firsts of months) about `count` apart."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    wanted = (end - start) / count
    if wanted < TIME_STEPS[0]:
        # Under a few minutes there is no round moment worth marking: the two ends say it all.
        return [start, end]
    for step in TIME_STEPS:
        if step >= wanted:
            periods = math.ceil((start - TICK_EPOCH) / step)
            tick = TICK_EPOCH + periods * step
            ticks = []
            while tick <= end:
                ticks.append(tick)
                tick += step
            return ticks
    months = next((m for m in MONTH_STEPS if m * 30 * DAY >= wanted), MONTH_STEPS[-1])
    tick = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # Months counted from January, so a 3-month step lands on quarters.
    tick = add_months(tick, -((tick.month - 1) % months))
    while tick < start:
        tick = add_months(tick, months)
    ticks = []
    while tick <= end:
        ticks.append(tick)
        tick = add_months(tick, months)
    return ticks


def time_label(moment: datetime, *, span: timedelta) -> str:
    moment = moment.astimezone(UTC)
    if span > 400 * DAY:
        return f"{moment:%b %Y}"
    if span > 3 * DAY:
        return f"{moment:%b} {moment.day}"
    if span > timedelta(minutes=10):
        return f"{moment:%b} {moment.day} {moment:%H:%M}"
    return f"{moment:%H:%M:%S}"


# --- The plot ---------------------------------------------------------------------------------


def retailer_style(index: int) -> tuple[str, str]:
    color = RETAILER_COLORS[index % len(RETAILER_COLORS)]
    dash = RETAILER_DASHES[(index // len(RETAILER_COLORS)) % len(RETAILER_DASHES)]
    return color, dash


def legend_layout(
    entries: Sequence[tuple[str, str, str, float, bool]], *, box: Box, top: float
) -> tuple[tuple[LegendItem, ...], int]:
    """Legend entries left to right, wrapping; returns the items and how many rows they take."""
    items = []
    x, row = float(box.left), 0
    for name, color, dash, width, marker in entries:
        item_width = 30 + len(name) * CHAR_WIDTH + 22
        if x + item_width > box.plot_right and x > box.left:
            x, row = float(box.left), row + 1
        items.append(LegendItem(name, color, dash, width, x, top + row * box.legend_row, marker))
        x += item_width
    return tuple(items), (row + 1 if entries else 0)


def plot(
    series: Sequence[Series],
    levels: Sequence[Level] = (),
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    box: Box | None = None,
) -> Plot:
    """Where everything goes: markers and lines per series, levels, ticks and the legend.

    The time axis runs from the first point to the last, or to `end` when given (a step series
    then holds its last price to the right edge). The money axis covers every point and level.
    """
    box = box or Box()
    times = [point.at for one in series for point in one.points]
    values = [point.value for one in series for point in one.points]
    values += [level.value for level in levels]
    top, bottom = float(box.top), float(box.top + box.plot_height)
    left, right = float(box.left), box.plot_right
    span_x = time_range(times, start=start, end=end)
    empty = not times

    x_ticks: list[Tick] = []
    if span_x is not None:
        domain_x = (span_x[0].timestamp(), span_x[1].timestamp())
        length = span_x[1] - span_x[0]
        x_ticks = [
            Tick(scale(tick.timestamp(), domain_x, (left, right)), time_label(tick, span=length))
            for tick in time_ticks(*span_x)
        ]
    else:
        domain_x = (0.0, 0.0)

    y_ticks: list[Tick] = []
    domain_y = (0.0, 0.0)
    if values:
        low, high, step = money_range(values)
        domain_y = (float(low), float(high))
        y_ticks = [
            Tick(scale(float(value), domain_y, (bottom, top)), money_label(value, step))
            for value in money_ticks(low, high, step)
        ]

    def x_of(moment: datetime) -> float:
        return round(scale(moment.timestamp(), domain_x, (left, right)), 2)

    def y_of(value: Decimal) -> float:
        return round(scale(float(value), domain_y, (bottom, top)), 2)

    plotted: list[PlottedSeries] = []
    legend_entries: list[tuple[str, str, str, float, bool]] = []
    retailer_index = 0
    for one in series:
        if one.ours:
            color, dash, width = OUR_COLOR, "", 2.5
        else:
            (color, dash), width = retailer_style(retailer_index), 1.75
            retailer_index += 1
        points = sorted(one.points, key=lambda point: point.at)
        markers = tuple((x_of(p.at), y_of(p.value), p) for p in points)
        line: list[tuple[float, float]] = []
        for x, y, _ in markers:
            if one.step and line:
                line.append((x, line[-1][1]))
            line.append((x, y))
        if one.step and line and span_x is not None and line[-1][0] < round(right, 2):
            line.append((round(right, 2), line[-1][1]))
        plotted.append(PlottedSeries(one.name, color, dash, width, markers, tuple(line)))
        legend_entries.append((one.name, color, dash, width, True))

    plotted_levels = []
    for level in levels:
        color, dash = LEVEL_STYLES.get(level.name, DEFAULT_LEVEL_STYLE)
        plotted_levels.append(PlottedLevel(level.name, level.value, color, dash, y_of(level.value)))
        legend_entries.append((level.name, color, dash, 1.5, False))

    legend_top = bottom + box.axis_height + 4
    legend, rows = legend_layout(legend_entries, box=box, top=legend_top)
    height = int(legend_top + rows * box.legend_row + 4)
    return Plot(
        width=box.width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        series=tuple(plotted),
        levels=tuple(plotted_levels),
        x_ticks=tuple(x_ticks),
        y_ticks=tuple(y_ticks),
        legend=legend,
        empty=empty,
    )


# --- SVG --------------------------------------------------------------------------------------


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _points(line: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:g},{y:g}" for x, y in line)


def _dash(dash: str) -> str:
    return f' stroke-dasharray="{dash}"' if dash else ""


def render_svg(
    chart: Plot,
    *,
    title: str,
    description: str,
    id_prefix: str = "price-chart",
    currency: str = "",
) -> str:
    """The plot as an SVG element, for inline use in HTML; every text escaped."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="price-chart" '
        f'viewBox="0 0 {chart.width} {chart.height}" width="{chart.width}" '
        f'height="{chart.height}" role="img" '
        f'aria-labelledby="{_attr(id_prefix)}-title {_attr(id_prefix)}-desc" '
        f'font-size="12" font-family="system-ui, sans-serif">',
        f'<title id="{_attr(id_prefix)}-title">{escape(title)}</title>',
        f'<desc id="{_attr(id_prefix)}-desc">{escape(description)}</desc>',
    ]
    out.append('<g class="grid" stroke="#e3e7ee" stroke-width="1">')
    for tick in chart.y_ticks:
        out.append(
            f'<line x1="{chart.left:g}" x2="{chart.right:g}" '
            f'y1="{tick.position:.2f}" y2="{tick.position:.2f}"/>'
        )
    out.append("</g>")

    out.append('<g class="axis axis-y" fill="#4b5565" text-anchor="end">')
    for tick in chart.y_ticks:
        out.append(
            f'<text x="{chart.left - 8:g}" y="{tick.position + 4:.2f}">{escape(tick.label)}</text>'
        )
    if currency and chart.y_ticks:
        out.append(
            f'<text class="axis-unit" x="{chart.left - 8:g}" y="{chart.top - 14:g}" '
            f'fill="#8a93a3" font-size="10">{escape(currency)}</text>'
        )
    out.append("</g>")

    out.append('<g class="axis axis-x" fill="#4b5565" text-anchor="middle">')
    out.append(
        f'<line x1="{chart.left:g}" x2="{chart.right:g}" y1="{chart.bottom:g}" '
        f'y2="{chart.bottom:g}" stroke="#8a93a3"/>'
    )
    for tick in chart.x_ticks:
        out.append(
            f'<line x1="{tick.position:.2f}" x2="{tick.position:.2f}" y1="{chart.bottom:g}" '
            f'y2="{chart.bottom + 5:g}" stroke="#8a93a3"/>'
            f'<text x="{tick.position:.2f}" y="{chart.bottom + 19:g}">{escape(tick.label)}</text>'
        )
    out.append("</g>")

    out.append('<g class="levels">')
    for level in chart.levels:
        out.append(
            f'<g class="level" data-level="{_attr(level.name)}" data-value="{level.value}">'
            f'<line x1="{chart.left:g}" x2="{chart.right:g}" y1="{level.y:g}" y2="{level.y:g}" '
            f'stroke="{level.color}" stroke-width="1.5"{_dash(level.dash)}/>'
            f'<text x="{chart.right - 4:g}" y="{level.y - 5:g}" text-anchor="end" '
            f'fill="{level.color}" font-size="11">{escape(level.name)} '
            f"{level.value:,.2f}</text></g>"
        )
    out.append("</g>")

    for index, one in enumerate(chart.series):
        out.append(
            f'<g class="series" data-series="{_attr(one.name)}" data-index="{index}" '
            f'data-points="{len(one.markers)}">'
        )
        if len(one.line) > 1:
            out.append(
                f'<polyline points="{_points(one.line)}" fill="none" stroke="{one.color}" '
                f'stroke-width="{one.width:g}" stroke-linejoin="round"{_dash(one.dash)}/>'
            )
        for x, y, point in one.markers:
            label = (
                f"{one.name}: {point.value:,.2f} on {point.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            )
            out.append(
                f'<circle cx="{x:g}" cy="{y:g}" r="3" fill="{one.color}" stroke="#fff" '
                f'stroke-width="1"><title>{escape(label)}</title></circle>'
            )
        out.append("</g>")

    if chart.empty:
        out.append(
            f'<text class="empty" x="{(chart.left + chart.right) / 2:g}" '
            f'y="{(chart.top + chart.bottom) / 2:g}" text-anchor="middle" fill="#8a93a3" '
            f'font-size="14">No prices recorded yet</text>'
        )

    out.append('<g class="legend" fill="#1d2433">')
    for item in chart.legend:
        mid = item.y + 8
        out.append(
            f'<g class="legend-item" data-name="{_attr(item.name)}">'
            f'<line x1="{item.x:g}" x2="{item.x + 24:g}" y1="{mid:g}" y2="{mid:g}" '
            f'stroke="{item.color}" stroke-width="{item.width:g}"{_dash(item.dash)}/>'
        )
        if item.marker:
            out.append(f'<circle cx="{item.x + 12:g}" cy="{mid:g}" r="3" fill="{item.color}"/>')
        out.append(f'<text x="{item.x + 30:g}" y="{mid + 4:g}">{escape(item.name)}</text></g>')
    out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def price_chart_svg(
    series: Sequence[Series],
    levels: Sequence[Level] = (),
    *,
    title: str,
    description: str,
    end: datetime | None = None,
    currency: str = "",
    id_prefix: str = "price-chart",
) -> str:
    return render_svg(
        plot(series, levels, end=end),
        title=title,
        description=description,
        id_prefix=id_prefix,
        currency=currency,
    )
