"""Urban share per county: logistic fit to the history and projection toward a scenario target.

Model
-----
``u(t) = L / (1 + exp(-k (t - t0)))`` fitted per county by bounded least squares
(:func:`scipy.optimize.curve_fit`) with the upper asymptote ``L`` in ``[max(u) + 0.02, 0.85]``,
growth rate ``k`` in ``[0.005, 0.5]`` per year.

Projection (:func:`project_urban_share`) re-anchors the curve on the observed base-year share
``u_b`` so the path starts exactly from the data::

    u(t) = L / (1 + (L / u_b - 1) * exp(-speed * k * (t - base_year)))

``speed`` (scenario, default 1) scales the pace. With a scenario ``target`` (city-wide urban share
reached in ``target_year``, weighted by county population) the pace of every county is multiplied
by one common factor in ``[0.01, 100]`` (solved by bisection, vectorised over Monte Carlo draws)
so that the weighted share in ``target_year`` equals the target. If the weighted asymptote is
less than ``target + 0.1``, all asymptotes are first raised by the same amount (capped at 0.98).
A target below the base-year share cannot be met (urban shares are not projected to fall): the
path then stays nearly flat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from forecasting.errors import ForecastInputError

UPPER_CAP = 0.85
L_MAX = 0.98
HEADROOM = 0.1


def logistic(t: np.ndarray, upper: float, rate: float, midpoint: float) -> np.ndarray:
    """Logistic curve ``upper / (1 + exp(-rate * (t - midpoint)))``."""
    return upper / (1.0 + np.exp(-rate * (np.asarray(t, dtype=float) - midpoint)))


@dataclass(frozen=True)
class LogisticFit:
    """Parameters of one fitted logistic curve."""

    upper: float
    rate: float
    midpoint: float


def fit_logistic(years: np.ndarray, shares: np.ndarray, *, cap: float = UPPER_CAP) -> LogisticFit:
    """Fit a logistic curve to urban shares with the asymptote in ``[max + 0.02, cap]``.

    Examples
    --------
    >>> t = np.arange(2005, 2024)
    >>> f = fit_logistic(t, logistic(t, 0.7, 0.08, 2022.0))
    >>> round(f.upper, 2), round(f.rate, 3), round(f.midpoint)
    (0.7, 0.08, 2022)

    """
    t = np.asarray(years, dtype=float)
    u = np.asarray(shares, dtype=float)
    if t.size < 3 or t.size != u.size:
        raise ForecastInputError("logistic fit needs at least 3 (year, share) points")
    if not np.all((u > 0) & (u < 1)):
        raise ForecastInputError(f"urban shares must lie in (0, 1), got {u.tolist()}")
    lo = min(float(u.max()) + 0.02, cap - 1e-3)
    hi = max(cap, lo + 1e-3)
    upper0 = (lo + hi) / 2.0
    slope = max(np.polyfit(t, u, 1)[0], 1e-4)
    u_mid = float(u[t.size // 2])
    rate0 = float(np.clip(slope * upper0 / (u_mid * (upper0 - u_mid)), 0.006, 0.49))
    mid0 = float(t[t.size // 2] - np.log(upper0 / u_mid - 1.0) / rate0)
    (upper, rate, mid), _ = curve_fit(
        logistic, t, u, p0=[upper0, rate0, mid0],
        bounds=([lo, 0.005, t.min() - 150.0], [hi, 0.5, t.max() + 150.0]), maxfev=20000,
    )
    return LogisticFit(float(upper), float(rate), float(mid))


def fit_counties(urbanisation: pd.DataFrame) -> pd.DataFrame:
    """Fit every county of an ``urbanisation.csv`` table (county_code, year, urban_share).

    Returns a DataFrame indexed by county_code with columns upper, rate, midpoint, base_share
    (the last observed share) and population (the last observed population).
    """
    rows = {}
    for code, grp in urbanisation.sort_values("year").groupby("county_code", sort=True):
        fit = fit_logistic(grp["year"].to_numpy(), grp["urban_share"].to_numpy())
        rows[code] = {
            "upper": fit.upper, "rate": fit.rate, "midpoint": fit.midpoint,
            "base_share": float(grp["urban_share"].iloc[-1]),
            "population": float(grp["population"].iloc[-1]),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("county_code")


def _paths(upper: np.ndarray, rate: np.ndarray, base: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Re-anchored paths; ``upper`` (..., C), ``k`` years after base -> (..., C, K)."""
    e = np.exp(-rate[..., None] * k)
    return upper[..., None] / (1.0 + (upper[..., None] / base[..., None] - 1.0) * e)


def project_urban_share(
    fits: pd.DataFrame,
    base_year: int,
    horizon: int,
    *,
    speed: float = 1.0,
    target: float | np.ndarray | None = None,
    target_year: int | None = None,
) -> np.ndarray:
    """Urban share per county for years ``base_year .. base_year + horizon``.

    Parameters
    ----------
    fits : DataFrame
        From :func:`fit_counties` (columns upper, rate, base_share, population).
    base_year : int
        Year of the last observed share.
    horizon : int
        Number of projection years.
    speed : float
        Multiplier of the fitted logistic rate.
    target : float or ndarray of shape (draws,), optional
        City-wide (population-weighted) urban share to reach in ``target_year``.
    target_year : int, optional
        Default: the last projection year.

    Returns
    -------
    ndarray
        Shape ``(counties, horizon + 1)``, or ``(draws, counties, horizon + 1)`` for an array
        target; column 0 is the base-year share.

    """
    base = fits["base_share"].to_numpy(float)
    rate = fits["rate"].to_numpy(float) * float(speed)
    upper = np.maximum(fits["upper"].to_numpy(float), base + 0.005)
    k = np.arange(horizon + 1, dtype=float)
    if target is None:
        return _paths(upper, rate, base, k)
    tgt = np.asarray(target, dtype=float)
    weights = fits["population"].to_numpy(float)
    weights = weights / weights.sum()
    k_t = np.array([float((target_year or base_year + horizon) - base_year)])
    # asymptotes at least HEADROOM above the target (same shift for every county)
    lift = np.maximum(tgt + HEADROOM - upper @ weights, 0.0)
    upper_d = np.clip(upper + lift[..., None], base + 0.005, L_MAX)
    lo = np.full(tgt.shape, np.log(0.01))
    hi = np.full(tgt.shape, np.log(100.0))
    for _ in range(60):  # bisection on log pace factor, vectorised over draws
        mid = (lo + hi) / 2.0
        reached = _paths(upper_d, rate * np.exp(mid)[..., None], base, k_t)[..., 0] @ weights
        above = reached > tgt
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    factor = np.exp((lo + hi) / 2.0)[..., None]
    return _paths(upper_d, rate * factor, base, k)
