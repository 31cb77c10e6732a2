"""Forecast accuracy metrics: MAPE, median APE, MALPE, by group and by unit size.

Percentage errors are ``100 * (forecast - actual) / actual``. Pairs whose actual value is zero
have no percentage error; they are dropped and counted in ``n_zero`` so the loss is visible.

* MAPE  — mean absolute percentage error (accuracy).
* MdAPE — median absolute percentage error (accuracy, robust to a few tiny units).
* MALPE — mean algebraic percentage error (bias: positive = over-forecast).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Default size classes (by the unit's actual value), in persons.
SIZE_BINS: tuple[float, ...] = (0, 100, 500, 2000, 10000, np.inf)


def percentage_errors(
    forecast: np.ndarray | pd.Series, actual: np.ndarray | pd.Series
) -> np.ndarray:
    """Signed percentage errors ``100 * (F - A) / A``; NaN where ``A == 0``.

    Parameters
    ----------
    forecast, actual : array-like
        Same length.

    Returns
    -------
    numpy.ndarray
        Float array of signed percentage errors.

    """
    f = np.asarray(forecast, dtype=float)
    a = np.asarray(actual, dtype=float)
    if f.shape != a.shape:
        raise ValueError(f"forecast and actual differ in shape: {f.shape} vs {a.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        pe = 100.0 * (f - a) / a
    pe[a == 0] = np.nan
    return pe


def mape(forecast: np.ndarray | pd.Series, actual: np.ndarray | pd.Series) -> float:
    """Mean absolute percentage error, in percent (pairs with zero actual are skipped)."""
    pe = percentage_errors(forecast, actual)
    return float(np.nanmean(np.abs(pe))) if np.isfinite(pe).any() else float("nan")


def mdape(forecast: np.ndarray | pd.Series, actual: np.ndarray | pd.Series) -> float:
    """Median absolute percentage error, in percent (pairs with zero actual are skipped)."""
    pe = percentage_errors(forecast, actual)
    return float(np.nanmedian(np.abs(pe))) if np.isfinite(pe).any() else float("nan")


def malpe(forecast: np.ndarray | pd.Series, actual: np.ndarray | pd.Series) -> float:
    """Mean algebraic percentage error (bias), in percent; positive means over-forecast."""
    pe = percentage_errors(forecast, actual)
    return float(np.nanmean(pe)) if np.isfinite(pe).any() else float("nan")


def size_class(actual: pd.Series | np.ndarray, bins: Sequence[float] = SIZE_BINS) -> pd.Series:
    """Label each unit by the size of its actual value, e.g. ``"100-500"``.

    Parameters
    ----------
    actual : array-like
        Actual values (persons).
    bins : sequence of float
        Increasing class edges; the last may be ``inf``. Classes are left-closed ``[lo, hi)``.

    Returns
    -------
    pandas.Series
        String labels such as ``"<100"``, ``"100-500"``, ``">=10000"``.

    """
    edges = list(bins)
    labels = []
    for lo, hi in itertools.pairwise(edges):
        if lo <= 0:
            labels.append(f"<{hi:g}")
        elif np.isinf(hi):
            labels.append(f">={lo:g}")
        else:
            labels.append(f"{lo:g}-{hi:g}")
    cut = pd.cut(np.asarray(actual, dtype=float), bins=edges, labels=labels, right=False)
    return pd.Series(np.asarray(cut.astype(object)), dtype="str")


def summarise_errors(
    errors: pd.DataFrame,
    by: Sequence[str],
    *,
    forecast: str = "forecast",
    actual: str = "actual",
) -> pd.DataFrame:
    """Accuracy table grouped by ``by``.

    Parameters
    ----------
    errors : pandas.DataFrame
        One row per forecast/actual pair, with the ``by`` columns.
    by : sequence of str
        Grouping columns, e.g. ``["method", "level", "horizon"]``.
    forecast, actual : str
        Column names of the forecast and the actual value.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns plus ``n`` (pairs with non-zero actual), ``n_zero`` (pairs skipped),
        ``mape``, ``mdape``, ``malpe`` (percent).

    """
    missing = [c for c in [*by, forecast, actual] if c not in errors.columns]
    if missing:
        raise ValueError(f"errors table lacks columns {missing}")
    df = errors.loc[:, [*by]].copy()
    df["pe"] = percentage_errors(errors[forecast], errors[actual])
    df["ape"] = df["pe"].abs()
    df["zero"] = errors[actual].to_numpy() == 0
    g = df.groupby(list(by), sort=True, observed=True, dropna=False)
    return pd.DataFrame(
        {
            "n": g["pe"].count(),
            "n_zero": g["zero"].sum().astype(int),
            "mape": g["ape"].mean(),
            "mdape": g["ape"].median(),
            "malpe": g["pe"].mean(),
        }
    ).reset_index()
