"""From price points to one row per listing and day: the features known that day, the targets.

Input points (one row per reading; several a day allowed, the last of the day counts):
    series_id    int or str: the listing
    at           datetime (aware or naive UTC) or date of the reading
    price        float > 0
    currency     str
    market_type  str: the retailer's catalog.Retailer.MarketType value

`daily_series()` puts every series on a regular daily grid from its first reading to the common
last day, carrying a price forward over at most `max_gap_days` days without a reading (a listing
probed every other day still has a daily price; one not probed for a week has none).

`feature_frame()` then adds, for each series and day t, features computed only from prices on
days <= t (lags, rolling statistics over windows ending at t, days since the price last changed,
the day of the week, the market type), all relative to the price at t, so one model serves a
1,500 and a 150,000 watch. `add_targets()` adds what a model learns: the log ratio of the price h
days later to the price at t, and of the lowest price over the next h days. Targets are the only
columns that look forward; tests/pricing/test_forecast_features.py proves the features don't.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MARKET_TYPES = ("official_boutique", "authorized_dealer", "big_box", "gray_market")
LAGS = (1, 2, 7, 14, 28)
WINDOWS = (7, 28, 91)
FEATURES = (
    *(f"ret_{lag}" for lag in LAGS),
    *(f"dev_median_{window}" for window in WINDOWS),
    *(f"dev_mean_{window}" for window in WINDOWS),
    "dev_max_28",
    "dev_min_28",
    "volatility_28",
    "days_since_change",
    "history_days",
    "day_of_week",
    "market_type",
)
# HistGradientBoosting treats this column as categorical (its codes are small integers).
CATEGORICAL = ("market_type",)
MIN_HISTORY_DAYS = 7


def daily_series(points: pd.DataFrame, *, max_gap_days: int = 3) -> pd.DataFrame:
    """One row per series and day: series_id, day, price (NaN beyond the gap), observed,
    currency, market_type."""
    frame = points.copy()
    at = pd.to_datetime(frame["at"], utc=True)
    frame["day"] = at.dt.tz_localize(None).dt.normalize()
    frame["order"] = at
    frame = frame.sort_values(["series_id", "order"], kind="stable")
    last = frame.groupby(["series_id", "day"], sort=True).tail(1)
    end = last["day"].max()
    pieces = []
    for series_id, rows in last.groupby("series_id", sort=True):
        rows = rows.set_index("day")
        grid = pd.date_range(rows.index.min(), end, freq="D")
        observed = rows["price"].reindex(grid)
        piece = pd.DataFrame(
            {
                "series_id": series_id,
                "day": grid,
                "price": observed.ffill(limit=max_gap_days).to_numpy(dtype=float),
                "observed": observed.notna().to_numpy(),
                "currency": rows["currency"].iloc[-1],
                "market_type": rows["market_type"].iloc[-1],
            }
        )
        pieces.append(piece)
    if not pieces:
        return pd.DataFrame(
            columns=["series_id", "day", "price", "observed", "currency", "market_type"]
        )
    return pd.concat(pieces, ignore_index=True)


def _rolling(grouped, window: int, how: str) -> pd.Series:
    return grouped.transform(lambda s: getattr(s.rolling(window, min_periods=1), how)())


def feature_frame(daily: pd.DataFrame) -> pd.DataFrame:
    """The daily frame with the FEATURES columns and log_price added (see the module doc)."""
    frame = daily.sort_values(["series_id", "day"], kind="stable").reset_index(drop=True)
    log_price = np.log(frame["price"].astype(float))
    frame["log_price"] = log_price
    by_series = log_price.groupby(frame["series_id"], sort=False)
    for lag in LAGS:
        frame[f"ret_{lag}"] = log_price - by_series.shift(lag)
    for window in WINDOWS:
        frame[f"dev_median_{window}"] = log_price - _rolling(by_series, window, "median")
        frame[f"dev_mean_{window}"] = log_price - _rolling(by_series, window, "mean")
    frame["dev_max_28"] = log_price - _rolling(by_series, 28, "max")
    frame["dev_min_28"] = log_price - _rolling(by_series, 28, "min")
    frame["volatility_28"] = (
        frame["ret_1"]
        .groupby(frame["series_id"], sort=False)
        .transform(lambda s: s.rolling(28, min_periods=2).std())
    )
    changed = (frame["ret_1"].fillna(0) != 0) | (frame["series_id"] != frame["series_id"].shift(1))
    spell = changed.cumsum()
    frame["days_since_change"] = frame.groupby(spell, sort=False).cumcount()
    frame["history_days"] = frame.groupby("series_id", sort=False).cumcount().clip(upper=365)
    frame["day_of_week"] = frame["day"].dt.day_of_week
    codes = {name: code for code, name in enumerate(MARKET_TYPES)}
    frame["market_type"] = frame["market_type"].map(codes).fillna(len(MARKET_TYPES)).astype(int)
    return frame


def add_targets(frame: pd.DataFrame, horizons) -> pd.DataFrame:
    """target_{h}: log(price at t+h / price at t), NaN unless a reading was made on day t+h;
    trough_{h}: log(lowest price over days t+1..t+h / price at t). NaN where the future is not
    (fully) known."""
    frame = frame.copy()
    by_series = frame["log_price"].groupby(frame["series_id"], sort=False)
    observed = frame["observed"].astype(bool).groupby(frame["series_id"], sort=False)
    for horizon in horizons:
        target = by_series.shift(-horizon) - frame["log_price"]
        # A price carried over a gap is a guess, not a reading: never learn from or score it.
        read = observed.shift(-horizon).fillna(False).astype(bool)
        frame[f"target_{horizon}"] = target.where(read)
        future_low = by_series.transform(
            lambda s, h=horizon: s[::-1].rolling(h, min_periods=h).min()[::-1].shift(-1)
        )
        frame[f"trough_{horizon}"] = future_low - frame["log_price"]
    return frame


def usable(frame: pd.DataFrame) -> pd.Series:
    """Rows a model may learn from or forecast at: a price that day and a week of history."""
    return frame["price"].notna() & (frame["history_days"] >= MIN_HISTORY_DAYS)


def points_frame(rows) -> pd.DataFrame:
    """Points from (series_id, at, price, currency, market_type) tuples; prices to float here,
    inside the computation, and back to Decimal at the edge."""
    frame = pd.DataFrame(rows, columns=["series_id", "at", "price", "currency", "market_type"])
    frame["price"] = frame["price"].astype(float)
    return frame
