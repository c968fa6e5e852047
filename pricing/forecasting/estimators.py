"""One horizon's models: the median change, an 80% interval, and the chance of a drop.

scikit-learn's HistGradientBoosting handles the missing lags of young series natively and takes
the market type as a categorical feature; quantile loss gives the interval directly, so it needs
no calibration set. Per horizon h:
    center   HistGradientBoostingRegressor, absolute error: the median of log(p[t+h] / p[t])
    low/high quantile loss at 0.1 and 0.9: an 80% prediction interval for the same ratio
    drop     HistGradientBoostingClassifier: P(lowest price over t+1..t+h <= p[t] x (1 - X))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from pricing.forecasting.features import CATEGORICAL, FEATURES

LOW_QUANTILE = 0.1
HIGH_QUANTILE = 0.9
DEFAULT_PARAMS = {"max_iter": 80, "learning_rate": 0.12, "max_leaf_nodes": 15}


@dataclass
class HorizonModel:
    horizon: int
    drop_threshold: float
    center: HistGradientBoostingRegressor
    low: HistGradientBoostingRegressor
    high: HistGradientBoostingRegressor
    drop: HistGradientBoostingClassifier | None
    # When every training row fell on one side of the threshold there is nothing to classify.
    drop_constant: float


def _matrix(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[:, list(FEATURES)]


def _regressor(params: dict, **loss) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        **(DEFAULT_PARAMS | params),
        **loss,
        categorical_features=list(CATEGORICAL),
        random_state=0,
    )


def drop_label(frame: pd.DataFrame, horizon: int, drop_threshold: float) -> np.ndarray:
    return (frame[f"trough_{horizon}"].to_numpy() <= np.log1p(-drop_threshold)).astype(int)


def fit_horizon(
    frame: pd.DataFrame, horizon: int, *, drop_threshold: float, params: dict | None = None
) -> HorizonModel:
    """Fit on rows whose target is known (the caller passes only those)."""
    params = params or {}
    features = _matrix(frame)
    target = frame[f"target_{horizon}"].to_numpy()
    center = _regressor(params, loss="absolute_error").fit(features, target)
    low = _regressor(params, loss="quantile", quantile=LOW_QUANTILE).fit(features, target)
    high = _regressor(params, loss="quantile", quantile=HIGH_QUANTILE).fit(features, target)
    labels = drop_label(frame, horizon, drop_threshold)
    drop, constant = None, float(labels.mean()) if len(labels) else 0.0
    if 0 < labels.sum() < len(labels):
        drop = HistGradientBoostingClassifier(
            **(DEFAULT_PARAMS | params), categorical_features=list(CATEGORICAL), random_state=0
        ).fit(features, labels)
    return HorizonModel(horizon, drop_threshold, center, low, high, drop, constant)


def predict_horizon(model: HorizonModel, frame: pd.DataFrame) -> pd.DataFrame:
    """Per row: expected, low and high log ratios to the price at t, and the drop probability.

    The interval is widened to contain the center: separately fitted quantiles can cross.
    """
    features = _matrix(frame)
    center = model.center.predict(features)
    low = np.minimum(model.low.predict(features), center)
    high = np.maximum(model.high.predict(features), center)
    if model.drop is None:
        drop = np.full(len(frame), model.drop_constant)
    else:
        drop = model.drop.predict_proba(features)[:, 1]
    return pd.DataFrame(
        {"center": center, "low": low, "high": high, "drop_probability": drop}, index=frame.index
    )
