"""Everything on one history: evaluate each horizon by rolling-origin CV, fit on all of it, and
forecast every series from its last day. Plain data in, plain data out; no Django."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from pricing.forecasting import evaluation
from pricing.forecasting.estimators import drop_label, fit_horizon, predict_horizon
from pricing.forecasting.features import (
    FEATURES,
    add_targets,
    daily_series,
    feature_frame,
    usable,
)

HORIZONS = (7, 30)
DEFAULT_DROP_THRESHOLD = 0.05
N_FOLDS = 4
MIN_TRAIN_DAYS = 56
# Fewer rows than this and a horizon is neither evaluated nor fitted.
MIN_TRAINING_ROWS = 50


@dataclass
class HorizonResult:
    horizon: int
    evaluated: bool
    beats_baseline: bool
    metrics: dict = field(default_factory=dict)
    reason: str = ""


@dataclass
class TrainingResult:
    horizons: dict[int, HorizonResult]
    # series_id, horizon, origin_day, price, currency, expected, low, high, drop_probability
    forecasts: pd.DataFrame
    window_start: pd.Timestamp | None
    window_end: pd.Timestamp | None
    series: int
    rows: int
    features: tuple[str, ...] = FEATURES


def prepare(points: pd.DataFrame, horizons: Sequence[int]) -> pd.DataFrame:
    frame = feature_frame(daily_series(points))
    frame = add_targets(frame, horizons)
    return evaluation.with_baselines(frame)


def evaluate_horizon(
    frame: pd.DataFrame,
    horizon: int,
    *,
    drop_threshold: float,
    n_folds: int = N_FOLDS,
    min_train_days: int = MIN_TRAIN_DAYS,
    params: dict | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> HorizonResult:
    rows = frame[usable(frame) & frame[f"target_{horizon}"].notna()]
    folds = evaluation.rolling_origin_folds(
        rows["day"], horizon=horizon, n_folds=n_folds, min_train_days=min_train_days
    )
    if not folds:
        days = rows["day"].nunique()
        return HorizonResult(
            horizon,
            evaluated=False,
            beats_baseline=False,
            reason=(
                f"not enough history to evaluate: {days} days with a known {horizon}-day price, "
                f"need more than {min_train_days + horizon + n_folds}"
            ),
        )
    tested = []
    for number, (start, end) in enumerate(folds, 1):
        progress(f"  {horizon}-day horizon, fold {number}/{len(folds)}: test {start:%Y-%m-%d}…")
        train = rows[rows["day"] + pd.Timedelta(days=horizon) <= start]
        test = rows[(rows["day"] >= start) & (rows["day"] <= end)].copy()
        model = fit_horizon(train, horizon, drop_threshold=drop_threshold, params=params)
        predicted = predict_horizon(model, test)
        base = test["price"]
        test["actual"] = base * np.exp(test[f"target_{horizon}"])
        test["model"] = base * np.exp(predicted["center"])
        test["low"] = base * np.exp(predicted["low"])
        test["high"] = base * np.exp(predicted["high"])
        test["last_value"] = base
        test["drop_probability"] = predicted["drop_probability"]
        test["dropped"] = drop_label(test, horizon, drop_threshold)
        scale = evaluation.mase_scale(frame, until=start)
        test["scale"] = test["series_id"].map(scale).fillna(0.0)
        tested.append(test)
    metrics = evaluation.score(pd.concat(tested))
    metrics["folds"] = len(folds)
    beats = evaluation.beats_last_value(metrics)
    reason = (
        ""
        if beats
        else (
            f"the model did not beat the last-value baseline at {horizon} days "
            f"(MAE {metrics['mae_model']:.2f} against {metrics['mae_last_value']:.2f})"
        )
    )
    return HorizonResult(horizon, True, beats, metrics, reason)


def train_and_forecast(
    points: pd.DataFrame,
    *,
    horizons: Sequence[int] = HORIZONS,
    drop_threshold: float = DEFAULT_DROP_THRESHOLD,
    n_folds: int = N_FOLDS,
    min_train_days: int = MIN_TRAIN_DAYS,
    params: dict | None = None,
    progress: Callable[[str], None] = lambda message: None,
    threads: int = 1,
) -> TrainingResult:
    """Evaluate and fit every horizon, and forecast every series from the last day.

    HistGradientBoosting's OpenMP threads are capped (one by default): on a small shared
    machine its threads fight each other and the web workers, and one thread was found 6x
    faster than the default under load.
    """
    with threadpool_limits(limits=threads):
        return _train_and_forecast(
            points,
            horizons=horizons,
            drop_threshold=drop_threshold,
            n_folds=n_folds,
            min_train_days=min_train_days,
            params=params,
            progress=progress,
        )


def _train_and_forecast(
    points: pd.DataFrame,
    *,
    horizons: Sequence[int],
    drop_threshold: float,
    n_folds: int,
    min_train_days: int,
    params: dict | None,
    progress: Callable[[str], None],
) -> TrainingResult:
    progress(f"Building daily series and features from {len(points)} price points…")
    frame = prepare(points, horizons)
    known = frame[frame["price"].notna()]
    end = frame["day"].max() if len(frame) else None
    latest = frame[usable(frame) & (frame["day"] == end)]
    results: dict[int, HorizonResult] = {}
    forecasts = []
    for horizon in horizons:
        progress(f"Evaluating the {horizon}-day horizon…")
        result = evaluate_horizon(
            frame,
            horizon,
            drop_threshold=drop_threshold,
            n_folds=n_folds,
            min_train_days=min_train_days,
            params=params,
            progress=progress,
        )
        results[horizon] = result
        train = frame[usable(frame) & frame[f"target_{horizon}"].notna()]
        if len(train) < MIN_TRAINING_ROWS or latest.empty:
            if not result.reason:
                result.reason = f"only {len(train)} rows with a known {horizon}-day price"
            continue
        progress(f"Fitting the {horizon}-day model on {len(train)} rows…")
        model = fit_horizon(train, horizon, drop_threshold=drop_threshold, params=params)
        predicted = predict_horizon(model, latest)
        base = latest["price"]
        forecasts.append(
            pd.DataFrame(
                {
                    "series_id": latest["series_id"],
                    "horizon": horizon,
                    "origin_day": latest["day"],
                    "price": base,
                    "currency": latest["currency"],
                    "expected": base * np.exp(predicted["center"]),
                    "low": base * np.exp(predicted["low"]),
                    "high": base * np.exp(predicted["high"]),
                    "drop_probability": predicted["drop_probability"],
                }
            )
        )
    return TrainingResult(
        horizons=results,
        forecasts=(
            pd.concat(forecasts, ignore_index=True)
            if forecasts
            else pd.DataFrame(
                columns=[
                    "series_id",
                    "horizon",
                    "origin_day",
                    "price",
                    "currency",
                    "expected",
                    "low",
                    "high",
                    "drop_probability",
                ]
            )
        ),
        window_start=known["day"].min() if len(known) else None,
        window_end=end,
        series=int(frame["series_id"].nunique()),
        rows=len(known),
    )
