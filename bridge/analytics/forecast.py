"""Forecasts with their backtest: weekly demand per SKU and monthly sales.

Methods: Croston's method with the Syntetos–Boylan correction (SBA) for intermittent demand (many weeks without an
order, as wholesale demand is), statsmodels' exponential smoothing otherwise (Holt–Winters with a yearly season when
two years of history exist, Holt's trend with enough points, simple smoothing below that).

Every forecast is backtested: the last ``horizon`` points are held out, the method is fitted on the rest and
forecasts them, and so does the seasonal-naive forecast (the value one season earlier; the last value when the
history is shorter than a season and a bit). Both errors are given as MASE, scaled by the in-sample mean absolute
error of the one-step seasonal-naive forecast, so ``beats_naive`` says plainly whether the model is worth more than
repeating last season.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

INTERMITTENT_ZERO_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class Forecast:
    method: str
    values: list[float]  # the next ``horizon`` points, fitted on all history
    mase: float | None  # backtest, model
    naive_mase: float | None  # backtest, seasonal naive
    season: int

    @property
    def beats_naive(self) -> bool | None:
        if self.mase is None or self.naive_mase is None:
            return None
        return self.mase < self.naive_mase


def croston_sba(series: list[float], horizon: int, alpha: float = 0.1) -> list[float]:
    """Croston's method, Syntetos–Boylan approximation: (1 − α/2) × smoothed size / smoothed interval."""
    demands = [(i, y) for i, y in enumerate(series) if y > 0]
    if not demands:
        return [0.0] * horizon
    size = demands[0][1]
    interval = float(demands[0][0] + 1)
    previous = demands[0][0]
    for index, value in demands[1:]:
        size += alpha * (value - size)
        interval += alpha * ((index - previous) - interval)
        previous = index
    return [(1 - alpha / 2) * size / interval] * horizon


def seasonal_naive(train: list[float], horizon: int, season: int) -> list[float]:
    if season <= 1 or len(train) < season:
        return [train[-1]] * horizon
    last = train[-season:]
    return [last[i % season] for i in range(horizon)]


def _smoothing(train: list[float], horizon: int, season: int, *, trend: bool = True) -> tuple[str, list[float]]:
    # numpy and statsmodels load here, not with the module: the reports package (and with it this module) is
    # imported by the stock job's low-stock check, which never forecasts
    import numpy as np
    from statsmodels.tsa.holtwinters import ExponentialSmoothing, SimpleExpSmoothing

    data = np.asarray(train, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if season > 1 and len(train) >= 2 * season:
            fit = ExponentialSmoothing(data, trend="add", seasonal="add", seasonal_periods=season,
                                       initialization_method="estimated").fit()
            name = "Holt-Winters"
        elif trend and len(train) >= 6:
            fit = ExponentialSmoothing(data, trend="add", damped_trend=True,
                                       initialization_method="estimated").fit()
            name = "Holt (damped)"
        else:
            fit = SimpleExpSmoothing(data, initialization_method="heuristic" if len(train) >= 10 else
                                     "estimated").fit()
            name = "SES"
        values = [max(0.0, float(v)) for v in fit.forecast(horizon)]
    return name, values


def predict(train: list[float], horizon: int, season: int, *, trend: bool = True) -> tuple[str, list[float]]:
    """Croston for intermittent series; else exponential smoothing (``trend=False``: level only, for the many
    SKU series where a fitted trend costs ten times the time and rarely helps over a few weeks)."""
    zeros = sum(1 for y in train if y == 0) / len(train)
    if zeros >= INTERMITTENT_ZERO_SHARE:
        return "Croston (SBA)", croston_sba(train, horizon)
    return _smoothing(train, horizon, season, trend=trend)


def mase_scale(train: list[float], season: int) -> float | None:
    m = season if season > 1 and len(train) > season else 1
    diffs = [abs(train[i] - train[i - m]) for i in range(m, len(train))]
    scale = sum(diffs) / len(diffs) if diffs else 0.0
    return scale if scale > 0 else None


def forecast(series: list[float], horizon: int, season: int, *, trend: bool = True) -> Forecast:
    """Backtest on the last ``horizon`` points, then forecast ``horizon`` ahead from all of ``series``."""
    series = [float(v) for v in series]
    method, values = predict(series, horizon, season, trend=trend) if len(series) >= 2 else ("naive", series[-1:] * horizon)
    mase = naive = None
    if len(series) >= horizon + 3:
        train, test = series[:-horizon], series[-horizon:]
        scale = mase_scale(train, season)
        if scale:
            _, predicted = predict(train, horizon, season, trend=trend)
            baseline = seasonal_naive(train, horizon, season if len(train) >= season else 1)
            mase = sum(abs(a - b) for a, b in zip(test, predicted, strict=True)) / horizon / scale
            naive = sum(abs(a - b) for a, b in zip(test, baseline, strict=True)) / horizon / scale
    return Forecast(method, values, _finite(mase), _finite(naive), season)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
