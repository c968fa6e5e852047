"""The pricing engine, one product at a time: every rule kind, the bounds, and seed 1's examples.

Runs without Django: `pytest tests/pricing/test_engine.py -p no:django`.
"""

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing.engine import (
    NO_START_PRICE,
    Forecast,
    Observation,
    ProductFacts,
    RuleSpec,
    from_cents,
    recommend,
    round_price,
    scaled,
    to_cents,
)

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(days=2)
CHRONO, BUCHERER, WATCHFINDER = 1, 2, 3
NAMES = {CHRONO: "Chrono24", BUCHERER: "Bucherer", WATCHFINDER: "Watchfinder"}
_ids = itertools.count(1)


def D(text: str) -> Decimal:
    return Decimal(text)


def a_product(**overrides) -> ProductFacts:
    fields = {
        "id": 7,
        "brand_id": 1,
        "category": "rolex_daytona",
        "currency": "USD",
        "list_price": D("10000.00"),
        "msrp": D("12000.00"),
        "cost": None,
        "map_price": None,
        "in_inventory_since": None,
    }
    return ProductFacts(**(fields | overrides))


def a_rule(kind: str, **overrides) -> RuleSpec:
    rule_id = overrides.pop("id", next(_ids))
    return RuleSpec(
        id=rule_id, name=overrides.pop("name", f"{kind} #{rule_id}"), kind=kind, **overrides
    )


def seen(retailer_id: int, price: str | None, **overrides) -> Observation:
    fields = {
        "listing_id": 100 + retailer_id,
        "retailer_id": retailer_id,
        "retailer_name": NAMES.get(retailer_id, f"Retailer {retailer_id}"),
        "price": None if price is None else D(price),
        "currency": "USD",
        "available": True,
        "observed_at": NOW - timedelta(hours=1),
        "status": "success",
        "probe_id": next(_ids),
    }
    return Observation(**(fields | overrides))


def price_of(product: ProductFacts, rules=(), observations=(), *, now=NOW) -> Decimal | None:
    return recommend(product, list(rules), list(observations), now=now, max_age=MAX_AGE).price


def run(product: ProductFacts, rules=(), observations=(), *, now=NOW):
    return recommend(product, list(rules), list(observations), now=now, max_age=MAX_AGE)


# --- the start price ------------------------------------------------------------------------


def test_it_starts_from_the_list_price():
    assert price_of(a_product(list_price=D("10000.00"), msrp=D("12000.00"))) == D("10000.00")


def test_it_starts_from_msrp_when_there_is_no_list_price():
    assert price_of(a_product(list_price=None, msrp=D("12000.00"))) == D("12000.00")


def test_it_recommends_nothing_without_a_list_price_or_msrp_and_says_so():
    result = run(a_product(list_price=None, msrp=None), [a_rule("floor_fixed", amount=D("5"))])

    assert result.price is None
    assert result.warnings == [NO_START_PRICE]
    assert result.steps == []
    assert result.bound_by is None


# --- holding on a forecast -------------------------------------------------------------------

HOLD = "hold_on_forecast_revert"


def forecast_for(observation: Observation, expected: str, low: str, **overrides) -> dict:
    fields = {
        "listing_id": observation.listing_id,
        "expected": D(expected),
        "low": D(low),
        "high": D(expected) + 500,
        "currency": "USD",
        "model_version": 4,
    }
    return {observation.listing_id: Forecast(**(fields | overrides))}


def run_with(rules, observations, forecasts):
    return recommend(
        a_product(), rules, observations, now=NOW, max_age=MAX_AGE, forecasts=forecasts
    )


def test_an_undercut_holds_when_the_competitors_drop_is_forecast_to_revert():
    dropped = seen(CHRONO, "9000.00")
    rules = [a_rule("undercut", amount=D("50")), a_rule(HOLD, percent=D("0.05"), name="Hold")]

    result = run_with(rules, [dropped], forecast_for(dropped, "9450.00", "9100.00"))

    assert result.price == D("10000.00")
    hold, undercut = result.steps[1:3]
    assert hold.rule_name == "Hold"
    assert hold.inputs["forecast_expected"] == D("9450.00")
    assert hold.inputs["forecast_low"] == D("9100.00")
    assert hold.inputs["model_version"] == 4
    assert hold.note.startswith("hold: model v4 expects Chrono24 at 9,450.00 in 7 days")
    assert "interval 9,100.00-9,950.00" in hold.note
    assert undercut.note.startswith("held: Chrono24 9,000.00 - 50.00 = 8,950.00")
    assert undercut.after == D("10000.00")


@pytest.mark.parametrize(
    ("expected", "low", "why"),
    [
        ("9449.99", "9100.00", "below 9,450.00 (+5%)"),
        ("9450.00", "9000.00", "the interval reaches down to today's price"),
    ],
)
def test_an_undercut_goes_ahead_when_the_forecast_is_short_of_the_rule(expected, low, why):
    dropped = seen(CHRONO, "9000.00")
    rules = [a_rule("undercut", amount=D("50")), a_rule(HOLD, percent=D("0.05"))]

    result = run_with(rules, [dropped], forecast_for(dropped, expected, low))

    assert result.price == D("8950.00")
    assert result.steps[1].note.startswith("no hold: ")
    assert result.steps[1].note.endswith(why)


def test_a_match_goes_ahead_without_a_forecast_and_says_so():
    dropped = seen(CHRONO, "9000.00")
    rules = [a_rule("match_minus_percent", percent=D("0.01")), a_rule(HOLD, percent=D("0.05"))]

    result = run_with(rules, [dropped], {})

    assert result.price == D("8910.00")
    assert result.steps[1].note == "no hold: no forecast for Chrono24's listing"


def test_a_forecast_in_another_currency_does_not_hold():
    dropped = seen(CHRONO, "9000.00")
    rules = [a_rule("undercut", amount=D("50")), a_rule(HOLD)]

    result = run_with(rules, [dropped], forecast_for(dropped, "9900", "9500", currency="EUR"))

    assert result.price == D("8950.00")
    assert "a forecast in EUR" in result.steps[1].note


def test_a_hold_scoped_to_a_competitor_guards_only_following_that_competitor():
    chrono, bucherer = seen(CHRONO, "9000.00"), seen(BUCHERER, "9200.00")
    forecasts = forecast_for(chrono, "9900", "9500") | forecast_for(bucherer, "9900", "9500")
    rules = [
        a_rule("undercut", amount=D("50"), competitor_id=BUCHERER),
        a_rule("undercut", amount=D("50"), competitor_id=CHRONO),
        a_rule(HOLD, competitor_id=BUCHERER, percent=D("0.05")),
    ]

    result = run_with(rules, [chrono, bucherer], forecasts)

    assert result.price == D("8950.00")
    assert [step.kind for step in result.steps[1:4]] == [HOLD, "undercut", "undercut"]
    assert result.steps[2].note.startswith("held: ")


def test_no_hold_step_when_the_competitor_step_would_not_lower_the_price():
    cheap_enough = seen(CHRONO, "12000.00")
    rules = [a_rule("undercut", amount=D("50")), a_rule(HOLD)]

    result = run_with(rules, [cheap_enough], forecast_for(cheap_enough, "13000", "12500"))

    assert result.price == D("10000.00")
    assert HOLD not in [step.kind for step in result.steps]


def test_a_hold_rule_alone_changes_nothing():
    dropped = seen(CHRONO, "9000.00")

    result = run_with([a_rule(HOLD)], [dropped], forecast_for(dropped, "9900", "9500"))

    assert result.price == D("10000.00")
    assert [step.kind for step in result.steps] == ["start"]


# --- which rules apply ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "applies"),
    [
        (None, None, True),
        (NOW, None, True),
        (NOW + timedelta(seconds=1), None, False),
        (None, NOW + timedelta(seconds=1), True),
        (None, NOW, False),
        (NOW - timedelta(days=9), NOW - timedelta(days=1), False),
    ],
)
def test_a_rule_applies_only_inside_its_validity_window(valid_from, valid_until, applies):
    rule = a_rule("floor_fixed", amount=D("11000"), valid_from=valid_from, valid_until=valid_until)

    assert price_of(a_product(), [rule]) == (D("11000.00") if applies else D("10000.00"))


@pytest.mark.parametrize(
    ("scope", "applies"),
    [
        ({}, True),
        ({"category": "rolex_daytona"}, True),
        ({"category": "patek_philippe_nautilus"}, False),
        ({"brand_id": 1}, True),
        ({"brand_id": 2}, False),
        ({"product_id": 7}, True),
        ({"product_id": 8}, False),
        ({"category": "rolex_daytona", "brand_id": 1, "product_id": 7}, True),
        ({"category": "rolex_daytona", "brand_id": 2, "product_id": 7}, False),
    ],
)
def test_a_rule_applies_only_when_every_scope_field_it_sets_matches(scope, applies):
    rule = a_rule("floor_fixed", amount=D("11000"), **scope)

    assert price_of(a_product(), [rule]) == (D("11000.00") if applies else D("10000.00"))


def test_the_competitor_of_a_rule_is_not_part_of_its_scope():
    rule = a_rule("undercut", competitor_id=CHRONO, amount=D("100"))

    assert price_of(a_product(), [rule], [seen(CHRONO, "9000")]) == D("8900.00")


# --- competitor observations ----------------------------------------------------------------


def test_only_the_latest_observation_of_a_listing_counts():
    older = seen(CHRONO, "8000", observed_at=NOW - timedelta(hours=5))
    newer = seen(CHRONO, "9000", observed_at=NOW - timedelta(hours=1))

    result = run(a_product(), [a_rule("undercut", amount=D("0"))], [newer, older])

    assert result.price == D("9000.00")
    assert result.used == [newer]
    assert result.ignored == []


def test_a_blocked_latest_observation_hides_an_older_good_one():
    good = seen(CHRONO, "8000", observed_at=NOW - timedelta(hours=5))
    blocked = seen(CHRONO, None, status="blocked", observed_at=NOW - timedelta(hours=1))

    result = run(a_product(), [a_rule("undercut", amount=D("0"))], [good, blocked])

    assert result.price == D("10000.00")
    assert result.ignored == [(101, "blocked")]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"status": "blocked"}, "blocked"),
        ({"status": "identity_mismatch"}, "identity mismatch"),
        ({"status": "no_price"}, "no price"),
        ({"status": "price_hidden"}, "price hidden"),
        ({"status": "failed"}, "failed"),
        ({"status": "not_found"}, "not found"),
        ({"price": None}, "no price"),
        ({"observed_at": NOW - timedelta(days=5, hours=3)}, "stale: 5 days old"),
        ({"observed_at": NOW - timedelta(days=1, hours=1) - MAX_AGE}, "stale: 3 days old"),
        ({"available": False}, "out of stock"),
        ({"available": None}, "availability unknown"),
        ({"currency": "EUR"}, "other currency EUR"),
    ],
)
def test_an_unusable_observation_is_ignored_with_the_reason(overrides, reason):
    observation = seen(CHRONO, **({"price": "9000"} | overrides))

    result = run(a_product(), [a_rule("undercut", amount=D("100"))], [observation])

    assert result.ignored == [(observation.listing_id, reason)]
    assert result.used == []
    assert result.price == D("10000.00")
    assert result.steps[-1].note == "skipped: no usable competitor price"


def test_observations_may_come_as_a_generator():
    rule = a_rule("undercut", competitor_id=BUCHERER, amount=D("50"))
    observations = (o for o in [seen(CHRONO, "9000"), seen(BUCHERER, "8000", status="blocked")])

    result = recommend(a_product(), [rule], observations, now=NOW, max_age=MAX_AGE)

    assert result.ignored == [(102, "blocked")]
    assert result.steps[-1].note == "skipped: no usable price from retailer #2 (blocked)"


def test_an_observation_exactly_max_age_old_is_still_fresh():
    observation = seen(CHRONO, "9000", observed_at=NOW - MAX_AGE)

    assert run(a_product(), [], [observation]).used == [observation]


def test_the_explanation_lists_what_was_ignored_and_why():
    stale = seen(BUCHERER, "9000", observed_at=NOW - timedelta(days=5))

    explanation = run(a_product(), [], [seen(CHRONO, "9500"), stale]).as_json()

    assert explanation["ignored"] == [{"listing_id": 102, "reason": "stale: 5 days old"}]
    assert [used["retailer"] for used in explanation["used"]] == ["Chrono24"]


# --- undercut -------------------------------------------------------------------------------


def test_undercut_targets_the_rules_competitor():
    rule = a_rule("undercut", competitor_id=BUCHERER, amount=D("50"))
    observations = [seen(CHRONO, "9000"), seen(BUCHERER, "9500")]

    assert price_of(a_product(), [rule], observations) == D("9450.00")


def test_undercut_without_a_competitor_targets_the_cheapest_usable_one():
    observations = [
        seen(CHRONO, "9500"),
        seen(BUCHERER, "9000"),
        seen(WATCHFINDER, "8000", available=False),
    ]

    assert price_of(a_product(), [a_rule("undercut", amount=D("50"))], observations) == D("8950.00")


def test_a_retailer_with_two_listings_is_priced_by_its_cheaper_one():
    observations = [seen(CHRONO, "9500", listing_id=1), seen(CHRONO, "9200", listing_id=2)]
    rule = a_rule("undercut", competitor_id=CHRONO, amount=D("50"))

    assert price_of(a_product(), [rule], observations) == D("9150.00")


def test_undercut_never_raises_the_price_like_seed_1():
    result = run(a_product(), [a_rule("undercut", amount=D("50"))], [seen(CHRONO, "11000")])

    assert result.price == D("10000.00")
    assert result.steps[-1].note.startswith("kept 10,000.00: already at or below")


def test_undercut_is_skipped_with_a_note_when_its_competitor_has_no_usable_price():
    rule = a_rule("undercut", competitor_id=BUCHERER, amount=D("50"))
    observations = [seen(CHRONO, "9000"), seen(BUCHERER, "8000", status="identity_mismatch")]

    result = run(a_product(), [rule], observations)

    assert result.price == D("10000.00")
    assert result.steps[-1].note == "skipped: no usable price from retailer #2 (identity mismatch)"


def test_undercut_to_zero_or_below_is_skipped():
    result = run(a_product(), [a_rule("undercut", amount=D("40"))], [seen(CHRONO, "40")])

    assert result.price == D("10000.00")
    assert "not a positive price" in result.steps[-1].note


# --- match minus percent --------------------------------------------------------------------


def test_match_minus_percent_prices_at_the_competitor_less_the_percentage():
    rule = a_rule("match_minus_percent", competitor_id=CHRONO, percent=D("0.05"))

    assert price_of(a_product(), [rule], [seen(CHRONO, "9000")]) == D("8550.00")


def test_match_minus_percent_rounds_half_a_cent_up():
    # 100.10 x 0.95 = 95.095
    rule = a_rule("match_minus_percent", percent=D("0.05"))

    assert price_of(a_product(), [rule], [seen(CHRONO, "100.10")]) == D("95.10")


def test_match_minus_percent_skips_a_stale_competitor_without_failing():
    rule = a_rule("match_minus_percent", competitor_id=CHRONO, percent=D("0.05"))
    stale = seen(CHRONO, "9000", observed_at=NOW - timedelta(days=3))

    result = run(a_product(), [rule], [stale])

    assert result.price == D("10000.00")
    assert result.steps[-1].note == "skipped: no usable price from retailer #1 (stale: 3 days old)"


# --- aging ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_in_inventory", "expected"),
    [
        (29, "10000.00"),  # not yet
        (30, "9800.00"),  # one step from the first day
        (59, "9800.00"),
        (60, "9600.00"),  # a second step every 30 days
        (90, "9400.00"),
        (400, "9400.00"),  # capped at 3 steps
    ],
)
def test_aging_discount_takes_a_step_every_30_days_up_to_the_cap(days_in_inventory, expected):
    product = a_product(in_inventory_since=NOW.date() - timedelta(days=days_in_inventory))
    rule = a_rule("aging_discount", days=30, percent=D("0.02"), cap=3)

    assert price_of(product, [rule]) == D(expected)


def test_aging_discount_caps_at_three_steps_when_the_rule_has_no_cap():
    product = a_product(in_inventory_since=NOW.date() - timedelta(days=365))
    rule = a_rule("aging_discount", days=0, percent=D("0.01"))

    assert price_of(product, [rule]) == D("9700.00")


def test_aging_discount_follows_a_larger_cap():
    product = a_product(in_inventory_since=NOW.date() - timedelta(days=365))
    rule = a_rule("aging_discount", days=0, percent=D("0.01"), cap=5)

    assert price_of(product, [rule]) == D("9500.00")


def test_aging_discount_is_skipped_for_a_product_without_an_inventory_date():
    result = run(a_product(), [a_rule("aging_discount", days=0, percent=D("0.02"))])

    assert result.price == D("10000.00")
    assert result.steps[-1].note == "skipped: the product has no in-inventory date"


def test_aging_discount_that_would_take_everything_is_skipped():
    product = a_product(in_inventory_since=NOW.date() - timedelta(days=365))

    assert price_of(product, [a_rule("aging_discount", days=0, percent=D("0.5"))]) == D("10000.00")


# --- order ----------------------------------------------------------------------------------


def test_price_setting_rules_run_in_priority_order_on_the_running_price():
    product = a_product(in_inventory_since=NOW.date() - timedelta(days=30))
    aging = a_rule("aging_discount", priority=1, days=30, percent=D("0.10"))
    undercut = a_rule("undercut", priority=2, amount=D("0"))
    market = [seen(CHRONO, "9500")]

    # aging 10,000 -> 9,000, then the undercut target 9,500 doesn't raise it
    assert price_of(product, [undercut, aging], market) == D("9000.00")
    # undercut 10,000 -> 9,500 first, then aging takes 10% of that
    undercut_first = a_rule("undercut", priority=0, amount=D("0"))
    assert price_of(product, [aging, undercut_first], market) == D("8550.00")


def test_rules_of_equal_priority_run_in_id_order():
    product = a_product(in_inventory_since=NOW.date() - timedelta(days=30))
    first = a_rule("undercut", id=1, priority=5, amount=D("0"))
    second = a_rule("aging_discount", id=2, priority=5, days=30, percent=D("0.10"))

    assert price_of(product, [second, first], [seen(CHRONO, "9500")]) == D("8550.00")


# --- rounding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "round_to", "ending", "expected"),
    [
        ("12345.00", "10", None, "12350.00"),  # halves up
        ("12344.99", "10", None, "12340.00"),
        ("12345.00", "10", "9", "12349.00"),  # 12,350 then ends in 9: the model's help text
        ("12341.00", "10", "9", "12339.00"),  # 12,340 then ends in 9
        ("12350.00", "10", "5", "12345.00"),  # 12,345 and 12,355 tie: down
        ("12350.00", "10", "3", "12353.00"),  # 12,353 is nearer than 12,343
        ("12350.00", "10", "7", "12347.00"),  # 12,347 is nearer than 12,357
        ("12345.40", "1", "0.99", "12344.99"),
        ("12345.40", "100", "0", "12300.00"),
        ("12345.40", "0.05", None, "12345.40"),
        ("12345.43", "0.05", None, "12345.45"),
        ("12345.00", "10", "10", "12350.00"),  # an ending not below round_to is ignored
        ("12345.00", "10", "25", "12350.00"),
    ],
)
def test_rounding_goes_to_the_nearest_multiple_then_the_nearest_price_with_the_ending(
    price, round_to, ending, expected
):
    assert round_price(D(price), D(round_to), None if ending is None else D(ending)) == D(expected)


def test_a_rounding_rule_applies_after_every_price_setting_rule_whatever_its_priority():
    rounding = a_rule("rounding", priority=0, round_to=D("10"), ending=D("9"))
    undercut = a_rule("undercut", priority=9, amount=D("55"))

    result = run(a_product(), [rounding, undercut], [seen(CHRONO, "9400")])

    assert result.price == D("9349.00")
    assert [step.kind for step in result.steps] == ["start", "undercut", "rounding"]


def test_rounding_that_would_leave_no_price_is_skipped():
    rule = a_rule("rounding", round_to=D("100"))

    assert price_of(a_product(list_price=D("40.00")), [rule]) == D("40.00")


# --- bounds ---------------------------------------------------------------------------------


def test_a_margin_floor_keeps_the_price_at_cost_plus_the_margin():
    product = a_product(cost=D("9000.00"))
    result = run(product, [a_rule("floor_margin", name="Margin 20%", percent=D("0.20"))])

    assert result.price == D("10800.00")
    assert result.bound_by == "Margin 20%"


def test_a_map_floor_keeps_a_map_protected_product_at_its_map():
    result = run(a_product(map_price=D("10500.00")), [a_rule("floor_map", name="MAP")])

    assert result.price == D("10500.00")
    assert result.bound_by == "MAP"


def test_a_map_floor_does_nothing_for_a_product_without_map():
    result = run(a_product(map_price=None), [a_rule("floor_map")])

    assert result.price == D("10000.00")
    assert result.steps[-1].note == "skipped: the product is not MAP-protected"


def test_a_fixed_floor_raises_the_price_to_its_amount():
    assert price_of(a_product(), [a_rule("floor_fixed", amount=D("10250"))]) == D("10250.00")


def test_the_highest_floor_binds_and_is_named():
    product = a_product(cost=D("9000.00"), map_price=D("10900.00"))
    rules = [
        a_rule("floor_margin", name="Margin", percent=D("0.20")),
        a_rule("floor_map", name="MAP"),
        a_rule("floor_fixed", name="Fixed", amount=D("10100")),
    ]

    result = run(product, rules)

    assert (result.price, result.bound_by) == (D("10900.00"), "MAP")


def test_a_floor_below_the_price_binds_nothing():
    result = run(a_product(cost=D("5000.00")), [a_rule("floor_margin", percent=D("0.20"))])

    assert (result.price, result.bound_by) == (D("10000.00"), None)


def test_the_msrp_ceiling_caps_the_price():
    product = a_product(list_price=D("13000.00"), msrp=D("12000.00"))
    result = run(product, [a_rule("ceiling_msrp", name="Not above MSRP")])

    assert (result.price, result.bound_by) == (D("12000.00"), "Not above MSRP")


def test_a_ceiling_rule_allowing_above_msrp_caps_nothing():
    product = a_product(list_price=D("13000.00"), msrp=D("12000.00"))
    result = run(product, [a_rule("ceiling_msrp", allow_above_msrp=True)])

    assert (result.price, result.bound_by) == (D("13000.00"), None)


def test_a_floor_above_the_ceiling_wins_with_a_warning():
    product = a_product(list_price=D("11000.00"), msrp=D("11500.00"), cost=D("10000.00"))
    rules = [
        a_rule("floor_margin", name="Margin", percent=D("0.20")),
        a_rule("ceiling_msrp", name="MSRP cap"),
    ]

    result = run(product, rules)

    assert result.price == D("12000.00")
    assert result.bound_by == "Margin"
    assert result.warnings == [
        "floor 12,000.00 (margin) is above ceiling 11,500.00 (MSRP): the floor wins"
    ]


def test_bounds_apply_after_rounding_whatever_their_priority():
    product = a_product(list_price=D("11996.00"), msrp=D("12000.00"))
    rules = [
        a_rule("ceiling_msrp", priority=0, name="MSRP cap"),
        a_rule("rounding", priority=9, round_to=D("100")),
    ]

    result = run(product, rules)

    assert (result.price, result.bound_by) == (D("12000.00"), None)
    product = a_product(list_price=D("11996.00"), msrp=D("11990.00"))
    assert run(product, rules).price == D("11990.00")


def test_a_bound_missing_its_input_is_skipped_with_a_note():
    result = run(a_product(cost=None, msrp=None), [a_rule("floor_margin", percent=D("0.2"))])

    assert result.price == D("10000.00")
    assert result.steps[-1].note == "skipped: the product has no cost"
    result = run(a_product(msrp=None), [a_rule("ceiling_msrp")])
    assert result.steps[-1].note == "skipped: the product has no MSRP"


# --- money ----------------------------------------------------------------------------------


@given(cents=st.integers(0, 10**12), ppm=st.integers(0, 2 * 10**6))
def test_scaling_in_decimal_equals_the_integer_formula(cents, ppm):
    factor = Decimal(ppm).scaleb(-6)

    assert to_cents(scaled(from_cents(cents), factor)) == (cents * ppm + 500_000) // 10**6


def test_the_explanation_is_json_with_decimals_as_strings():
    explanation = run(a_product(), [a_rule("undercut", amount=D("50"))], [seen(CHRONO, "9000")])

    stored = json.loads(json.dumps(explanation.as_json()))

    assert stored["price"] == "8950.00"
    assert stored["steps"][1]["inputs"]["competitor_price"] == "9000.00"
    assert stored["used"][0]["observed_at"] == (NOW - timedelta(hours=1)).isoformat()


# --- seed 1: pricing_rules.json "rolex_daytona" ---------------------------------------------


def daytona_rules() -> list[RuleSpec]:
    """Undercut competitor A by 50, match competitor B minus 5%, age 2% per 30 days after 30
    days (at most 3x), never below a 20% margin."""
    scope = {"category": "rolex_daytona"}
    return [
        a_rule(
            "undercut", name="A - 50", priority=10, competitor_id=CHRONO, amount=D("50"), **scope
        ),
        a_rule(
            "match_minus_percent",
            name="B - 5%",
            priority=20,
            competitor_id=BUCHERER,
            percent=D("0.05"),
            **scope,
        ),
        a_rule(
            "aging_discount", name="Aging", priority=30, days=30, percent=D("0.02"), cap=3, **scope
        ),
        a_rule("floor_margin", name="20% margin", percent=D("0.20")),
    ]


def daytona(**overrides) -> ProductFacts:
    fields = {
        "list_price": D("32000.00"),
        "msrp": D("35000.00"),
        "cost": D("22000.00"),
        "in_inventory_since": NOW.date() - timedelta(days=75),
    }
    return a_product(**(fields | overrides))


def test_seed_1_daytona_undercuts_a_matches_b_and_ages():
    market = [seen(CHRONO, "31500"), seen(BUCHERER, "31000")]

    result = run(daytona(), daytona_rules(), market)

    # 32,000 -> A 31,500 - 50 = 31,450 -> B 31,000 x 0.95 = 29,450 -> 75 days: 2 steps, 4% off
    assert [step.after for step in result.steps[:4]] == [
        D("32000.00"),
        D("31450.00"),
        D("29450.00"),
        D("28272.00"),
    ]
    assert (result.price, result.bound_by) == (D("28272.00"), None)


def test_seed_1_daytona_never_goes_below_a_20_percent_margin():
    market = [seen(CHRONO, "31500"), seen(BUCHERER, "31000")]

    result = run(daytona(cost=D("24000.00")), daytona_rules(), market)

    assert (result.price, result.bound_by) == (D("28800.00"), "20% margin")


def test_seed_1_daytona_aging_is_capped_at_three_times_the_discount():
    product = daytona(in_inventory_since=date(2024, 1, 1), cost=D("1000.00"))

    result = run(product, daytona_rules(), [])

    assert result.price == D("30080.00")  # 32,000 x (1 - 3 x 2%)
    assert [step.note for step in result.steps if step.kind != "aging_discount"][1:3] == [
        "skipped: no usable price from retailer #1",
        "skipped: no usable price from retailer #2",
    ]


def test_seed_1_rules_for_the_daytona_leave_a_nautilus_alone():
    product = daytona(category="patek_philippe_nautilus", cost=D("1000.00"))

    assert price_of(product, daytona_rules(), [seen(CHRONO, "20000")]) == D("32000.00")
