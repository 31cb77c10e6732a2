"""Fertility: TFR scenario paths, an age-specific schedule, births from women 15-49.

Reference TFR and the paths
---------------------------
TFR values in this package are on a **reference scale** whose base-year value is
``REFERENCE_TFR_BASE = 1.0``. A county's fertility in year ``t`` is
``scale[county] * tfr[t]``, where the local scale factor is calibrated so that the model
reproduces the county's recorded births in the base year (:func:`calibrate_scale`). A path value
of 1.0 therefore means "the county keeps its base-year fertility"; 0.9 means 10 % lower.

Why 1.0: the 2020 census measured a national TFR of 1.3; national births then fell from 12.0
million (2020) to 9.02 million (2023), i.e. by a quarter, so the national TFR was about 1.0 in
2023 (approx.; not an official statistic). The named paths (``k`` = years after the base year):

============================  ===============================================================
``medium``                    holds the recent level: 1.0 every year
``low``                       falls linearly to 0.85 by ``k = 7`` (about -15 %), then flat
``high``                      recovers linearly to 1.3 (the 2020 census level) by ``k = 12``
``continued_decline``         keeps falling 3 % a year (``0.97**k``), floor 0.6
============================  ===============================================================

``continued_decline`` exists because published projections failed on the downside: the UN's
2022 medium variant over-projected China's children aged 0-4 in 2025 by about 11 %, and national
births fell again to 7.92 million in 2025. Ordering for every year: continued_decline <= low <=
medium <= high (tested).

Age schedule
------------
Single ages 15-49, Hadwiger function ``f(x) ~ (c/x)^1.5 exp(-b^2 (c/x + x/c - 2))`` at mid-age
``x + 0.5`` with ``c = 28.5``, ``b = 3.5``, normalised to sum 1: mean age at childbearing 28.5
years, mode 26-27 (China 2020 census: mean age at childbearing about 28-29). Births in year t are
``sum_a tfr * scale * schedule[a] * women[a]`` with women the year-t stock.

Girls reaching 15
-----------------
Women aged 15 in year ``t + 1`` are the surviving children aged 14 in year ``t`` times
``FEMALE_SHARE = 0.47``: the share of girls at a sex ratio of about 1.13 boys per girl (Sichuan
cohorts born around 2009-2015, approx.). The sex ratio at birth is held at ``SEX_RATIO_AT_BIRTH =
1.12`` (female share of births 0.472) where needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from forecasting.errors import ForecastInputError, ScenarioError
from schoolsystem.vocabulary import WOMEN_AGES

REFERENCE_TFR_BASE = 1.0
FIRST_AGE, LAST_AGE = WOMEN_AGES.start, WOMEN_AGES.stop - 1
N_FERTILE = LAST_AGE - FIRST_AGE + 1
SEX_RATIO_AT_BIRTH = 1.12
FEMALE_SHARE = 0.47
_HADWIGER_C, _HADWIGER_B = 28.5, 3.5


def _medium(k: np.ndarray) -> np.ndarray:
    return np.full(k.shape, REFERENCE_TFR_BASE)


def _low(k: np.ndarray) -> np.ndarray:
    return REFERENCE_TFR_BASE - 0.15 * np.minimum(k, 7) / 7


def _high(k: np.ndarray) -> np.ndarray:
    return REFERENCE_TFR_BASE + 0.30 * np.minimum(k, 12) / 12


def _continued_decline(k: np.ndarray) -> np.ndarray:
    return np.maximum(REFERENCE_TFR_BASE * 0.97**k, 0.6)


TFR_PATHS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "low": _low,
    "medium": _medium,
    "high": _high,
    "continued_decline": _continued_decline,
}


def tfr_path(
    path: str | Sequence[float],
    horizon: int,
    *,
    target: float | None = None,
    target_k: int | None = None,
) -> np.ndarray:
    """Reference TFR for projection years ``k = 1 .. horizon``.

    Parameters
    ----------
    path : str or sequence of float
        A name of :data:`TFR_PATHS` or explicit values for ``k = 1, 2, ...`` (the last value is
        held if the list is shorter than the horizon).
    horizon : int
        Number of projection years.
    target : float, optional
        Replaces the named path: linear from ``REFERENCE_TFR_BASE`` to ``target`` at year
        ``target_k`` (default: the horizon), flat afterwards.
    target_k : int, optional
        Years after the base year at which ``target`` is reached.

    Examples
    --------
    >>> tfr_path("low", 8).round(3).tolist()
    [0.979, 0.957, 0.936, 0.914, 0.893, 0.871, 0.85, 0.85]
    >>> tfr_path([0.9, 0.8], 3).tolist()
    [0.9, 0.8, 0.8]

    """
    k = np.arange(1, horizon + 1, dtype=float)
    if target is not None:
        if target <= 0:
            raise ScenarioError(f"tfr_target must be > 0, got {target}")
        kk = float(target_k or horizon)
        return REFERENCE_TFR_BASE + (target - REFERENCE_TFR_BASE) * np.minimum(k, kk) / kk
    if isinstance(path, str):
        if path not in TFR_PATHS:
            raise ScenarioError(f"unknown tfr_path {path!r}; known: {sorted(TFR_PATHS)}")
        return TFR_PATHS[path](k)
    values = np.asarray(list(path), dtype=float)
    if values.size == 0 or not np.all(values > 0):
        raise ScenarioError(f"tfr_path values must be > 0, got {values.tolist()}")
    return values[np.minimum(np.arange(horizon), values.size - 1)]


def asfr_schedule() -> pd.Series:
    """Normalised age schedule of fertility, ages 15-49 (sums to 1; mean age about 28.5).

    Examples
    --------
    >>> s = asfr_schedule()
    >>> round(float(s.sum()), 6), round(float(((s.index + 0.5) * s).sum()), 1)
    (1.0, 28.5)

    """
    x = np.arange(FIRST_AGE, LAST_AGE + 1) + 0.5
    c, b = _HADWIGER_C, _HADWIGER_B
    f = (c / x) ** 1.5 * np.exp(-(b**2) * (c / x + x / c - 2.0))
    return pd.Series(f / f.sum(), index=pd.RangeIndex(FIRST_AGE, LAST_AGE + 1, name="age"), name="asfr")


def births_from_women(women: np.ndarray, tfr: np.ndarray | float, scale: np.ndarray | float) -> np.ndarray:
    """Births ``tfr * scale * sum_a schedule[a] * women[..., a]``.

    Parameters
    ----------
    women : ndarray, shape (..., areas, 35)
        Women aged 15..49.
    tfr : float or ndarray broadcastable to ``women.shape[:-1]``
        Reference TFR (per draw, say).
    scale : float or ndarray broadcastable to ``women.shape[:-1]``
        Local scale factors (per area).

    """
    sched = asfr_schedule().to_numpy().astype(women.dtype)
    return (women @ sched) * tfr * scale


def calibrate_scale(
    births_base: pd.Series, women_base: pd.DataFrame, tfr_base: float = REFERENCE_TFR_BASE
) -> pd.Series:
    """Local scale factors so that base-year women reproduce base-year births.

    Parameters
    ----------
    births_base : Series
        Recorded births of the base year, indexed by area (county).
    women_base : DataFrame
        Women by area (rows) and age 15..49 (columns) in the base year.
    tfr_base : float
        Reference TFR of the base year.

    Returns
    -------
    Series
        ``births / (tfr_base * sum_a schedule[a] * women[a])`` per area.

    Examples
    --------
    >>> w = pd.DataFrame([[100.0] * 35], index=["c1"], columns=range(15, 50))
    >>> float(calibrate_scale(pd.Series({"c1": 3.0}), w).round(6)["c1"])
    0.03

    """
    missing = births_base.index.difference(women_base.index)
    if len(missing):
        raise ForecastInputError(f"base-year births: area {missing[0]!r} has no women 15-49")
    cols = [int(c) for c in women_base.columns]
    if sorted(cols) != list(range(FIRST_AGE, LAST_AGE + 1)):
        raise ForecastInputError("women table must have columns for ages 15..49 exactly")
    women = women_base.loc[births_base.index]
    women.columns = cols
    expected = women[list(range(FIRST_AGE, LAST_AGE + 1))].to_numpy(float) @ asfr_schedule().to_numpy()
    expected = expected * tfr_base
    zero = expected <= 0
    if zero.any():
        raise ForecastInputError(
            f"cannot calibrate fertility: area {births_base.index[np.argmax(zero)]!r} has no women 15-49"
        )
    return pd.Series(births_base.to_numpy(float) / expected, index=births_base.index, name="scale")
