"""Rolling-origin cross-validation against naive baselines, and the metrics it reports.

Folds (`rolling_origin_folds`)
    The origin days that have a known h-day target are split: the first `min_train_days` only
    ever train; the rest form `n_folds` consecutive test blocks. For a block starting on day s
    the model trains on the rows whose target day t + h is on or before s: everything it learns
    was known on the block's first day (an expanding window, no leakage), and it is tested on
    every origin in the block.

Forecasts compared, each of the price at t + h made at t
    model          price[t] x exp(predicted median log ratio)
    last value     price[t]
    rolling median the median price over days t-6..t (ROLLING_MEDIAN_DAYS)

Metrics, pooled over every test row of every fold
    MAE            mean |actual - forecast|, in the listings' currency
    MASE           mean |actual - forecast| / scale, where scale is the series' mean absolute
                   one-day change over its days up to the block's first day (Hyndman's in-sample
                   naive one-step MAE). Series with a constant price so far (scale 0) are left out
                   of MASE and counted in `mase_excluded`.
    coverage       share of actual prices inside the model's interval (nominal 80%)
    drop_brier     Brier score of the drop probability; drop_rate is how often a drop happened
The model beats the baseline at a horizon when both its MAE and its MASE are below last value's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ROLLING_MEDIAN_DAYS = 7


def with_baselines(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds rolling_median (the baseline) and abs_step (for the MASE scale) per series."""
    frame = frame.copy()
    prices = frame["price"].groupby(frame["series_id"], sort=False)
    frame["rolling_median"] = prices.transform(
        lambda s: s.rolling(ROLLING_MEDIAN_DAYS, min_periods=1).median()
    )
    frame["abs_step"] = (frame["price"] - prices.shift(1)).abs()
    return frame


def rolling_origin_folds(
    origin_days: pd.Series, *, horizon: int, n_folds: int, min_train_days: int
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(first, last) origin day of each test block, oldest first; [] when history is too short."""
    days = pd.DatetimeIndex(sorted(pd.unique(origin_days)))
    if len(days) == 0:
        return []
    first_test = days[0] + pd.Timedelta(days=min_train_days + horizon)
    candidates = days[days >= first_test]
    if len(candidates) < n_folds:
        return []
    blocks = np.array_split(np.arange(len(candidates)), n_folds)
    return [(candidates[block[0]], candidates[block[-1]]) for block in blocks]


def mase_scale(frame: pd.DataFrame, *, until: pd.Timestamp) -> pd.Series:
    """Each series' in-sample naive one-step MAE over days up to `until`."""
    known = frame[frame["day"] <= until]
    return known.groupby("series_id")["abs_step"].mean()


def score(rows: pd.DataFrame) -> dict:
    """Metrics of test rows carrying actual, model, low, high, last_value, rolling_median, scale,
    drop_probability and dropped."""
    metrics: dict = {"test_rows": len(rows), "series": int(rows["series_id"].nunique())}
    scaled = rows["scale"] > 0
    metrics["mase_excluded"] = int((~scaled).sum())
    for name in ("model", "last_value", "rolling_median"):
        error = (rows["actual"] - rows[name]).abs()
        metrics[f"mae_{name}"] = float(error.mean())
        metrics[f"mase_{name}"] = (
            float((error[scaled] / rows.loc[scaled, "scale"]).mean()) if scaled.any() else None
        )
    inside = (rows["low"] <= rows["actual"]) & (rows["actual"] <= rows["high"])
    metrics["coverage"] = float(inside.mean())
    metrics["drop_rate"] = float(rows["dropped"].mean())
    metrics["drop_brier"] = float(((rows["drop_probability"] - rows["dropped"]) ** 2).mean())
    return metrics


def beats_last_value(metrics: dict) -> bool:
    mase_model, mase_last = metrics.get("mase_model"), metrics.get("mase_last_value")
    better_mase = mase_model is None or mase_last is None or mase_model < mase_last
    return metrics["mae_model"] < metrics["mae_last_value"] and better_mase
