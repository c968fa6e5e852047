"""The pricing engine: one product's recommended price, and every step that led to it.

Plain functions over frozen dataclasses; nothing here imports Django. The ORM edge builds
`RuleSpec`, `ProductFacts` and `Observation` values, calls `recommend()` and stores
`Recommendation.as_json()`. `pricing.batch.recommend_catalog()` prices a whole catalog at once
and must reproduce `price`, `bound_by`, `warnings` and `len(used)` of this module exactly, so
what follows is the contract of both.

Rules that apply
    The caller passes the active rules. A rule is in force at `now` when
    valid_from <= now < valid_until (a missing bound is open), and applies to a product when
    every scope field it sets matches: category (when not empty), brand_id, product_id.
    competitor_id is not scope: it names whom to undercut or match.

Competitor prices
    Per listing only the latest observation counts (latest observed_at, then highest probe_id;
    a full tie goes to the one later in the input); older ones are history, neither used nor
    ignored. The latest one is used only if, checked in this order, its status is "success"
    (the probe validated the product's identity), it has a price, it is fresh
    (now - observed_at <= max_age), available is True, and its currency is the product's.
    Otherwise it lands in `ignored` with the first reason that failed: "blocked",
    "identity mismatch", "no price", "stale: 5 days old", "out of stock",
    "availability unknown", "other currency EUR", ...
    A retailer's price is its cheapest used listing; "the cheapest competitor" is the cheapest
    used listing of all.

Start
    list_price, else msrp. With neither there is no recommendation: price None, one warning
    ("no list price or MSRP to start from: no recommendation"), no steps, bound_by None.

Price-setting rules, in ascending (priority, id), each on the running price
    undercut             target = competitor price - amount; price = min(price, target).
    match_minus_percent  target = competitor price x (1 - percent); price = min(price, target).
        Both use the rule's competitor_id, or the cheapest competitor without one. Like seed
        1's engine (`min(optimal_price, competitor_a_price - discount)`) they only ever lower
        the price: a product already below the target keeps its price.
    aging_discount       d = (now.date() - in_inventory_since).days. If d >= days:
        steps = min(cap, 1 + (d - days) // 30), cap 3 when unset (seed 1: "Cap at 3x"), and
        price = price x (1 - percent x steps). With d < days nothing changes.
    A step is skipped, with a note saying why, when the rule lacks the parameter it needs
    (amount, percent, days), the competitor has no used observation, the product has no
    in_inventory_since, or the result would not be a positive price.

Holding on a forecast (hold_on_forecast_revert, percent p; a missing percent counts as 0)
    Not a step that sets a price: it guards the undercut and match steps. When one of them
    would lower the price (its target is positive and below the running price), the hold rule
    that guards it is the first in ascending (priority, id) of the in-force hold rules that
    apply to the product and whose competitor_id is empty or is the retailer of the followed
    observation (the cheapest listing the step chose, price c). With one, the step reads the
    forecast the caller passed for that listing (`forecasts`, keyed by listing id: the 7-day
    forecast of a model that beat the last-value baseline at 7 days, made less than 7 days
    ago; the ORM edge passes no other). The competitor's drop is forecast to revert, and the
    step holds, when
        the forecast's currency is the product's,
        expected >= c x (1 + p)   (in cents, half up, like every percentage), and
        low > c                   (even the interval's low end is above today's price).
    A held step keeps the running price. Either way the hold rule's own step comes first in
    the explanation, with the forecast's expected price, interval and model version (or "no
    forecast"), then the competitor step, whose note starts "held: " when it held.

Rounding rules next, in ascending (priority, id)
    m = the nearest multiple of round_to, halves up (12,345 -> 12,350 with round_to 10).
    With an ending e (0 <= e < round_to) the price must leave remainder e when divided by
    round_to; of the two such prices around m, m - round_to + e and m + e, the nearer to m
    wins and a tie goes down. So round_to 10, ending 9 turns 12,345 into 12,350 and then
    12,349 (the model's help text), and ending 5 turns 12,350 into 12,345 (tie, down).
    An ending >= round_to is ignored with a note; round_to <= 0 or a non-positive result skips
    the rule.

Bounds last, whatever their priority
    floor   = max of floor_margin (cost x (1 + percent)), floor_map (the product's map_price),
              floor_fixed (amount);
    ceiling = min of ceiling_msrp (msrp, unless the rule has allow_above_msrp).
    A bound whose input is missing (no cost, no percent, not MAP-protected, no amount, no MSRP)
    is skipped with a note. Among equal bounds the first in (priority, id) counts. The price
    is capped at the ceiling, then raised to the floor: when floor > ceiling the floor wins
    and a warning says so ("floor 12,000.00 (margin) is above ceiling 11,500.00 (MSRP): the
    floor wins"). bound_by names the rule whose bound changed the price, else None.

Money
    Decimal, quantized to cents with ROUND_HALF_UP on the way in and after every step;
    percentages are quantized to 6 places (the model's field). Multiplying by a percentage
    happens in a 50-digit context, where amount (a/100) x factor (f/10**6) is exact, so the
    one rounding is the quantize: for a non-negative result that is
    (a x f + 500_000) // 10**6 cents, the integer formula the batch path uses. Factors below
    zero (percent x steps > 1) give non-positive prices, which both paths skip. round_to
    divides in the same context; p/r is at least 1/(2r) away from a half unless it is one,
    far more than 50 digits resolve, so halves are found exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from typing import Any

CENT = Decimal("0.01")
PERCENT_PLACES = Decimal("0.000001")
AGING_PERIOD_DAYS = 30
DEFAULT_AGING_CAP = 3
NO_START_PRICE = "no list price or MSRP to start from: no recommendation"


class Kind(StrEnum):
    """The values of pricing.models.PricingRule.Kind, without importing Django."""

    UNDERCUT = "undercut"
    MATCH_MINUS_PERCENT = "match_minus_percent"
    AGING_DISCOUNT = "aging_discount"
    FLOOR_MARGIN = "floor_margin"
    FLOOR_MAP = "floor_map"
    FLOOR_FIXED = "floor_fixed"
    CEILING_MSRP = "ceiling_msrp"
    ROUNDING = "rounding"
    HOLD_ON_FORECAST_REVERT = "hold_on_forecast_revert"


COMPETITOR_KINDS = frozenset({Kind.UNDERCUT, Kind.MATCH_MINUS_PERCENT})
SETTING_KINDS = frozenset({Kind.UNDERCUT, Kind.MATCH_MINUS_PERCENT, Kind.AGING_DISCOUNT})
FLOOR_KINDS = frozenset({Kind.FLOOR_MARGIN, Kind.FLOOR_MAP, Kind.FLOOR_FIXED})
CEILING_KINDS = frozenset({Kind.CEILING_MSRP})
BOUND_LABELS = {
    Kind.FLOOR_MARGIN: "margin",
    Kind.FLOOR_MAP: "MAP",
    Kind.FLOOR_FIXED: "fixed",
    Kind.CEILING_MSRP: "MSRP",
}

SUCCESS = "success"
STATUS_REASONS = {
    "blocked": "blocked",
    "identity_mismatch": "identity mismatch",
    "no_price": "no price",
    "price_hidden": "price hidden",
    "failed": "failed",
    "not_found": "not found",
    "pending": "pending",
}


@dataclass(frozen=True)
class RuleSpec:
    id: int
    name: str
    kind: str
    priority: int = 100
    category: str = ""
    brand_id: int | None = None
    product_id: int | None = None
    competitor_id: int | None = None
    amount: Decimal | None = None
    percent: Decimal | None = None
    days: int | None = None
    cap: int | None = None
    round_to: Decimal | None = None
    ending: Decimal | None = None
    allow_above_msrp: bool = False
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    @classmethod
    def from_rule(cls, rule: Any) -> RuleSpec:
        """From anything shaped like a PricingRule (duck-typed: no Django import here)."""
        return cls(
            id=rule.pk,
            name=rule.name,
            kind=rule.kind,
            priority=rule.priority,
            category=rule.category or "",
            brand_id=rule.brand_id,
            product_id=rule.product_id,
            competitor_id=rule.competitor_id,
            amount=rule.amount,
            percent=rule.percent,
            days=rule.days,
            cap=rule.cap,
            round_to=rule.round_to,
            ending=rule.ending,
            allow_above_msrp=rule.allow_above_msrp,
            valid_from=rule.valid_from,
            valid_until=rule.valid_until,
        )


@dataclass(frozen=True)
class ProductFacts:
    id: int
    brand_id: int | None
    category: str
    currency: str
    list_price: Decimal | None
    msrp: Decimal | None
    cost: Decimal | None
    map_price: Decimal | None
    in_inventory_since: date | None


@dataclass(frozen=True)
class Observation:
    listing_id: int
    retailer_id: int
    retailer_name: str
    price: Decimal | None
    currency: str
    available: bool | None
    observed_at: datetime
    status: str
    probe_id: int

    def as_json(self) -> dict[str, Any]:
        return {
            "listing_id": self.listing_id,
            "retailer_id": self.retailer_id,
            "retailer": self.retailer_name,
            "price": _text(self.price),
            "currency": self.currency,
            "available": self.available,
            "observed_at": self.observed_at.isoformat(),
            "status": self.status,
            "probe_id": self.probe_id,
        }


@dataclass(frozen=True)
class Forecast:
    """A listing's forecast price, as the hold rule reads it (money in the listing's currency)."""

    listing_id: int
    expected: Decimal
    low: Decimal
    high: Decimal
    currency: str
    model_version: int
    horizon_days: int = 7


@dataclass(frozen=True)
class Step:
    rule_id: int | None
    rule_name: str
    kind: str
    inputs: dict[str, Any]
    before: Decimal | None
    after: Decimal | None
    note: str

    def as_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "rule": self.rule_name,
            "kind": self.kind,
            "inputs": {key: _text(value) for key, value in self.inputs.items()},
            "before": _text(self.before),
            "after": _text(self.after),
            "note": self.note,
        }


@dataclass(frozen=True)
class Recommendation:
    product_id: int
    currency: str
    price: Decimal | None
    steps: list[Step] = field(default_factory=list)
    bound_by: str | None = None
    used: list[Observation] = field(default_factory=list)
    ignored: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """For Recommendation.explanation: JSON types only, Decimals as strings."""
        return {
            "product_id": self.product_id,
            "currency": self.currency,
            "price": _text(self.price),
            "steps": [step.as_json() for step in self.steps],
            "bound_by": self.bound_by,
            "used": [observation.as_json() for observation in self.used],
            "ignored": [
                {"listing_id": listing_id, "reason": reason} for listing_id, reason in self.ignored
            ],
            "warnings": list(self.warnings),
        }


# --- money --------------------------------------------------------------------------------


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fraction(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def to_cents(value: Decimal) -> int:
    return int(money(value).scaleb(2))


def to_ppm(value: Decimal) -> int:
    """A fraction in millionths: 0.05 -> 50_000."""
    return int(fraction(value).scaleb(6))


def from_cents(cents: int) -> Decimal:
    return money(Decimal(int(cents)).scaleb(-2))


def format_money(value: Decimal) -> str:
    return f"{value:,.2f}"


def format_percent(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def scaled(amount: Decimal, factor: Decimal) -> Decimal:
    """amount x factor in cents, half up; exact for cents x 6-place fractions (see above)."""
    with localcontext() as context:
        context.prec = 50
        return (amount * factor).quantize(CENT, rounding=ROUND_HALF_UP)


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# --- rules --------------------------------------------------------------------------------


def rule_in_force(rule: RuleSpec, now: datetime) -> bool:
    if rule.valid_from is not None and now < rule.valid_from:
        return False
    return rule.valid_until is None or now < rule.valid_until


def rule_applies_to(rule: RuleSpec, product: ProductFacts) -> bool:
    if rule.category and rule.category != product.category:
        return False
    if rule.brand_id is not None and rule.brand_id != product.brand_id:
        return False
    return rule.product_id is None or rule.product_id == product.id


@dataclass(frozen=True)
class Stages:
    """In-force rules by the stage that runs them, each in ascending (priority, id)."""

    setting: list[RuleSpec]
    holds: list[RuleSpec]
    rounding: list[RuleSpec]
    floors: list[RuleSpec]
    ceilings: list[RuleSpec]


def stages(rules: Iterable[RuleSpec], *, now: datetime) -> Stages:
    ordered = sorted(
        (rule for rule in rules if rule_in_force(rule, now)),
        key=lambda rule: (rule.priority, rule.id),
    )
    return Stages(
        setting=[rule for rule in ordered if rule.kind in SETTING_KINDS],
        holds=[rule for rule in ordered if rule.kind == Kind.HOLD_ON_FORECAST_REVERT],
        rounding=[rule for rule in ordered if rule.kind == Kind.ROUNDING],
        floors=[rule for rule in ordered if rule.kind in FLOOR_KINDS],
        ceilings=[rule for rule in ordered if rule.kind in CEILING_KINDS],
    )


# --- competitor prices --------------------------------------------------------------------


def age_text(age: timedelta) -> str:
    if age.days >= 1:
        return f"{age.days} day{'s' if age.days != 1 else ''} old"
    hours = age.seconds // 3600
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''} old"
    return f"{age.seconds // 60} minutes old"


def ignore_reason(
    observation: Observation, *, currency: str, now: datetime, max_age: timedelta
) -> str | None:
    """Why a listing's latest observation can't be used, or None when it can."""
    if observation.status != SUCCESS:
        return STATUS_REASONS.get(observation.status, observation.status.replace("_", " "))
    if observation.price is None:
        return "no price"
    age = now - observation.observed_at
    if age > max_age:
        return f"stale: {age_text(age)}"
    if observation.available is None:
        return "availability unknown"
    if not observation.available:
        return "out of stock"
    if observation.currency != currency:
        return f"other currency {observation.currency}"
    return None


def latest_per_listing(observations: Iterable[Observation]) -> list[Observation]:
    latest: dict[int, Observation] = {}
    for observation in observations:
        current = latest.get(observation.listing_id)
        if current is None or (observation.observed_at, observation.probe_id) >= (
            current.observed_at,
            current.probe_id,
        ):
            latest[observation.listing_id] = observation
    return list(latest.values())


def split_observations(
    observations: Iterable[Observation], *, currency: str, now: datetime, max_age: timedelta
) -> tuple[list[Observation], list[tuple[Observation, str]]]:
    """The latest observation of each listing, as used ones and (ignored one, reason) pairs."""
    used: list[Observation] = []
    ignored: list[tuple[Observation, str]] = []
    for observation in latest_per_listing(observations):
        reason = ignore_reason(observation, currency=currency, now=now, max_age=max_age)
        if reason is None:
            used.append(observation)
        else:
            ignored.append((observation, reason))
    return used, ignored


# --- the recommendation ---------------------------------------------------------------------


@dataclass
class _Run:
    """The running state of one recommendation."""

    product: ProductFacts
    used: list[Observation]
    ignored_retailers: dict[int, list[str]]
    now: datetime
    price: Decimal
    holds: list[RuleSpec] = field(default_factory=list)
    forecasts: Mapping[int, Forecast] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)

    def record(self, rule: RuleSpec, inputs: dict[str, Any], after: Decimal, note: str) -> None:
        self.steps.append(Step(rule.id, rule.name, rule.kind, inputs, self.price, after, note))
        self.price = after

    def skip(self, rule: RuleSpec, note: str, inputs: dict[str, Any] | None = None) -> None:
        self.record(rule, inputs or {}, self.price, f"skipped: {note}")


def recommend(
    product: ProductFacts,
    rules: Sequence[RuleSpec],
    observations: Iterable[Observation],
    *,
    now: datetime,
    max_age: timedelta,
    forecasts: Mapping[int, Forecast] | None = None,
) -> Recommendation:
    """The recommended price for one product, with the steps, bounds and observations behind it.

    `forecasts` (listing id -> Forecast) feed the hold_on_forecast_revert rules.
    """
    used, unusable = split_observations(
        observations, currency=product.currency, now=now, max_age=max_age
    )
    ignored = [(observation.listing_id, reason) for observation, reason in unusable]
    start, source = _start_price(product)
    if start is None:
        return Recommendation(
            product.id,
            product.currency,
            None,
            used=used,
            ignored=ignored,
            warnings=[NO_START_PRICE],
        )

    ignored_retailers: dict[int, list[str]] = {}
    for observation, reason in unusable:
        ignored_retailers.setdefault(observation.retailer_id, []).append(reason)
    plan = stages(rules, now=now)
    run = _Run(
        product,
        used,
        ignored_retailers,
        now,
        start,
        holds=[rule for rule in plan.holds if rule_applies_to(rule, product)],
        forecasts=forecasts or {},
    )
    label = "list price" if source == "list_price" else "MSRP"
    run.steps.append(
        Step(
            None,
            "start",
            "start",
            {source: start},
            None,
            start,
            f"start from the {label}, {format_money(start)}",
        )
    )

    for rule in plan.setting:
        if rule_applies_to(rule, product):
            _apply_setting(run, rule)
    for rule in plan.rounding:
        if rule_applies_to(rule, product):
            _apply_rounding(run, rule)
    bound_by, warnings = _apply_bounds(
        run,
        [rule for rule in plan.floors if rule_applies_to(rule, product)],
        [rule for rule in plan.ceilings if rule_applies_to(rule, product)],
    )
    return Recommendation(
        product.id,
        product.currency,
        run.price,
        steps=run.steps,
        bound_by=bound_by,
        used=used,
        ignored=ignored,
        warnings=warnings,
    )


def _start_price(product: ProductFacts) -> tuple[Decimal | None, str]:
    if product.list_price is not None:
        return money(product.list_price), "list_price"
    if product.msrp is not None:
        return money(product.msrp), "msrp"
    return None, ""


def _competitor(run: _Run, rule: RuleSpec) -> tuple[Observation | None, str]:
    """The used observation a competitor rule targets, or None and why there is none."""
    if rule.competitor_id is None:
        candidates = run.used
        missing = "no usable competitor price"
    else:
        candidates = [o for o in run.used if o.retailer_id == rule.competitor_id]
        reasons = run.ignored_retailers.get(rule.competitor_id)
        missing = f"no usable price from retailer #{rule.competitor_id}"
        if reasons:
            missing += f" ({', '.join(reasons)})"
    if not candidates:
        return None, missing
    return min(candidates, key=lambda o: (money(o.price), o.listing_id)), ""


def _apply_setting(run: _Run, rule: RuleSpec) -> None:
    if rule.kind == Kind.AGING_DISCOUNT:
        _apply_aging(run, rule)
        return
    needed = "amount" if rule.kind == Kind.UNDERCUT else "percent"
    if getattr(rule, needed) is None:
        run.skip(rule, f"the rule has no {needed}")
        return
    observation, missing = _competitor(run, rule)
    if observation is None:
        run.skip(rule, missing)
        return
    competitor = money(observation.price)
    inputs: dict[str, Any] = {
        "retailer": observation.retailer_name,
        "listing_id": observation.listing_id,
        "competitor_price": competitor,
    }
    if rule.kind == Kind.UNDERCUT:
        amount = money(rule.amount)
        target = competitor - amount
        inputs["amount"] = amount
        how = f"{observation.retailer_name} {format_money(competitor)} - {format_money(amount)}"
    else:
        percent = fraction(rule.percent)
        target = scaled(competitor, 1 - percent)
        inputs["percent"] = percent
        how = f"{observation.retailer_name} {format_money(competitor)} - {format_percent(percent)}"
    inputs["target"] = target
    if target <= 0:
        run.skip(rule, f"{how} = {format_money(target)} is not a positive price", inputs)
    elif target < run.price and _holds(run, observation, competitor):
        run.record(
            rule,
            inputs,
            run.price,
            f"held: {how} = {format_money(target)}, but that price is forecast to revert",
        )
    elif target < run.price:
        run.record(rule, inputs, target, f"{how} = {format_money(target)}")
    else:
        run.record(
            rule,
            inputs,
            run.price,
            f"kept {format_money(run.price)}: already at or below {how} = {format_money(target)}",
        )


def hold_rule_for(holds: Iterable[RuleSpec], retailer_id: int) -> RuleSpec | None:
    """The first hold rule (in the order given) that guards following this retailer."""
    for rule in holds:
        if rule.competitor_id is None or rule.competitor_id == retailer_id:
            return rule
    return None


def _holds(run: _Run, observation: Observation, competitor: Decimal) -> bool:
    """Whether a step lowering the price to follow `observation` holds; records the hold step."""
    rule = hold_rule_for(run.holds, observation.retailer_id)
    if rule is None:
        return False
    percent = fraction(rule.percent if rule.percent is not None else 0)
    forecast = run.forecasts.get(observation.listing_id)
    inputs: dict[str, Any] = {
        "retailer": observation.retailer_name,
        "listing_id": observation.listing_id,
        "competitor_price": competitor,
        "percent": percent,
    }
    name = observation.retailer_name
    if forecast is None or forecast.currency != run.product.currency:
        why = "no forecast" if forecast is None else f"a forecast in {forecast.currency}"
        run.record(rule, inputs, run.price, f"no hold: {why} for {name}'s listing")
        return False
    expected, low, high = money(forecast.expected), money(forecast.low), money(forecast.high)
    needed = scaled(competitor, 1 + percent)
    inputs |= {
        "horizon_days": forecast.horizon_days,
        "forecast_expected": expected,
        "forecast_low": low,
        "forecast_high": high,
        "model_version": forecast.model_version,
        "needed": needed,
    }
    told = (
        f"model v{forecast.model_version} expects {name} at {format_money(expected)} in "
        f"{forecast.horizon_days} days (interval {format_money(low)}-{format_money(high)}) "
        f"against {format_money(competitor)} now"
    )
    hold = expected >= needed and low > competitor
    if hold:
        note = f"hold: {told}: at least {format_percent(percent)} higher and the interval above it"
    elif expected < needed:
        note = f"no hold: {told}: below {format_money(needed)} (+{format_percent(percent)})"
    else:
        note = f"no hold: {told}: the interval reaches down to today's price"
    run.record(rule, inputs, run.price, note)
    return hold


def _apply_aging(run: _Run, rule: RuleSpec) -> None:
    since = run.product.in_inventory_since
    if rule.days is None or rule.percent is None:
        run.skip(rule, "the rule needs days and percent")
        return
    if since is None:
        run.skip(rule, "the product has no in-inventory date")
        return
    days_in = (run.now.date() - since).days
    inputs: dict[str, Any] = {"days_in_inventory": days_in, "after_days": rule.days}
    if days_in < rule.days:
        run.skip(rule, f"{days_in} days in inventory, discount starts at {rule.days}", inputs)
        return
    cap = DEFAULT_AGING_CAP if rule.cap is None else rule.cap
    steps = min(cap, 1 + (days_in - rule.days) // AGING_PERIOD_DAYS)
    percent = fraction(rule.percent)
    discount = percent * steps
    inputs |= {"percent": percent, "steps": steps, "cap": cap, "discount": discount}
    after = scaled(run.price, 1 - discount)
    how = (
        f"{days_in} days in inventory: {steps} x {format_percent(percent)} "
        f"(at most {cap}) = {format_percent(discount)} off"
    )
    if steps <= 0:
        run.skip(rule, f"{how}: a cap of {cap} allows no discount", inputs)
    elif after <= 0:
        run.skip(rule, f"{how} is not a positive price", inputs)
    else:
        run.record(rule, inputs, after, f"{how}: {format_money(after)}")


def round_price(price: Decimal, round_to: Decimal, ending: Decimal | None) -> Decimal:
    """The nearest multiple of round_to (halves up), then the nearest price with that ending."""
    with localcontext() as context:
        context.prec = 50
        rounded = (price / round_to).to_integral_value(rounding=ROUND_HALF_UP) * round_to
    if ending is None or ending >= round_to:
        return money(rounded)
    if ending * 2 < round_to:
        return money(rounded + ending)
    return money(rounded - round_to + ending)


def _apply_rounding(run: _Run, rule: RuleSpec) -> None:
    if rule.round_to is None or money(rule.round_to) <= 0:
        run.skip(rule, "the rule has no positive round_to")
        return
    round_to = money(rule.round_to)
    ending = None if rule.ending is None else money(rule.ending)
    inputs: dict[str, Any] = {"round_to": round_to, "ending": ending}
    note = f"to the nearest {format_money(round_to)}"
    if ending is not None and ending >= round_to:
        note += f", ending {format_money(ending)} ignored: not below round_to"
    elif ending is not None:
        note += f", ending in {format_money(ending)}"
    after = round_price(run.price, round_to, ending)
    if after <= 0:
        run.skip(rule, f"{note} gives {format_money(after)}, not a positive price", inputs)
    else:
        run.record(rule, inputs, after, f"{note}: {format_money(after)}")


def _bound_value(
    product: ProductFacts, rule: RuleSpec
) -> tuple[Decimal | None, dict[str, Any], str]:
    """A bound rule's value for this product, or None and why it doesn't bound."""
    if rule.kind == Kind.FLOOR_MARGIN:
        if product.cost is None:
            return None, {}, "the product has no cost"
        if rule.percent is None:
            return None, {}, "the rule has no percent"
        cost, percent = money(product.cost), fraction(rule.percent)
        value = scaled(cost, 1 + percent)
        note = f"cost {format_money(cost)} + {format_percent(percent)} = {format_money(value)}"
        return value, {"cost": cost, "percent": percent, "floor": value}, note
    if rule.kind == Kind.FLOOR_MAP:
        if product.map_price is None:
            return None, {}, "the product is not MAP-protected"
        value = money(product.map_price)
        return value, {"map_price": value, "floor": value}, f"MAP {format_money(value)}"
    if rule.kind == Kind.FLOOR_FIXED:
        if rule.amount is None:
            return None, {}, "the rule has no amount"
        value = money(rule.amount)
        return value, {"floor": value}, f"fixed floor {format_money(value)}"
    if rule.allow_above_msrp:
        return None, {}, "the rule allows a price above MSRP"
    if product.msrp is None:
        return None, {}, "the product has no MSRP"
    value = money(product.msrp)
    return value, {"msrp": value, "ceiling": value}, f"MSRP {format_money(value)}"


def _tightest(
    product: ProductFacts, rules: list[RuleSpec], *, higher_is_tighter: bool
) -> tuple[RuleSpec | None, Decimal | None, list[tuple[RuleSpec, Decimal | None, dict, str]]]:
    best_rule: RuleSpec | None = None
    best: Decimal | None = None
    evaluated = []
    for rule in rules:
        value, inputs, note = _bound_value(product, rule)
        evaluated.append((rule, value, inputs, note))
        if value is None:
            continue
        if best is None or (value > best if higher_is_tighter else value < best):
            best_rule, best = rule, value
    return best_rule, best, evaluated


def _apply_bounds(
    run: _Run, floors: list[RuleSpec], ceilings: list[RuleSpec]
) -> tuple[str | None, list[str]]:
    floor_rule, floor, floor_notes = _tightest(run.product, floors, higher_is_tighter=True)
    ceiling_rule, ceiling, ceiling_notes = _tightest(run.product, ceilings, higher_is_tighter=False)
    warnings = []
    if floor is not None and ceiling is not None and floor > ceiling:
        warnings.append(
            f"floor {format_money(floor)} ({BOUND_LABELS[floor_rule.kind]}) is above ceiling "
            f"{format_money(ceiling)} ({BOUND_LABELS[ceiling_rule.kind]}): the floor wins"
        )

    before = run.price
    after, binding = before, None
    if ceiling is not None and after > ceiling:
        after, binding = ceiling, ceiling_rule
    if floor is not None and after < floor:
        after, binding = floor, floor_rule

    for rule, value, inputs, note in ceiling_notes + floor_notes:
        if value is None:
            step_note = f"skipped: {note}"
        elif rule is binding:
            direction = "lowered" if after < before else "raised"
            step_note = f"{note}: binds, price {direction} to {format_money(after)}"
        elif rule is ceiling_rule and warnings:
            step_note = f"{note}: below the floor, which wins"
        elif rule is floor_rule or rule is ceiling_rule:
            step_note = f"{note}: does not bind"
        else:
            step_note = f"{note}: a tighter bound applies"
        step_after = after if rule is binding else before
        run.steps.append(Step(rule.id, rule.name, rule.kind, inputs, before, step_after, step_note))
    run.price = after
    return (binding.name if binding else None), warnings
