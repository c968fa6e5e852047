"""Forecast features, targets, folds and metrics as plain functions over plain data.

Runs without Django: `pytest tests/pricing/test_forecast_features.py -p no:django`.
"""

import itertools
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from pricing.forecasting import evaluation
from pricing.forecasting.features import (
    FEATURES,
    add_targets,
    daily_series,
    feature_frame,
    points_frame,
)
from pricing.forecasting.pipeline import train_and_forecast

START = datetime(2026, 1, 1, 12, tzinfo=UTC)
SMALL = {"max_iter": 15, "max_leaf_nodes": 7}


def history(days: int, *, series=("a", "b", "c"), seed: int = 1) -> pd.DataFrame:
    """Mean-reverting prices with weekly seasonality, one-day sales and noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for number, series_id in enumerate(series):
        level = 10_000 * (number + 1)
        market_type = ["gray_market", "authorized_dealer", "big_box"][number % 3]
        deviation = 0.0
        for day in range(days):
            deviation = 0.8 * deviation + rng.normal(0, 0.01)
            weekend = 0.01 if (START + timedelta(days=day)).weekday() >= 5 else 0.0
            sale = -0.08 if rng.random() < 0.08 else 0.0
            price = round(level * math.exp(deviation + weekend + sale), 2)
            rows.append((series_id, START + timedelta(days=day), price, "USD", market_type))
    return points_frame(rows)


def features_of(points: pd.DataFrame) -> pd.DataFrame:
    return feature_frame(daily_series(points)).set_index(["series_id", "day"])


def test_it_never_uses_a_price_after_the_day_a_feature_describes():
    points = history(120)
    full = features_of(points)

    for cut in (10, 45, 90):
        day = (START + timedelta(days=cut)).replace(hour=0, tzinfo=None)
        known = points[points["at"] <= START + timedelta(days=cut)]
        truncated = features_of(known)
        at_cut = pd.IndexSlice[:, pd.Timestamp(day)]

        pd.testing.assert_frame_equal(
            full.loc[at_cut, list(FEATURES)], truncated.loc[at_cut, list(FEATURES)]
        )


def test_a_changed_future_price_changes_targets_but_no_feature():
    points = history(60)
    changed = points.copy()
    later = changed["at"] > START + timedelta(days=40)
    changed.loc[later, "price"] *= 1.5

    before = add_targets(features_of(points).reset_index(), [7])
    after = add_targets(features_of(changed).reset_index(), [7])
    up_to_day_40 = before["day"] <= pd.Timestamp(START.date()) + pd.Timedelta(days=40)

    pd.testing.assert_frame_equal(
        before.loc[up_to_day_40, list(FEATURES)], after.loc[up_to_day_40, list(FEATURES)]
    )
    assert not np.allclose(
        before.loc[up_to_day_40, "target_7"].dropna().tail(7),
        after.loc[up_to_day_40, "target_7"].dropna().tail(7),
    )


def test_targets_are_the_log_ratio_h_days_ahead_and_the_lowest_price_in_between():
    prices = [100, 90, 120, 80, 100, 110, 100, 130, 100]
    points = points_frame(
        [("x", START + timedelta(days=i), p, "USD", "big_box") for i, p in enumerate(prices)]
    )

    frame = add_targets(feature_frame(daily_series(points)), [3])

    assert frame["target_3"].iloc[0] == pytest.approx(math.log(80 / 100))
    assert frame["trough_3"].iloc[0] == pytest.approx(math.log(80 / 100))
    assert frame["trough_3"].iloc[4] == pytest.approx(math.log(100 / 100))
    assert frame["target_3"].iloc[-3:].isna().all()


def test_a_price_is_carried_over_a_short_gap_but_not_a_long_one():
    points = points_frame(
        [
            ("x", START, 100.0, "USD", "gray_market"),
            ("x", START + timedelta(days=3), 110.0, "USD", "gray_market"),
            ("x", START + timedelta(days=9), 120.0, "USD", "gray_market"),
        ]
    )

    daily = daily_series(points, max_gap_days=3)

    assert daily["price"].tolist()[:4] == [100.0, 100.0, 100.0, 110.0]
    assert daily["price"].iloc[4:7].tolist() == [110.0, 110.0, 110.0]
    assert daily["price"].iloc[7:9].isna().all()
    assert daily["observed"].sum() == 3


def test_the_last_reading_of_a_day_is_that_days_price():
    points = points_frame(
        [
            ("x", START.replace(hour=9), 100.0, "USD", "big_box"),
            ("x", START.replace(hour=18), 95.0, "USD", "big_box"),
        ]
    )

    assert daily_series(points)["price"].tolist() == [95.0]


def test_every_fold_trains_only_on_targets_known_before_its_test_block():
    points = history(200)
    frame = add_targets(feature_frame(daily_series(points)), [7])
    origins = frame.loc[frame["target_7"].notna(), "day"]

    folds = evaluation.rolling_origin_folds(origins, horizon=7, n_folds=3, min_train_days=30)

    assert len(folds) == 3
    assert all(previous[1] < block[0] for previous, block in itertools.pairwise(folds))
    first_day = origins.min()
    assert folds[0][0] >= first_day + pd.Timedelta(days=37)
    assert folds[-1][1] == origins.max()


def test_too_short_a_history_gives_no_fold():
    origins = pd.Series(pd.date_range("2026-01-01", periods=40, freq="D"))

    assert evaluation.rolling_origin_folds(origins, horizon=7, n_folds=4, min_train_days=56) == []


def test_mase_divides_each_error_by_its_series_in_sample_naive_error():
    rows = pd.DataFrame(
        {
            "series_id": ["a", "a", "b"],
            "actual": [110.0, 100.0, 50.0],
            "model": [100.0, 100.0, 50.0],
            "last_value": [105.0, 90.0, 40.0],
            "rolling_median": [100.0, 100.0, 50.0],
            "low": [90.0, 95.0, 45.0],
            "high": [105.0, 105.0, 55.0],
            "scale": [5.0, 5.0, 0.0],
            "drop_probability": [0.5, 0.0, 1.0],
            "dropped": [1, 0, 1],
        }
    )

    metrics = evaluation.score(rows)

    assert metrics["mae_model"] == pytest.approx(10 / 3)
    assert metrics["mae_last_value"] == pytest.approx(25 / 3)
    assert metrics["mase_model"] == pytest.approx((10 / 5 + 0) / 2)
    assert metrics["mase_last_value"] == pytest.approx((5 / 5 + 10 / 5) / 2)
    assert metrics["mase_excluded"] == 1
    assert metrics["coverage"] == pytest.approx(2 / 3)
    assert metrics["drop_brier"] == pytest.approx(0.25 / 3)
    assert evaluation.beats_last_value(metrics)
    assert not evaluation.beats_last_value(metrics | {"mase_model": 1.6})


def test_the_model_beats_last_value_on_a_mean_reverting_history():
    result = train_and_forecast(
        history(220, series=tuple("abcdef")),
        horizons=(7,),
        n_folds=2,
        min_train_days=60,
        params=SMALL,
    )

    seven = result.horizons[7]
    assert seven.evaluated
    assert seven.beats_baseline, seven.metrics
    assert seven.metrics["mae_model"] < seven.metrics["mae_last_value"]
    assert 0.5 < seven.metrics["coverage"] <= 1
    forecasts = result.forecasts
    assert sorted(forecasts["series_id"]) == list("abcdef")
    assert (forecasts["low"] <= forecasts["expected"]).all()
    assert (forecasts["expected"] <= forecasts["high"]).all()
    assert forecasts["drop_probability"].between(0, 1).all()


def test_a_model_that_cannot_beat_last_value_says_so():
    constant = points_frame(
        [
            (series_id, START + timedelta(days=day), 5000.0, "USD", "official_boutique")
            for series_id in "ab"
            for day in range(150)
        ]
    )

    result = train_and_forecast(constant, horizons=(7,), n_folds=2, min_train_days=40, params=SMALL)

    assert not result.horizons[7].beats_baseline
    assert "did not beat the last-value baseline" in result.horizons[7].reason
