"""When an alert rule fires, stays quiet, and fires again: pure decisions over plain values.

No Django here. The services read what probes, prices and recommendations recorded, turn it into
one number per rule and subject (a price, 1 or 0 for in stock, a count of failed probes, hours
waited), and ask `movement` or `condition` what that number means for the rule's state.

A rule's state, per subject, is `State`: whether it is armed, the reference value it measures
against, the last value it saw and when it last fired. Every decision returns the new state and
one `Outcome`:

- QUIET: nothing to tell (not crossed; or the first value, which only sets the reference);
- FIRE: crossed while armed: a new alert, and the rule disarms;
- HELD: crossed while armed but within the cooldown of the last alert: no alert yet, and the
  rule stays armed, so the next value after the cooldown fires if the condition still holds;
- ONGOING: the condition that fired still holds: the ongoing alert is updated, nobody paged;
- CLEAR: the condition went away: the ongoing alert is cleared, and the rule re-arms.

Movement kinds (`movement`): "moved more than X%".

- price_change: our list price; fires when it moves more than the threshold either way.
- competitor_drop: one listing's advertised price; fires when it falls more than the threshold.
- new_lowest_price: the product's lowest in-stock market price; fires when it falls more than
  the threshold (0 by default: any new low).

"Moved" is measured against the reference: the value when the rule last armed (the first value
it saw, or the value at which the previous move ended or was resolved). The change is
(value - reference) / reference; "more than 10%" is strict, so exactly 10% does not fire.
Once fired, the reference stays put while the move lasts, and the alert follows the value. The
move is over, and the rule re-arms with the value at that moment as its new reference, when the
value comes back within threshold - hysteresis of the reference (for drops: back above
reference x (1 - threshold + hysteresis)). A value between the two lines changes nothing: that
band is what keeps a price hovering at the threshold from firing on every probe.

A move that lasts forever would otherwise keep the rule disarmed forever ("fires once and never
again"): when a person resolves the ongoing alert, the move is taken as acknowledged, and the
rule re-arms at the current value, ready for the next move from there.

Condition kinds (`condition`): a state that holds or not.

- out_of_stock: holds while a probe reads the listing as not buyable; clears when it reads it
  buyable again. Fires on the first reading too: a rule set up for a listing that is already
  out of stock says so.
- back_in_stock: holds once a listing seen out of stock reads buyable; clears when it goes out
  again. Needs a reading out of stock first: a listing first seen in stock never fires.
- probe_failures: holds while the listing's latest N probes (or more) in a row failed, were
  blocked, found nothing or read another product; clears with the next probe that reads the page.
  A streak only ends at zero, so hysteresis has nothing to do here.
- map_violation: holds while the pricing app's violation episode is open; each episode is its
  own subject, so each is its own alert, and the close clears it.
- recommendation_waiting: holds while a proposed recommendation has waited N hours or more;
  clears when it is decided or superseded.

A resolved alert does not re-arm a condition: the rule waits until the condition itself clears,
so resolving a listing that is still out of stock does not bring the alert straight back.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum


class Outcome(StrEnum):
    QUIET = "quiet"
    FIRE = "fire"
    HELD = "held"
    ONGOING = "ongoing"
    CLEAR = "clear"


class Direction(StrEnum):
    EITHER = "either"
    DOWN = "down"


@dataclass(frozen=True)
class State:
    armed: bool = True
    reference: Decimal | None = None
    last_value: Decimal | None = None
    last_fired_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    state: State
    change: Decimal | None = None
    """Movement kinds: (value - reference) / reference, against the reference that applied."""


def relative_change(reference: Decimal, value: Decimal) -> Decimal:
    return (value - reference) / reference


def in_cooldown(last_fired_at: datetime | None, at: datetime, cooldown: timedelta) -> bool:
    return bool(cooldown) and last_fired_at is not None and at - last_fired_at < cooldown


def fire_or_hold(state: State, *, at: datetime, cooldown: timedelta, **decision) -> Decision:
    if in_cooldown(state.last_fired_at, at, cooldown):
        return Decision(Outcome.HELD, state, **decision)
    return Decision(Outcome.FIRE, replace(state, armed=False, last_fired_at=at), **decision)


def crossed(change: Decimal, limit: Decimal, direction: Direction) -> bool:
    if direction == Direction.DOWN:
        return change < -limit
    return abs(change) > limit


def movement(
    state: State,
    value: Decimal | None,
    *,
    threshold: Decimal,
    hysteresis: Decimal,
    direction: Direction,
    at: datetime,
    cooldown: timedelta,
    acknowledged: bool = False,
) -> Decision:
    """Decide for a value that may have moved away from the reference.

    `acknowledged`: the alert of the move under way was resolved by a person (or is gone).
    """
    if value is None:
        return Decision(Outcome.QUIET, state)
    if state.reference is None or state.reference == 0:
        # Nothing to measure against yet (a price of zero has no percentages either).
        return Decision(
            Outcome.QUIET, replace(state, armed=True, reference=value, last_value=value)
        )
    change = relative_change(state.reference, value)
    seen = replace(state, last_value=value)
    if state.armed:
        if crossed(change, threshold, direction):
            return fire_or_hold(seen, at=at, cooldown=cooldown, change=change)
        return Decision(Outcome.QUIET, seen, change)
    # A drop clears above a line that may lie above the reference (threshold 0, hysteresis 2%:
    # back 2% above the old low); a two-sided band cannot be narrower than nothing.
    clear_limit = threshold - hysteresis
    if direction == Direction.EITHER:
        clear_limit = max(clear_limit, Decimal(0))
    rearmed = replace(seen, armed=True, reference=value)
    if not crossed(change, clear_limit, direction):
        return Decision(Outcome.CLEAR, rearmed, change)
    if acknowledged:
        return Decision(Outcome.QUIET, rearmed, change)
    return Decision(Outcome.ONGOING, seen, change)


def condition(
    state: State,
    holds: bool | None,
    *,
    value: Decimal | None,
    at: datetime,
    cooldown: timedelta,
    needs_absence_first: bool = False,
) -> Decision:
    """Decide for a condition that holds or not; `holds` None means this reading says nothing.

    `needs_absence_first`: the condition is a return (back in stock), which only means something
    after it was seen not to hold, so the first reading arms the rule only if it does not hold.
    """
    if holds is None:
        return Decision(Outcome.QUIET, state)
    seen = replace(state, last_value=value)
    never_armed = state.last_value is None or (not state.armed and state.last_fired_at is None)
    if needs_absence_first and never_armed:
        # Not seen absent yet: a listing first seen in stock has not come back to anything.
        return Decision(Outcome.QUIET, replace(seen, armed=not holds))
    if state.armed:
        if holds:
            return fire_or_hold(seen, at=at, cooldown=cooldown)
        return Decision(Outcome.QUIET, seen)
    if holds:
        return Decision(Outcome.ONGOING, seen)
    return Decision(Outcome.CLEAR, replace(seen, armed=True))


def failure_streak(statuses_newest_first: Iterable[str], failures: Iterable[str]) -> int:
    """How many of the latest probes in a row ended in one of the failure statuses."""
    failing = frozenset(failures)
    streak = 0
    for status in statuses_newest_first:
        if status not in failing:
            break
        streak += 1
    return streak
