"""Enrollment and births forecasting methods used in back-tests.

Enrollment methods work on a long table ``unit, year, grade, students`` (a unit is a school, a
township or a county) and forecast every grade from an *origin* year, using only data up to the
origin:

* :func:`persistence` — the last observed value.
* :func:`grade_progression` — the cohort-survival (grade-progression) method of US NCES: the
  enrollment of grade ``g`` next year is this year's enrollment of the previous grade times the
  average progression ratio of recent years; the entry grades (K1, G1) are a ratio to the births
  3 and 6 years earlier. Where pupils change unit when they change level (G6 -> G7, G9 -> G10 and
  G9 -> V1) the previous grade is taken over the whole county.
* :func:`cohort_births_ratio` — a cohort method: each grade is the births of its cohort (the year
  its pupils were born) times the recent average ratio of enrollment to births at that age,
  which folds survival, migration and participation into one ratio per grade and unit.

Births that are not known at the origin are held at the last known value (``births_future`` can
supply a scenario instead). :func:`forecast_births` holds the time-series baselines for births
(persistence, damped-trend exponential smoothing, ARIMA with drift) — comparison only, never the
default births of a projection (they fail at turning points).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from forecasting.demand import grade_table
from forecasting.errors import ForecastInputError
from forecasting.inputs import require_columns
from schoolsystem.vocabulary import ENTRY_GRADE_AGE, LEVEL_ENTRY_GRADES, PREVIOUS_GRADE

ENROLLMENT_METHODS: tuple[str, ...] = ("grade_progression", "cohort_births_ratio", "persistence")
BIRTHS_METHODS: tuple[str, ...] = ("persistence", "ets", "arima")


def _wide(enr: pd.DataFrame, origin: int) -> dict[int, pd.DataFrame]:
    """Enrollment up to ``origin`` as {year: unit x grade frame}, all units and grades."""
    need = ["unit", "year", "grade", "students"]
    require_columns(enr, "enrollment", need)
    e = enr.loc[enr["year"] <= origin, need]
    if e.empty:
        raise ForecastInputError(f"no enrollment up to origin year {origin}")
    grades = grade_table()["grade"].tolist()
    unknown = sorted(set(e["grade"]) - set(grades))
    if unknown:
        raise ForecastInputError(f"enrollment, column grade: unknown grade codes {unknown}")
    w = e.pivot_table(
        index="unit", columns=["year", "grade"], values="students", aggfunc="sum", fill_value=0
    )
    units = w.index.astype("str")
    out: dict[int, pd.DataFrame] = {}
    for year in sorted({int(y) for y in e["year"]}):
        frame = w.xs(year, axis=1, level="year").reindex(columns=grades, fill_value=0)
        frame.index = units
        out[year] = frame.astype(float)
    return out


def _births_frame(
    births: pd.DataFrame,
    units: pd.Index,
    unit_county: pd.Series | None,
    known_until: int,
    years: Iterable[int],
    births_future: pd.DataFrame | None = None,
    *,
    strict: bool = True,
) -> pd.DataFrame:
    """Births of each unit's county for ``years`` (unit x year), last known value carried on.

    Years before the first recorded year are NaN when ``strict`` is false, else an error.
    """
    b = births.loc[births["year"] <= known_until].astype({"county_code": "str"})
    if b.empty:
        raise ForecastInputError(f"no births up to year {known_until}")
    wide = b.pivot_table(index="county_code", columns="year", values="births", aggfunc="sum")
    if births_future is not None:
        fut = births_future.loc[births_future["year"] > known_until].astype({"county_code": "str"})
        if not fut.empty:
            wide = wide.join(
                fut.pivot_table(index="county_code", columns="year", values="births"), how="left"
            )
    years = sorted(set(years))
    lo = min(min(years), int(wide.columns.min()))
    hi = max(max(years), int(wide.columns.max()))
    wide = wide.reindex(columns=range(lo, hi + 1)).ffill(axis=1)
    county = (
        pd.Series(units, index=units)
        if unit_county is None
        else pd.Series(units, index=units).map(unit_county.astype("str"))
    )
    if county.isna().any():
        raise ForecastInputError(f"unit {county.index[county.isna()][0]!s} has no county_code")
    missing = sorted(set(county) - set(wide.index.astype("str")))
    if missing:
        raise ForecastInputError(f"births.csv has no rows for county {missing[0]}")
    out = wide.reindex(index=county.to_numpy(), columns=years)
    out.index = units
    if strict and out.isna().to_numpy().any():
        raise ForecastInputError(
            f"births.csv lacks years needed before {min(years)} (need from {min(years)})"
        )
    return out.astype(float)


def _window(years: Sequence[int], origin: int, n_years: int) -> list[int]:
    ys = [y for y in sorted(years) if y <= origin][-(n_years + 1) :]
    if not ys or ys[-1] != origin:
        raise ForecastInputError(f"no enrollment in origin year {origin}")
    return ys


def _long(frames: dict[int, pd.DataFrame], origin: int, method: str) -> pd.DataFrame:
    parts = []
    for year, frame in frames.items():
        f = (
            frame.rename_axis(index="unit", columns="grade")
            .stack()
            .rename("forecast")
            .reset_index()
        )
        f["year"] = year
        parts.append(f)
    out = pd.concat(parts, ignore_index=True)
    out["origin"] = origin
    out["horizon"] = out["year"] - origin
    out["method"] = method
    return out.loc[:, ["method", "unit", "grade", "origin", "year", "horizon", "forecast"]]


def persistence(enr: pd.DataFrame, origin: int, horizons: Sequence[int]) -> pd.DataFrame:
    """Forecast every grade of every unit as its value in the origin year.

    Returns
    -------
    pandas.DataFrame
        ``method, unit, grade, origin, year, horizon, forecast``.

    """
    w = _wide(enr, origin)
    if origin not in w:
        raise ForecastInputError(f"no enrollment in origin year {origin}")
    return _long({origin + h: w[origin] for h in horizons}, origin, "persistence")


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """Unit ratio of sums; pooled ratio where a unit's denominator is zero."""
    pooled = float(num.sum() / den.sum()) if den.sum() > 0 else 0.0
    return (num / den.where(den > 0)).fillna(pooled)


def _previous(frame: pd.DataFrame, grade: str, prev: str, county: pd.Series) -> pd.Series:
    """Values of the grade before ``grade``; for a level's entry grade, the county total."""
    if grade in LEVEL_ENTRY_GRADES:
        tot = frame[prev].groupby(county.to_numpy()).sum()
        return pd.Series(county.map(tot).to_numpy(), index=frame.index)
    return frame[prev]


def _progression_ratios(frames: dict[int, pd.DataFrame], window: list[int], origin: int,
                        county: pd.Series) -> dict[str, pd.Series]:
    """Grade-progression ratio per unit and grade (ratio of sums over consecutive years)."""
    ratios: dict[str, pd.Series] = {}
    pairs = [(a, b) for a, b in itertools.pairwise(window) if b == a + 1]
    if not pairs:
        raise ForecastInputError(f"grade progression needs consecutive years up to {origin}")
    for g, p in PREVIOUS_GRADE.items():
        num = sum(frames[b][g] for _, b in pairs)
        den = sum(_previous(frames[a], g, p, county) for a, _ in pairs)
        ratios[g] = _ratio(num, den)
    return ratios


def _roll_forward(cur: pd.DataFrame, ratios: dict[str, pd.Series], county: pd.Series,
                  bf: pd.DataFrame | None, origin: int,
                  horizons: Sequence[int]) -> dict[int, pd.DataFrame]:
    """Apply the ratios year by year from the origin; entry grades from births (or held)."""
    out: dict[int, pd.DataFrame] = {}
    for h in range(1, max(horizons) + 1):
        nxt = pd.DataFrame(0.0, index=cur.index, columns=cur.columns)
        for g, p in PREVIOUS_GRADE.items():
            nxt[g] = ratios[g] * _previous(cur, g, p, county)
        for g, age in ENTRY_GRADE_AGE.items():
            nxt[g] = cur[g] if bf is None else ratios[g] * bf[origin + h - age]
        cur = nxt
        if h in horizons:
            out[origin + h] = nxt
    return out


def grade_progression(
    enr: pd.DataFrame,
    origin: int,
    horizons: Sequence[int],
    *,
    births: pd.DataFrame | None = None,
    unit_county: pd.Series | None = None,
    n_years: int = 3,
    births_future: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Grade-progression (cohort-survival ratio) forecast.

    Parameters
    ----------
    enr : pandas.DataFrame
        ``unit, year, grade, students``; rows after ``origin`` are ignored.
    origin : int
        Last year treated as known.
    horizons : sequence of int
        Years ahead to forecast (>= 1).
    births : pandas.DataFrame, optional
        ``county_code, year, births``; without it the entry grades K1, G1 are held constant.
    unit_county : pandas.Series, optional
        Unit -> county code; default: units are county codes.
    n_years : int
        Number of past year-to-year transitions averaged (ratio of sums).
    births_future : pandas.DataFrame, optional
        Births after ``origin`` (a scenario); else the last known births are carried on.

    Returns
    -------
    pandas.DataFrame
        ``method, unit, grade, origin, year, horizon, forecast``.

    """
    w = _wide(enr, origin)
    window = _window(list(w), origin, n_years)
    if len(window) < 2:
        raise ForecastInputError(
            f"grade progression needs at least 2 years of enrollment up to {origin}"
        )
    units = w[origin].index
    county = (
        pd.Series(units, index=units)
        if unit_county is None
        else pd.Series(units, index=units).map(unit_county.astype("str"))
    )

    frames = {y: w[y].reindex(units, fill_value=0.0) for y in window}
    ratios = _progression_ratios(frames, window, origin, county)
    max_h = max(horizons)
    bf = None
    if births is not None:
        need = [
            y - a
            for a in ENTRY_GRADE_AGE.values()
            for y in [*window, *(origin + h for h in range(1, max_h + 1))]
        ]
        bf = _births_frame(births, units, unit_county, origin, need, births_future)
        for g, age in ENTRY_GRADE_AGE.items():
            num = sum(frames[y][g] for y in window)
            den = sum(bf[y - age] for y in window)
            ratios[g] = _ratio(num, den)
    out = _roll_forward(frames[origin], ratios, county, bf, origin, horizons)
    return _long(out, origin, "grade_progression")


def cohort_births_ratio(
    enr: pd.DataFrame,
    origin: int,
    horizons: Sequence[int],
    *,
    births: pd.DataFrame,
    unit_county: pd.Series | None = None,
    n_years: int = 3,
    births_future: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Cohort forecast: births of each grade's cohort times its recent enrollment/births ratio.

    Parameters are as in :func:`grade_progression` (``births`` required). A grade of typical age
    ``a`` in year ``y`` belongs to the cohort born in ``y - a``. Grades whose cohort was born
    before the first recorded births year get NaN (no forecast) rather than a substitute.

    Returns
    -------
    pandas.DataFrame
        ``method, unit, grade, origin, year, horizon, forecast``.

    """
    w = _wide(enr, origin)
    window = _window(list(w), origin, n_years)
    units = w[origin].index
    ages = grade_table().set_index("grade")["age"]
    max_h = max(horizons)
    need = [y - a for a in set(ages) for y in [*window, *(origin + h for h in range(1, max_h + 1))]]
    bf = _births_frame(births, units, unit_county, origin, need, births_future, strict=False)
    frames = {y: w[y].reindex(units, fill_value=0.0) for y in window}
    nan = pd.Series(np.nan, index=units)
    ratios = {}
    for g, a in ages.items():
        known = [y for y in window if bf[y - a].notna().all()]
        ratios[g] = (
            _ratio(sum(frames[y][g] for y in known), sum(bf[y - a] for y in known))
            if known
            else nan
        )
    out = {}
    for h in horizons:
        year = origin + h
        out[year] = pd.DataFrame({g: ratios[g] * bf[year - a] for g, a in ages.items()})
    return _long(out, origin, "cohort_births_ratio")


def forecast_births(series: pd.Series, horizon: int, method: str = "ets") -> np.ndarray:
    """Time-series baseline forecast of a births series (comparison only).

    Parameters
    ----------
    series : pandas.Series
        Births indexed by consecutive years, at least 5 values.
    horizon : int
        Number of years ahead.
    method : {"persistence", "ets", "arima"}
        ``ets``: Holt's additive damped trend (statsmodels ``ExponentialSmoothing``);
        ``arima``: ARIMA(1,1,0) with drift (statsmodels).

    Returns
    -------
    numpy.ndarray
        ``horizon`` forecasts, floored at 0.

    """
    y = np.asarray(series, dtype=float)
    if method == "persistence":
        return np.full(horizon, y[-1])
    if len(y) < 5:
        raise ForecastInputError(f"births baseline {method!r} needs >= 5 years, got {len(y)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "ets":
            from statsmodels.tsa.holtwinters import ExponentialSmoothing

            fit = ExponentialSmoothing(
                y, trend="add", damped_trend=True, initialization_method="estimated"
            ).fit()
            fc = fit.forecast(horizon)
        elif method == "arima":
            from statsmodels.tsa.arima.model import ARIMA

            fc = ARIMA(y, order=(1, 1, 0), trend="t").fit().forecast(horizon)
        else:
            raise ForecastInputError(f"unknown births method {method!r}; use {BIRTHS_METHODS}")
    return np.clip(np.asarray(fc, dtype=float), 0.0, None)
