"""The pricing engine over a whole catalog at once: pandas and numpy, no loop over products.

`recommend_catalog()` gives every product exactly the price, bound_by, warnings and number of
used observations that `pricing.engine.recommend()` gives it alone; the rules are written out
in that module's docstring and tests/pricing/test_batch_equivalence.py holds the two to it on
random catalogs. Loops run over rules, which are few. It does not explain: a page that shows
one product's steps calls `recommend()` for it.

Money is int64 cents and percentages int64 millionths (ppm), so cents x (10**6 - ppm) is exact
and rounds half up as (x + 500_000) // 10**6, the value the engine's Decimal path gives. The
model's 12-digit money fields keep every product below 2 x 10**18, inside int64.

products, one row per product (`products_frame()` builds it from ProductFacts):
    id                    int, unique
    brand_id              int or missing
    category              str, "" for none
    currency              str
    list_price_cents, msrp_cents, cost_cents, map_price_cents
                          int or missing (nullable Int64)
    in_inventory_since    date or missing

observations, one row per probe (`observations_frame()` builds it from Observations):
    product_id, listing_id, retailer_id, probe_id   int
    price_cents           int or missing
    currency              str
    available             bool or missing
    observed_at           aware datetime
    status                str, a Probe.Status value

forecasts, one row per listing with a shown forecast (`forecasts_frame()` builds it from
engine Forecasts; optional, for hold_on_forecast_revert):
    listing_id                              int, unique
    expected_cents, low_cents, high_cents   int
    currency                                str
    model_version                           int

The result has one row per product, in the input order:
    product_id            int
    price_cents           Int64, <NA> when there is no recommendation
    bound_by              str or None: the name of the bound rule that set the price
    warnings              tuple of str
    n_used                int: the listings whose latest observation was used
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from pricing.engine import (
    AGING_PERIOD_DAYS,
    BOUND_LABELS,
    DEFAULT_AGING_CAP,
    NO_START_PRICE,
    SUCCESS,
    Forecast,
    Kind,
    Observation,
    ProductFacts,
    RuleSpec,
    format_money,
    from_cents,
    money,
    stages,
    to_cents,
    to_ppm,
)

PPM = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
PRODUCT_MONEY = ("list_price_cents", "msrp_cents", "cost_cents", "map_price_cents")


def scale(cents: np.ndarray, factor_ppm: np.ndarray | int) -> np.ndarray:
    """cents x factor / 10**6, half up; cents and factor must not be negative."""
    return (cents * factor_ppm + PPM // 2) // PPM


def _nullable(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(present, values) with 0 where missing."""
    present = column.notna().to_numpy(dtype=bool)
    values = column.where(present, 0).to_numpy(dtype=np.int64)
    return present, values


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def _column_micros(column: pd.Series) -> np.ndarray:
    index = pd.DatetimeIndex(column)
    if index.tz is None:
        raise ValueError("observed_at must be aware datetimes (UTC)")
    return index.tz_convert("UTC").as_unit("us").asi8


def _one_each(value: object, count: int) -> np.ndarray:
    """An object array holding the same object (a tuple, say) count times."""
    holder = np.empty(1, dtype=object)
    holder[0] = value
    return np.repeat(holder, count)


@dataclass(frozen=True)
class _Products:
    ids: np.ndarray
    brand_present: np.ndarray
    brand: np.ndarray
    category: np.ndarray
    currency: np.ndarray
    money: dict[str, tuple[np.ndarray, np.ndarray]]
    since_present: np.ndarray
    since_day: np.ndarray

    @classmethod
    def read(cls, frame: pd.DataFrame) -> _Products:
        since = pd.DatetimeIndex(pd.to_datetime(frame["in_inventory_since"]))
        since_present = ~np.asarray(since.isna())
        since_day = np.where(since_present, since.as_unit("s").asi8 // 86_400, 0)
        brand_present, brand = _nullable(frame["brand_id"])
        return cls(
            ids=frame["id"].to_numpy(dtype=np.int64),
            brand_present=brand_present,
            brand=brand,
            category=frame["category"].fillna("").to_numpy(dtype=object),
            currency=frame["currency"].to_numpy(dtype=object),
            money={name: _nullable(frame[name]) for name in PRODUCT_MONEY},
            since_present=since_present,
            since_day=since_day,
        )

    def __len__(self) -> int:
        return len(self.ids)

    def scope(self, rule: RuleSpec) -> np.ndarray:
        mask = np.ones(len(self), dtype=bool)
        if rule.category:
            mask &= self.category == rule.category
        if rule.brand_id is not None:
            mask &= self.brand_present & (self.brand == rule.brand_id)
        if rule.product_id is not None:
            mask &= self.ids == rule.product_id
        return mask


class _CompetitorPrices:
    """Per product: how many listings are used, the cheapest, and each retailer's cheapest."""

    def __init__(
        self, products: _Products, frame: pd.DataFrame, *, now: datetime, max_age: timedelta
    ) -> None:
        size = len(products)
        if frame.empty:
            self.n_used = np.zeros(size, dtype=np.int64)
            self._position = self._price = self._retailer = np.zeros(0, dtype=np.int64)
            self._listing = np.zeros(0, dtype=np.int64)
            self._size = size
            self._by_retailer: dict[int | None, Cheapest] = {}
            return
        position = pd.Index(products.ids).get_indexer(frame["product_id"].to_numpy())
        listing = frame["listing_id"].to_numpy(dtype=np.int64)
        observed = _column_micros(frame["observed_at"])
        probe = frame["probe_id"].to_numpy(dtype=np.int64)
        row = np.arange(len(frame))
        # lexsort's last key sorts first: by product, listing, then time, probe id, input order.
        order = np.lexsort((row, probe, observed, listing, position))
        order = order[position[order] >= 0]
        boundary = np.ones(len(order), dtype=bool)
        boundary[:-1] = (position[order][1:] != position[order][:-1]) | (
            listing[order][1:] != listing[order][:-1]
        )
        latest = order[boundary]

        price_present, price = _nullable(frame["price_cents"])
        usable = (
            (frame["status"].to_numpy(dtype=object)[latest] == SUCCESS)
            & price_present[latest]
            & (_micros(now) - observed[latest] <= max_age // MICROSECOND)
            & frame["available"].astype("boolean").fillna(False).to_numpy(dtype=bool)[latest]
            & (
                frame["currency"].to_numpy(dtype=object)[latest]
                == products.currency[position[latest]]
            )
        )
        used = latest[usable]
        self._size = size
        self._position = position[used]
        self._price = price[used]
        self._retailer = frame["retailer_id"].to_numpy(dtype=np.int64)[used]
        self._listing = listing[used]
        self.n_used = np.bincount(self._position, minlength=size).astype(np.int64)
        self._by_retailer = {}

    def cheapest(self, retailer_id: int | None) -> Cheapest:
        """The retailer's cheapest used listing per product, or everyone's for None; a price
        tie goes to the lower listing id, as in the engine."""
        if retailer_id not in self._by_retailer:
            chosen = slice(None) if retailer_id is None else self._retailer == retailer_id
            position, price = self._position[chosen], self._price[chosen]
            listing, retailer = self._listing[chosen], self._retailer[chosen]
            order = np.lexsort((listing, price, position))
            first = np.ones(len(order), dtype=bool)
            first[1:] = position[order][1:] != position[order][:-1]
            best = order[first]
            present = np.zeros(self._size, dtype=bool)
            present[position[best]] = True
            cents = np.zeros(self._size, dtype=np.int64)
            cents[position[best]] = price[best]
            chosen_listing = np.full(self._size, -1, dtype=np.int64)
            chosen_listing[position[best]] = listing[best]
            chosen_retailer = np.full(self._size, -1, dtype=np.int64)
            chosen_retailer[position[best]] = retailer[best]
            self._by_retailer[retailer_id] = Cheapest(
                present, cents, chosen_listing, chosen_retailer
            )
        return self._by_retailer[retailer_id]


@dataclass(frozen=True)
class Cheapest:
    present: np.ndarray
    cents: np.ndarray
    listing: np.ndarray
    retailer: np.ndarray


class _Forecasts:
    """Per listing id: the forecast's expected and low cents and its currency."""

    def __init__(self, frame: pd.DataFrame | None) -> None:
        if frame is None or frame.empty:
            frame = pd.DataFrame({"listing_id": [], "expected_cents": [], "low_cents": []})
            frame["currency"] = pd.Series([], dtype=object)
        frame = frame.drop_duplicates("listing_id", keep="last")
        self._index = pd.Index(frame["listing_id"].to_numpy(dtype=np.int64))
        # A sentinel row at the end answers the listings without a forecast (index -1).
        self._expected = np.append(frame["expected_cents"].to_numpy(dtype=np.int64), 0)
        self._low = np.append(frame["low_cents"].to_numpy(dtype=np.int64), 0)
        self._currency = np.append(frame["currency"].to_numpy(dtype=object), None)

    def lookup(self, listing: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(present, expected_cents, low_cents, currency) for each listing id."""
        at = self._index.get_indexer(listing)
        return at >= 0, self._expected[at], self._low[at], self._currency[at]


def recommend_catalog(
    products: pd.DataFrame,
    rules: Sequence[RuleSpec],
    observations: pd.DataFrame,
    *,
    now: datetime,
    max_age: timedelta,
    forecasts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every product's recommended price in integer cents, as recommend() computes it."""
    catalog = _Products.read(products)
    competitors = _CompetitorPrices(catalog, observations, now=now, max_age=max_age)
    plan = stages(rules, now=now)
    holds = _Holds(plan.holds, catalog, _Forecasts(forecasts))

    list_present, list_price = catalog.money["list_price_cents"]
    msrp_present, msrp = catalog.money["msrp_cents"]
    priced = list_present | msrp_present
    price = np.where(list_present, list_price, msrp)

    for rule in plan.setting:
        price = _apply_setting(rule, price, priced, catalog, competitors, holds, now=now)
    for rule in plan.rounding:
        price = _apply_rounding(rule, price, priced & catalog.scope(rule))

    floor_present, floor, floor_rule = _tightest(plan.floors, catalog, higher_is_tighter=True)
    ceiling_present, ceiling, ceiling_rule = _tightest(
        plan.ceilings, catalog, higher_is_tighter=False
    )
    names = np.array(
        [rule.name for rule in plan.floors] + [rule.name for rule in plan.ceilings] + [None],
        dtype=object,
    )
    capped = priced & ceiling_present & (price > ceiling)
    price = np.where(capped, ceiling, price)
    bound = np.where(capped, len(plan.floors) + ceiling_rule, -1)
    raised = priced & floor_present & (price < floor)
    price = np.where(raised, floor, price)
    bound = np.where(raised, floor_rule, bound)

    warnings = _one_each((), len(catalog))
    warnings[~priced] = _one_each((NO_START_PRICE,), int((~priced).sum()))
    conflict = np.flatnonzero(priced & floor_present & ceiling_present & (floor > ceiling))
    if len(conflict):
        warnings[conflict] = _conflict_warnings(
            floor[conflict],
            np.array([BOUND_LABELS[rule.kind] for rule in plan.floors])[floor_rule[conflict]],
            ceiling[conflict],
            np.array([BOUND_LABELS[rule.kind] for rule in plan.ceilings])[ceiling_rule[conflict]],
        )

    return pd.DataFrame(
        {
            "product_id": catalog.ids,
            "price_cents": pd.arrays.IntegerArray(np.where(priced, price, 0), ~priced),
            "bound_by": pd.Series(names[bound], dtype=object),
            "warnings": pd.Series(warnings, dtype=object),
            "n_used": competitors.n_used,
        }
    )


def _apply_setting(
    rule: RuleSpec,
    price: np.ndarray,
    priced: np.ndarray,
    catalog: _Products,
    competitors: _CompetitorPrices,
    holds: _Holds,
    *,
    now: datetime,
) -> np.ndarray:
    scope = priced & catalog.scope(rule)
    if rule.kind == Kind.AGING_DISCOUNT:
        if rule.days is None or rule.percent is None:
            return price
        days_in = (now.date() - date(1970, 1, 1)).days - catalog.since_day
        eligible = scope & catalog.since_present & (days_in >= rule.days)
        cap = DEFAULT_AGING_CAP if rule.cap is None else rule.cap
        steps = np.where(
            eligible, np.minimum(cap, 1 + (days_in - rule.days) // AGING_PERIOD_DAYS), 0
        )
        after = scale(price, np.maximum(PPM - to_ppm(rule.percent) * steps, 0))
        return np.where(eligible & (steps > 0) & (after > 0), after, price)

    if rule.kind == Kind.UNDERCUT:
        if rule.amount is None:
            return price
        followed = competitors.cheapest(rule.competitor_id)
        target = followed.cents - to_cents(rule.amount)
    else:
        if rule.percent is None:
            return price
        followed = competitors.cheapest(rule.competitor_id)
        target = scale(followed.cents, max(PPM - to_ppm(rule.percent), 0))
    lowers = scope & followed.present & (target > 0) & (target < price)
    return np.where(lowers & ~holds.held(followed, lowers), target, price)


class _Holds:
    """hold_on_forecast_revert, as the engine's docstring defines it, for a whole catalog."""

    def __init__(self, rules: list[RuleSpec], catalog: _Products, forecasts: _Forecasts) -> None:
        self.rules = rules
        self.catalog = catalog
        self.forecasts = forecasts
        self._scopes = [catalog.scope(rule) for rule in rules]

    def held(self, followed: Cheapest, lowers: np.ndarray) -> np.ndarray:
        if not self.rules:
            return np.zeros(len(self.catalog), dtype=bool)
        guarded = np.zeros(len(self.catalog), dtype=bool)
        percent_ppm = np.zeros(len(self.catalog), dtype=np.int64)
        for rule, scope in zip(self.rules, self._scopes, strict=True):
            guards = scope & ~guarded
            if rule.competitor_id is not None:
                guards &= followed.retailer == rule.competitor_id
            percent_ppm[guards] = to_ppm(rule.percent if rule.percent is not None else 0)
            guarded |= guards
        present, expected, low, currency = self.forecasts.lookup(followed.listing)
        competitor = followed.cents
        return (
            lowers
            & guarded
            & present
            & (currency == self.catalog.currency)
            & (expected >= scale(competitor, PPM + percent_ppm))
            & (low > competitor)
        )


def _apply_rounding(rule: RuleSpec, price: np.ndarray, scope: np.ndarray) -> np.ndarray:
    if rule.round_to is None or money(rule.round_to) <= 0:
        return price
    step = to_cents(rule.round_to)
    rounded = (2 * price + step) // (2 * step) * step
    if rule.ending is not None and (ending := to_cents(rule.ending)) < step:
        rounded = rounded + ending if 2 * ending < step else rounded - step + ending
    return np.where(scope & (rounded > 0), rounded, price)


def _bound_values(rule: RuleSpec, catalog: _Products) -> tuple[np.ndarray, np.ndarray] | None:
    if rule.kind == Kind.FLOOR_MARGIN:
        if rule.percent is None:
            return None
        present, cost = catalog.money["cost_cents"]
        return present, scale(cost, PPM + to_ppm(rule.percent))
    if rule.kind == Kind.FLOOR_MAP:
        return catalog.money["map_price_cents"]
    if rule.kind == Kind.FLOOR_FIXED:
        if rule.amount is None:
            return None
        return np.ones(len(catalog), dtype=bool), np.full(len(catalog), to_cents(rule.amount))
    if rule.allow_above_msrp:
        return None
    return catalog.money["msrp_cents"]


def _tightest(
    rules: list[RuleSpec], catalog: _Products, *, higher_is_tighter: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(present, cents, index into rules): the tightest bound; the first rule wins a tie."""
    present = np.zeros(len(catalog), dtype=bool)
    best = np.zeros(len(catalog), dtype=np.int64)
    chosen = np.full(len(catalog), -1, dtype=np.int64)
    for index, rule in enumerate(rules):
        values = _bound_values(rule, catalog)
        if values is None:
            continue
        applies = values[0] & catalog.scope(rule)
        tighter = values[1] > best if higher_is_tighter else values[1] < best
        better = applies & (~present | tighter)
        best = np.where(better, values[1], best)
        chosen = np.where(better, index, chosen)
        present |= applies
    return present, best, chosen


def _conflict_warnings(
    floor: np.ndarray, floor_label: np.ndarray, ceiling: np.ndarray, ceiling_label: np.ndarray
) -> np.ndarray:
    def text(cents: pd.Series) -> pd.Series:
        return cents.map(lambda value: format_money(from_cents(int(value))))

    messages = (
        "floor "
        + text(pd.Series(floor))
        + " ("
        + pd.Series(floor_label, dtype=object)
        + ") is above ceiling "
        + text(pd.Series(ceiling))
        + " ("
        + pd.Series(ceiling_label, dtype=object)
        + "): the floor wins"
    )
    return messages.map(lambda message: (message,)).to_numpy(dtype=object)


# --- building the frames from the engine's dataclasses -----------------------------------


def _cents_or_none(value) -> int | None:
    return None if value is None else to_cents(value)


def products_frame(products: Iterable[ProductFacts]) -> pd.DataFrame:
    products = list(products)
    frame = pd.DataFrame(
        {
            "id": pd.Series([p.id for p in products], dtype="int64"),
            "brand_id": pd.Series([p.brand_id for p in products], dtype="Int64"),
            "category": pd.Series([p.category or "" for p in products], dtype=object),
            "currency": pd.Series([p.currency for p in products], dtype=object),
            "in_inventory_since": pd.to_datetime(
                pd.Series([p.in_inventory_since for p in products], dtype=object)
            ),
        }
    )
    for name in PRODUCT_MONEY:
        attribute = name.removesuffix("_cents")
        frame[name] = pd.Series(
            [_cents_or_none(getattr(p, attribute)) for p in products], dtype="Int64"
        )
    return frame


def observations_frame(observations: Mapping[int, Iterable[Observation]]) -> pd.DataFrame:
    """One row per observation; the mapping goes from product id to its observations."""
    rows = [
        (product_id, o)
        for product_id, product_observations in observations.items()
        for o in product_observations
    ]
    return pd.DataFrame(
        {
            "product_id": pd.Series([pid for pid, _ in rows], dtype="int64"),
            "listing_id": pd.Series([o.listing_id for _, o in rows], dtype="int64"),
            "retailer_id": pd.Series([o.retailer_id for _, o in rows], dtype="int64"),
            "retailer_name": pd.Series([o.retailer_name for _, o in rows], dtype=object),
            "price_cents": pd.Series([_cents_or_none(o.price) for _, o in rows], dtype="Int64"),
            "currency": pd.Series([o.currency for _, o in rows], dtype=object),
            "available": pd.Series([o.available for _, o in rows], dtype="boolean"),
            "observed_at": pd.to_datetime(
                pd.Series([o.observed_at for _, o in rows], dtype=object), utc=True
            ),
            "status": pd.Series([o.status for _, o in rows], dtype=object),
            "probe_id": pd.Series([o.probe_id for _, o in rows], dtype="int64"),
        }
    )


def forecasts_frame(forecasts: Iterable[Forecast]) -> pd.DataFrame:
    forecasts = list(forecasts)
    return pd.DataFrame(
        {
            "listing_id": pd.Series([f.listing_id for f in forecasts], dtype="int64"),
            "expected_cents": pd.Series([to_cents(f.expected) for f in forecasts], dtype="int64"),
            "low_cents": pd.Series([to_cents(f.low) for f in forecasts], dtype="int64"),
            "high_cents": pd.Series([to_cents(f.high) for f in forecasts], dtype="int64"),
            "currency": pd.Series([f.currency for f in forecasts], dtype=object),
            "model_version": pd.Series([f.model_version for f in forecasts], dtype="int64"),
        }
    )
