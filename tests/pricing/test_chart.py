"""The price history chart's pure functions: coordinates, ticks, the legend and the SVG.

No database and no Django: `pytest tests/pricing/test_chart.py -p no:django` runs them.
"""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from pricing.charts import (
    Box,
    Level,
    Point,
    Series,
    money_range,
    nice_step,
    plot,
    price_chart_svg,
    render_svg,
    scale,
    time_ticks,
)

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 3, 2, tzinfo=UTC)
BOX = Box()


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def points(*pairs: tuple[float, str]) -> list[Point]:
    return [Point(at(days), Decimal(value)) for days, value in pairs]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - markup we made ourselves


def series_groups(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "series"]


# --- Scales and ticks --------------------------------------------------------------------------


def test_scale_maps_the_domain_onto_the_span_linearly():
    assert scale(0, (0, 10), (100, 200)) == 100
    assert scale(10, (0, 10), (100, 200)) == 200
    assert scale(2.5, (0, 10), (100, 200)) == 125
    # Screen y grows downwards: a reversed span puts high values on top.
    assert scale(10, (0, 10), (300, 20)) == 20


def test_a_zero_width_domain_maps_to_the_middle():
    assert scale(5, (5, 5), (100, 200)) == 150


@pytest.mark.parametrize(
    ("span", "step"),
    [("1000", "200"), ("350", "100"), ("12", "2.5"), ("0.4", "0.1"), ("47000", "10000")],
)
def test_money_steps_are_one_two_two_and_a_half_or_five_times_a_power_of_ten(span, step):
    assert nice_step(Decimal(span), 5) == Decimal(step)


def test_the_money_axis_holds_every_value_and_ends_on_whole_steps():
    low, high, step = money_range([Decimal("9150.00"), Decimal("9500.00"), Decimal("8000.00")])

    assert low <= Decimal("8000.00") and high >= Decimal("9500.00")
    assert low % step == 0 and high % step == 0


def test_equal_prices_open_a_flat_range_around_them():
    low, high, step = money_range([Decimal("9500.00")] * 3)

    assert low < Decimal("9500.00") < high
    assert step > 0
    assert (high - low) / step >= 2


def test_time_ticks_fall_on_midnights_for_a_month():
    ticks = time_ticks(T0 + timedelta(hours=5), T0 + timedelta(days=30))

    assert 3 <= len(ticks) <= 8
    assert all(tick.hour == 0 and tick.minute == 0 for tick in ticks)
    assert all(T0 + timedelta(hours=5) <= tick <= T0 + timedelta(days=30) for tick in ticks)


def test_time_ticks_fall_on_firsts_of_months_for_two_years():
    ticks = time_ticks(datetime(2025, 1, 15, tzinfo=UTC), datetime(2027, 1, 15, tzinfo=UTC))

    assert all(tick.day == 1 for tick in ticks)
    assert 3 <= len(ticks) <= 9


# --- Points to coordinates ---------------------------------------------------------------------


def test_points_map_to_coordinates_inside_the_plot_area():
    chart = plot([Series("Chrono Plaza", points((0, "9000"), (5, "9500"), (10, "9250")))])

    (plotted,) = chart.series
    xs = [x for x, _, _ in plotted.markers]
    ys = [y for _, y, _ in plotted.markers]
    assert xs == [BOX.left, (BOX.left + BOX.plot_right) / 2, BOX.plot_right]
    # The dearest point is highest on screen (smallest y), the cheapest lowest.
    assert ys[1] < ys[2] < ys[0]
    assert all(BOX.top <= y <= BOX.top + BOX.plot_height for y in ys)
    low, high, _ = money_range([Decimal("9000"), Decimal("9500"), Decimal("9250")])
    expected = scale(9000, (float(low), float(high)), (BOX.top + BOX.plot_height, BOX.top))
    assert ys[0] == pytest.approx(expected, abs=0.01)
    assert plotted.line == tuple((x, y) for x, y, _ in plotted.markers)


def test_points_are_drawn_in_time_order_whatever_order_they_come_in():
    chart = plot([Series("Chrono Plaza", points((10, "9250"), (0, "9000"), (5, "9500")))])

    xs = [x for x, _ in chart.series[0].line]
    assert xs == sorted(xs)


def test_a_step_series_holds_each_price_until_the_next_and_to_the_end():
    ours = Series("Our price", points((0, "9500"), (4, "9150")), step=True, ours=True)

    chart = plot([ours], end=at(10))

    (plotted,) = chart.series
    (x0, y0, _), (x1, y1, _) = plotted.markers
    assert plotted.line == ((x0, y0), (x1, y0), (x1, y1), (BOX.plot_right, y1))
    assert len(plotted.markers) == 2


def test_one_point_sits_in_the_middle_of_the_chart():
    chart = plot([Series("Chrono Plaza", points((0, "9200")))])

    ((x, y, _),) = chart.series[0].markers
    assert x == pytest.approx((BOX.left + BOX.plot_right) / 2)
    assert y == pytest.approx(BOX.top + BOX.plot_height / 2, abs=0.01)
    assert chart.x_ticks and chart.y_ticks
    assert not chart.empty


def test_equal_prices_draw_a_flat_line_away_from_the_edges():
    chart = plot([Series("Chrono Plaza", points((0, "9270"), (3, "9270"), (6, "9270")))])

    ys = {y for _, y, _ in chart.series[0].markers}
    assert len(ys) == 1
    (y,) = ys
    assert BOX.top + 20 < y < BOX.top + BOX.plot_height - 20
    assert len(chart.y_ticks) >= 3


def test_no_points_make_an_empty_chart_that_says_so():
    svg = price_chart_svg([], [], title="Price history", description="Nothing yet.")

    root = parse(svg)
    assert series_groups(root) == []
    assert "No prices recorded yet" in svg


def test_no_points_still_show_msrp_and_map():
    chart = plot([], [Level("MSRP", Decimal("10000")), Level("MAP", Decimal("8000"))])

    assert chart.empty
    msrp, map_line = chart.levels
    assert msrp.y < map_line.y


def test_levels_widen_the_money_axis_to_stay_in_view():
    chart = plot(
        [Series("Chrono Plaza", points((0, "9200"), (1, "9300")))],
        [Level("MSRP", Decimal("12000")), Level("MAP", Decimal("8000"))],
    )

    for level in chart.levels:
        assert BOX.top <= level.y <= BOX.top + BOX.plot_height


def test_many_series_each_get_their_own_look_and_the_legend_wraps():
    many = [
        Series(f"Retailer number {index}", points((0, str(9000 + index)), (1, "9100")))
        for index in range(14)
    ]

    chart = plot(many, [Level("MSRP", Decimal("10000"))])
    one = plot(many[:1])

    assert len({(s.color, s.dash) for s in chart.series}) == 14
    assert {item.name for item in chart.legend} == {s.name for s in many} | {"MSRP"}
    assert len({item.y for item in chart.legend}) > 1
    assert chart.height > one.height
    assert all(item.x + 30 < BOX.width for item in chart.legend)


# --- The SVG -----------------------------------------------------------------------------------


def test_the_svg_has_one_line_per_series_a_marker_per_point_and_named_levels():
    svg = price_chart_svg(
        [
            Series("Our price", points((0, "9500"), (4, "9150")), step=True, ours=True),
            Series("Chrono Plaza", points((0, "9300"), (2, "9250"), (4, "9200"))),
            Series("Watch Hub", points((1, "9400"), (3, "9350"))),
        ],
        [Level("MSRP", Decimal("10000")), Level("MAP", Decimal("8000"))],
        title="Price history of Omega 310.30",
        description="Our price and two retailers.",
        end=at(6),
        currency="USD",
    )

    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "price-chart-title price-chart-desc"
    assert root.find(f"{SVG}title").text == "Price history of Omega 310.30"
    assert root.find(f"{SVG}desc").text == "Our price and two retailers."
    groups = {g.get("data-series"): g for g in series_groups(root)}
    assert list(groups) == ["Our price", "Chrono Plaza", "Watch Hub"]
    for name, count in (("Our price", 2), ("Chrono Plaza", 3), ("Watch Hub", 2)):
        group = groups[name]
        assert len(group.findall(f"{SVG}polyline")) == 1
        assert len(group.findall(f"{SVG}circle")) == count
        assert group.get("data-points") == str(count)
    step_points = groups["Our price"].find(f"{SVG}polyline").get("points").split()
    assert len(step_points) == 4  # two prices, the corner between them, held to the end
    levels = {g.get("data-level"): g for g in root.iter(f"{SVG}g") if g.get("class") == "level"}
    assert set(levels) == {"MSRP", "MAP"}
    assert levels["MAP"].find(f"{SVG}text").text == "MAP 8,000.00"
    legend = [
        t.text
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "legend"
        for t in g.iter(f"{SVG}text")
    ]
    assert legend == ["Our price", "Chrono Plaza", "Watch Hub", "MSRP", "MAP"]
    x_labels = [
        t.text
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "axis axis-x"
        for t in g.iter(f"{SVG}text")
    ]
    assert x_labels[0].startswith("Mar ")
    y_labels = [
        t.text
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "axis axis-y"
        for t in g.iter(f"{SVG}text")
    ]
    assert "10,000" in y_labels and "USD" in y_labels


def test_a_single_point_draws_a_marker_and_no_line():
    root = parse(
        price_chart_svg([Series("Chrono Plaza", points((0, "9200")))], title="t", description="d")
    )

    (group,) = series_groups(root)
    assert group.findall(f"{SVG}polyline") == []
    assert len(group.findall(f"{SVG}circle")) == 1


def test_names_are_escaped_in_the_svg():
    evil = 'Shop <script>alert("x")</script> & Co'
    svg = render_svg(
        plot([Series(evil, points((0, "1"), (1, "2")))]),
        title=f"History of {evil}",
        description=evil,
        id_prefix='x" onload="alert(1)',
    )

    assert "<script>" not in svg
    assert 'onload="' not in svg
    root = parse(svg)
    assert root.find(f"{SVG}title").text == f"History of {evil}"
    (group,) = series_groups(root)
    assert group.get("data-series") == evil


def test_a_few_seconds_of_history_label_both_ends():
    ticks = time_ticks(T0, T0 + timedelta(seconds=40))

    assert ticks == [T0, T0 + timedelta(seconds=40)]


def test_an_afternoon_of_history_ticks_on_round_minutes():
    ticks = time_ticks(T0 + timedelta(minutes=3), T0 + timedelta(hours=2))

    assert ticks and all(tick.minute % 15 == 0 and tick.second == 0 for tick in ticks)
