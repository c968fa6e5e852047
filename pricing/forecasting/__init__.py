"""Price forecasts: each listing's market price 7 and 30 days ahead, with an interval and the
chance of a drop, from gradient-boosted models trained on the project's own price history.

Pure computation lives in `features` (daily series, lag features, targets), `estimators`
(fitting and predicting one horizon), `evaluation` (rolling-origin cross-validation against the
last-value and rolling-median baselines) and `pipeline` (all of it on one history). None of them
imports Django. `services` and `selectors` are the ORM edge: they read probe history, record
model runs and forecasts, and decide what is shown.
"""
