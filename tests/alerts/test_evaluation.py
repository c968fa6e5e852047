"""Crossing, re-arming, hysteresis and cooldown over plain values: no Django, no database.

Runs on its own too: `pytest tests/alerts/test_evaluation.py -p no:django`.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from alerts.evaluation import (
    Direction,
    Outcome,
    State,
    condition,
    failure_streak,
    movement,
)

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
NO_COOLDOWN = timedelta(0)


def run_movement(
    values,
    *,
    threshold="0.10",
    hysteresis="0.02",
    direction=Direction.EITHER,
    cooldown=NO_COOLDOWN,
    state=None,
    start=T0,
    step=timedelta(days=1),
):
    """Feed the values one a day; return the outcomes and the final state."""
    state = state or State()
    outcomes = []
    for n, value in enumerate(values):
        decision = movement(
            state,
            None if value is None else Decimal(str(value)),
            threshold=Decimal(threshold),
            hysteresis=Decimal(hysteresis),
            direction=direction,
            at=start + n * step,
            cooldown=cooldown,
        )
        outcomes.append(decision.outcome)
        state = decision.state
    return outcomes, state


def test_the_first_value_only_sets_the_reference():
    outcomes, state = run_movement([10000])

    assert outcomes == [Outcome.QUIET]
    assert state == State(armed=True, reference=Decimal(10000), last_value=Decimal(10000))


def test_it_fires_when_the_move_is_more_than_the_threshold_not_at_it():
    assert run_movement([10000, 9000])[0] == [Outcome.QUIET, Outcome.QUIET]
    assert run_movement([10000, 8999])[0] == [Outcome.QUIET, Outcome.FIRE]
    assert run_movement([10000, 11001])[0] == [Outcome.QUIET, Outcome.FIRE]


def test_a_move_that_lasts_is_one_alert_followed_while_it_lasts():
    outcomes, state = run_movement([10000, 8500, 8400, 8000])

    assert outcomes == [Outcome.QUIET, Outcome.FIRE, Outcome.ONGOING, Outcome.ONGOING]
    assert state.reference == Decimal(10000)
    assert not state.armed


def test_it_re_arms_only_back_within_threshold_minus_hysteresis_of_the_reference():
    # 10% threshold, 2% hysteresis: fired at -15%; -9% is inside the threshold but not past
    # the hysteresis line (-8%), so the move is still on; -7.5% ends it.
    outcomes, state = run_movement([10000, 8500, 9100, 9250])

    assert outcomes == [Outcome.QUIET, Outcome.FIRE, Outcome.ONGOING, Outcome.CLEAR]
    assert state.armed
    assert state.reference == Decimal(9250)


def test_after_re_arming_it_fires_again_on_the_next_crossing():
    outcomes, _ = run_movement([10000, 8500, 9300, 8300])

    assert outcomes == [Outcome.QUIET, Outcome.FIRE, Outcome.CLEAR, Outcome.FIRE]


def test_a_price_hovering_at_the_threshold_fires_once():
    hovering = [10000] + [8990, 9010] * 10

    outcomes, _ = run_movement(hovering)

    assert outcomes.count(Outcome.FIRE) == 1
    assert outcomes.count(Outcome.CLEAR) == 0


def test_a_price_swinging_across_both_lines_fires_once_then_measures_from_where_it_re_armed():
    # Past the threshold and back past the hysteresis line, again and again: the re-armed
    # reference is the value it came back to, so the same swing is not a new 10% move.
    swinging = [10000] + [8950, 9250] * 10

    outcomes, _ = run_movement(swinging)

    assert outcomes.count(Outcome.FIRE) == 1


def test_a_drop_rule_ignores_rises():
    outcomes, _ = run_movement([10000, 12000, 13000], threshold="0.05", direction=Direction.DOWN)

    assert Outcome.FIRE not in outcomes


def test_a_drop_clears_once_back_above_the_hysteresis_line():
    # 5% threshold, 2% hysteresis: fired below 9500, over when back at 9700 or above.
    outcomes, _ = run_movement(
        [10000, 9400, 9650, 9700], threshold="0.05", direction=Direction.DOWN
    )

    assert outcomes == [Outcome.QUIET, Outcome.FIRE, Outcome.ONGOING, Outcome.CLEAR]


def test_a_new_low_with_threshold_zero_fires_on_any_lower_price_and_clears_above_the_old_low():
    outcomes, state = run_movement(
        [9000, 8990, 8900, 9100, 9190], threshold="0", direction=Direction.DOWN
    )

    assert outcomes == [
        Outcome.QUIET,
        Outcome.FIRE,
        Outcome.ONGOING,
        Outcome.ONGOING,
        Outcome.CLEAR,
    ]
    assert state.reference == Decimal(9190)


def test_a_resolved_move_re_arms_at_the_current_value_so_the_next_move_can_fire():
    outcomes, state = run_movement([10000, 8500])
    assert outcomes[-1] == Outcome.FIRE

    decision = movement(
        state,
        Decimal(8500),
        threshold=Decimal("0.10"),
        hysteresis=Decimal("0.02"),
        direction=Direction.EITHER,
        at=T0 + timedelta(days=5),
        cooldown=NO_COOLDOWN,
        acknowledged=True,
    )

    assert decision.outcome == Outcome.QUIET
    assert decision.state.armed
    assert decision.state.reference == Decimal(8500)
    later, _ = run_movement([7600], state=decision.state, start=T0 + timedelta(days=6))
    assert later == [Outcome.FIRE]


def test_a_crossing_within_the_cooldown_is_held_and_fires_after_it_if_it_still_holds():
    outcomes, state = run_movement(
        [10000, 8500, 9300, 8300, 8300, 8300],
        cooldown=timedelta(hours=40),
        step=timedelta(hours=12),
    )

    # Fired at 12h; re-armed at 24h; crossed again at 36h and 48h, within 40 hours of the
    # alert; at 60h the cooldown is over and the move is still there.
    assert outcomes == [
        Outcome.QUIET,
        Outcome.FIRE,
        Outcome.CLEAR,
        Outcome.HELD,
        Outcome.HELD,
        Outcome.FIRE,
    ]
    assert state.last_fired_at == T0 + timedelta(hours=60)


def test_a_value_of_none_changes_nothing():
    _, state = run_movement([10000, 8500])

    outcomes, after = run_movement([None], state=state)

    assert outcomes == [Outcome.QUIET]
    assert after == state


def run_condition(readings, *, cooldown=NO_COOLDOWN, needs_absence_first=False):
    state, outcomes = State(), []
    for n, holds in enumerate(readings):
        decision = condition(
            state,
            holds,
            value=None if holds is None else Decimal(int(holds)),
            at=T0 + timedelta(days=n),
            cooldown=cooldown,
            needs_absence_first=needs_absence_first,
        )
        outcomes.append(decision.outcome)
        state = decision.state
    return outcomes


def test_a_condition_fires_when_it_starts_to_hold_and_clears_when_it_stops():
    outcomes = run_condition([False, True, True, False, False])

    assert outcomes == [
        Outcome.QUIET,
        Outcome.FIRE,
        Outcome.ONGOING,
        Outcome.CLEAR,
        Outcome.QUIET,
    ]


def test_a_condition_that_comes_back_later_fires_again():
    assert run_condition([True, False, True]) == [Outcome.FIRE, Outcome.CLEAR, Outcome.FIRE]


def test_a_condition_that_comes_back_within_the_cooldown_is_held():
    outcomes = run_condition([True, False, True, True], cooldown=timedelta(days=2, hours=1))

    assert outcomes == [Outcome.FIRE, Outcome.CLEAR, Outcome.HELD, Outcome.FIRE]


def test_a_return_needs_to_be_seen_absent_first():
    assert run_condition([True, True], needs_absence_first=True) == [Outcome.QUIET] * 2
    assert run_condition([False, True, True, False, True], needs_absence_first=True) == [
        Outcome.QUIET,
        Outcome.FIRE,
        Outcome.ONGOING,
        Outcome.CLEAR,
        Outcome.FIRE,
    ]


def test_a_reading_that_says_nothing_leaves_a_condition_as_it_was():
    assert run_condition([True, None, None, True]) == [
        Outcome.FIRE,
        Outcome.QUIET,
        Outcome.QUIET,
        Outcome.ONGOING,
    ]


def test_a_failure_streak_counts_the_latest_failures_in_a_row():
    failures = {"failed", "blocked", "identity_mismatch"}

    assert failure_streak(["blocked", "failed", "success", "blocked"], failures) == 2
    assert failure_streak(["success", "blocked"], failures) == 0
    assert failure_streak([], failures) == 0


@given(st.lists(st.integers(min_value=8000, max_value=12000).map(Decimal), min_size=1, max_size=60))
def test_between_two_alerts_the_value_always_came_back_past_the_hysteresis_line(prices):
    """Whatever the prices do, a second alert needs the first move to have ended: no flood."""
    threshold, hysteresis = Decimal("0.10"), Decimal("0.02")
    state, fired_since_clear = State(), False
    for n, price in enumerate(prices):
        decision = movement(
            state,
            price,
            threshold=threshold,
            hysteresis=hysteresis,
            direction=Direction.EITHER,
            at=T0 + timedelta(hours=n),
            cooldown=NO_COOLDOWN,
        )
        if decision.outcome == Outcome.FIRE:
            assert not fired_since_clear
            assert abs(decision.change) > threshold
            fired_since_clear = True
        if decision.outcome == Outcome.CLEAR:
            assert abs(decision.change) <= threshold - hysteresis
            fired_since_clear = False
        state = decision.state
