"""Monte Carlo sampling and interval summaries for the population projection.

Random draws come from one :func:`numpy.random.default_rng` seeded by the scenario, always in the
same order and shapes (TFR, then migration, then urbanisation), so the same seed gives identical
tables. Draw 0 of every sampler is the central (noise-free) path only when ``central=True``.

* TFR: a random walk on the log scale, ``tfr_d(k) = tfr(k) * exp(sum_{j<=k} sd * z_dj)``:
  uncertainty grows with the horizon (sd after ``k`` years is ``sd * sqrt(k)``).
* Migration: each draw shifts each county's net migration rate by ``sd * z`` for the whole
  horizon (persistent, not averaging out).
* Urbanisation: each draw moves the city-wide target share by ``sd * z`` (clipped to [0.01, 0.99]).

Intervals are the 10/50/90 % quantiles across draws, optionally widened or narrowed around the
median by a ``calibration`` factor per horizon (from back-tests of the coverage actually
achieved): ``P10' = P50 - f (P50 - P10)``, ``P90' = P50 + f (P90 - P50)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from forecasting.errors import ForecastInputError

PROBS = (0.1, 0.5, 0.9)


def tfr_draws(rng: np.random.Generator, tfr: np.ndarray, draws: int, sd: float) -> np.ndarray:
    """Reference TFR per year and draw, shape ``(years, draws)``."""
    z = rng.standard_normal((tfr.shape[0], draws))
    return tfr[:, None] * np.exp(np.cumsum(sd * z, axis=0))


def rate_draws(rng: np.random.Generator, rates: np.ndarray, draws: int, sd: float) -> np.ndarray:
    """Net migration rate per draw and county, shape ``(draws, counties)``, floored at -0.5."""
    return np.maximum(rates[None, :] + sd * rng.standard_normal((draws, rates.shape[0])), -0.5)


def target_draws(rng: np.random.Generator, target: float, draws: int, sd: float) -> np.ndarray:
    """Urbanisation target per draw, shape ``(draws,)``."""
    return np.clip(target + sd * rng.standard_normal(draws), 0.01, 0.99)


def calibration_factors(
    calibration: float | Sequence[float] | Mapping[int, float] | pd.Series | None, horizon: int
) -> np.ndarray:
    """Interval factor for horizons ``0 .. horizon`` (index = years after the base year).

    ``calibration`` may be one number, a sequence for horizons 1, 2, ... (the last value is
    held), or a mapping / Series from horizon to factor (missing horizons take the nearest lower
    one, 1.0 before the first).

    Examples
    --------
    >>> calibration_factors([1.2, 1.5], 3).tolist()
    [1.0, 1.2, 1.5, 1.5]
    >>> calibration_factors({2: 2.0}, 3).tolist()
    [1.0, 1.0, 2.0, 2.0]

    """
    out = np.ones(horizon + 1)
    if calibration is None:
        return out
    if isinstance(calibration, (int, float, np.floating)):
        out[1:] = float(calibration)
    elif isinstance(calibration, (Mapping, pd.Series)):
        items = sorted((int(k), float(v)) for k, v in dict(calibration).items())
        for k in range(1, horizon + 1):
            lower = [v for h, v in items if h <= k]
            out[k] = lower[-1] if lower else 1.0
    else:
        values = [float(v) for v in calibration]
        if not values:
            raise ForecastInputError("calibration: empty sequence")
        out[1:] = [values[min(k, len(values) - 1)] for k in range(horizon)]
    if not np.all(out > 0):
        raise ForecastInputError(f"calibration factors must be > 0, got {out.tolist()}")
    return out


def quantiles(
    samples: np.ndarray, factor: float = 1.0, probs: Sequence[float] = PROBS, floor: float = 0.0
) -> np.ndarray:
    """Quantiles over axis 0 (draws), then widened by ``factor`` around the median.

    Returns an array of shape ``(3,) + samples.shape[1:]`` holding the low, middle and high
    quantile (P10, P50, P90 for the default ``probs``), ordered low <= middle <= high; a widened
    low quantile is not pushed below ``floor`` (counts cannot be negative) unless the median is.

    Examples
    --------
    >>> q = quantiles(np.arange(101.0)[:, None], factor=2.0)
    >>> q[:, 0].tolist()
    [0.0, 50.0, 130.0]

    """
    q = np.quantile(samples, probs, axis=0)
    lo, mid, hi = q[0], q[1], q[2]
    lo = np.maximum(mid - factor * (mid - lo), np.minimum(floor, mid))
    hi = mid + factor * (hi - mid)
    return np.stack([lo, mid, hi])
