"""Empirical interval calibration from back-test errors, and measured coverage.

Model-based intervals are often badly calibrated for small areas, so the intervals handed to
planners come from the errors of our own back-tests: for each horizon (and optionally method and
level) the empirical quantiles of the log ratio ``log(actual / forecast)`` turn a point forecast
``F`` into ``P10 = F * exp(q10)`` and ``P90 = F * exp(q90)``; ``P50`` stays the point forecast.

Horizons longer than any back-tested one widen the log-quantiles of the longest calibrated
horizon by ``sqrt(h / h_max)`` (a random-walk assumption, stated, not measured).

:func:`interval_coverage` measures coverage honestly out of sample: the quantiles are fitted
without one group (by default one county) and tested on that group, for every group in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import ForecastInputError
from forecasting.inputs import require_columns


def log_ratios(errors: pd.DataFrame) -> pd.DataFrame:
    """Rows with positive forecast and actual, plus ``log_ratio = log(actual / forecast)``."""
    ok = (errors["forecast"] > 0) & (errors["actual"] > 0)
    out = errors.loc[ok].copy()
    out["log_ratio"] = np.log(out["actual"].astype(float) / out["forecast"].astype(float))
    return out


@dataclass(frozen=True)
class IntervalCalibration:
    """Empirical log-ratio quantiles by group and horizon.

    Attributes
    ----------
    quantiles : pandas.DataFrame
        ``*by, horizon, n, q_lo, q_hi`` (log ratios).
    by : tuple of str
        Grouping columns besides ``horizon``.
    lower, upper : float
        Quantile levels, e.g. 0.1 and 0.9.

    """

    quantiles: pd.DataFrame
    by: tuple[str, ...]
    lower: float
    upper: float

    def apply(
        self, forecast: pd.DataFrame, *, value: str = "forecast", horizon: str = "horizon"
    ) -> pd.DataFrame:
        """Add ``p10``, ``p50``, ``p90`` (named after ``lower``/``upper``) to a forecast table.

        Parameters
        ----------
        forecast : pandas.DataFrame
            Must hold ``value``, ``horizon`` and the ``by`` columns.
        value, horizon : str
            Column names of the point forecast and the horizon (years ahead, >= 1).

        Returns
        -------
        pandas.DataFrame
            Copy of ``forecast`` with the interval columns.

        """
        require_columns(forecast, "forecast", [*self.by, value, horizon])
        q = self.quantiles
        out = forecast.copy()
        h = out[horizon].astype(int).to_numpy()
        lo = np.full(len(out), np.nan)
        hi = np.full(len(out), np.nan)
        keys = list(self.by)
        groups = q.groupby(keys, sort=False) if keys else [((), q)]
        for key, sub in groups:
            key_t = key if isinstance(key, tuple) else (key,)
            mask = np.ones(len(out), dtype=bool)
            for col, k in zip(keys, key_t, strict=True):
                mask &= (out[col] == k).to_numpy()
            sub = sub.sort_values("horizon")
            hs = sub["horizon"].to_numpy()
            hmax = hs.max()
            idx = np.clip(np.searchsorted(hs, h[mask]), 0, len(hs) - 1)
            scale = np.where(h[mask] > hmax, np.sqrt(h[mask] / hmax), 1.0)
            lo[mask] = sub["q_lo"].to_numpy()[idx] * scale
            hi[mask] = sub["q_hi"].to_numpy()[idx] * scale
        f = out[value].astype(float).to_numpy()
        out[f"p{round(self.lower * 100)}"] = f * np.exp(lo)
        out["p50"] = f
        out[f"p{round(self.upper * 100)}"] = f * np.exp(hi)
        return out


def calibrate_intervals(
    errors: pd.DataFrame,
    *,
    by: Sequence[str] = ("method",),
    lower: float = 0.1,
    upper: float = 0.9,
    min_n: int = 10,
) -> IntervalCalibration:
    """Fit empirical quantiles of ``log(actual / forecast)`` by ``by`` and horizon.

    Parameters
    ----------
    errors : pandas.DataFrame
        Back-test pairs: ``forecast``, ``actual``, ``horizon`` and the ``by`` columns.
    by : sequence of str
        Grouping besides horizon.
    lower, upper : float
        Quantile levels.
    min_n : int
        Groups with fewer pairs at a horizon use the quantiles of all groups pooled at that
        horizon.

    Returns
    -------
    IntervalCalibration

    """
    if not 0 < lower < upper < 1:
        raise ForecastInputError(f"need 0 < lower < upper < 1, got {lower}, {upper}")
    lr = log_ratios(errors)
    if lr.empty:
        raise ForecastInputError("no back-test pairs with positive forecast and actual")
    keys = [*by, "horizon"]
    g = lr.groupby(keys, sort=True)["log_ratio"]
    q = pd.DataFrame(
        {"n": g.size(), "q_lo": g.quantile(lower), "q_hi": g.quantile(upper)}
    ).reset_index()
    gp = lr.groupby("horizon")["log_ratio"]
    pooled = pd.DataFrame({"p_lo": gp.quantile(lower), "p_hi": gp.quantile(upper)}).reset_index()
    q = q.merge(pooled, on="horizon")
    thin = q["n"] < min_n
    q.loc[thin, "q_lo"] = q.loc[thin, "p_lo"]
    q.loc[thin, "q_hi"] = q.loc[thin, "p_hi"]
    q["pooled"] = thin
    q = q.drop(columns=["p_lo", "p_hi"])
    return IntervalCalibration(quantiles=q, by=tuple(by), lower=lower, upper=upper)


def interval_coverage(
    errors: pd.DataFrame,
    *,
    holdout: str = "county_code",
    by: Sequence[str] = ("method",),
    report_by: Sequence[str] = ("method", "horizon"),
    lower: float = 0.1,
    upper: float = 0.9,
    min_n: int = 10,
) -> pd.DataFrame:
    """Out-of-sample coverage of calibrated intervals, leaving out one ``holdout`` group at a time.

    Returns
    -------
    pandas.DataFrame
        ``*report_by, n, nominal, coverage, below, above`` where ``coverage`` is the share of
        held-out actuals inside ``[P_lower, P_upper]`` and ``below``/``above`` the shares outside
        on each side. Pairs with zero forecast or actual are left out.

    """
    lr = log_ratios(errors)
    groups = sorted(lr[holdout].astype("str").unique())
    if len(groups) < 2:
        raise ForecastInputError(f"coverage needs >= 2 {holdout} groups, got {len(groups)}")
    parts = []
    key = lr[holdout].astype("str")
    for grp in groups:
        train = lr.loc[key != grp]
        test = lr.loc[key == grp]
        cal = calibrate_intervals(train, by=by, lower=lower, upper=upper, min_n=min_n)
        got = cal.apply(test)
        lo_col, hi_col = f"p{round(lower * 100)}", f"p{round(upper * 100)}"
        got["below"] = got["actual"] < got[lo_col]
        got["above"] = got["actual"] > got[hi_col]
        got["inside"] = ~(got["below"] | got["above"]) & got[lo_col].notna()
        parts.append(got)
    allp = pd.concat(parts, ignore_index=True)
    g = allp.groupby(list(report_by), sort=True)
    out = pd.DataFrame(
        {
            "n": g.size(),
            "coverage": g["inside"].mean(),
            "below": g["below"].mean(),
            "above": g["above"].mean(),
        }
    ).reset_index()
    out.insert(len(report_by) + 1, "nominal", upper - lower)
    return out
