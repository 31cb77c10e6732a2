"""Rolling-origin back-tests of enrollment and births forecasts, with interval coverage.

For every origin year of the enrollment history (all but the last year) each method forecasts
every grade of every unit (school, township or county) 1..``max_horizon`` years ahead from the data
up to the origin; forecasts are summed to grade bands and compared with what was enrolled.
Births get their own back-test (time-series baselines per county, longer horizons).

Accuracy is reported by method, grade band (``level`` column) and horizon, and by size class of
the unit's actual enrollment; calibrated P10/P90 intervals are fitted on the errors and their
coverage measured leaving one county out at a time (:mod:`forecasting.calibration`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting import baselines
from forecasting.calibration import (
    IntervalCalibration,
    calibrate_intervals,
    interval_coverage,
    log_ratios,
)
from forecasting.demand import grade_table
from forecasting.errors import ForecastInputError
from forecasting.inputs import require_columns
from forecasting.metrics import size_class, summarise_errors
from forecasting.parallel import start_tasks

GEOGRAPHIES: tuple[str, ...] = ("school", "township", "county")


@dataclass(frozen=True)
class BacktestResult:
    """Back-test tables.

    Attributes
    ----------
    table : pandas.DataFrame
        ``method, level, horizon, n, mape, mdape, malpe`` (level = grade band; percent).
    coverage : pandas.DataFrame
        ``method, horizon, n, nominal, coverage, below, above, holdout``: out-of-sample coverage
        of the calibrated intervals, leaving one county out at a time (``holdout`` =
        ``county_code``), or one unit at a time in a single-county region (``unit``).
    by_size : pandas.DataFrame
        ``method, horizon, size_class, n, n_zero, mape, mdape, malpe``.
    errors : pandas.DataFrame
        Every pair: ``method, unit, county_code, level, origin, year, horizon, forecast, actual``.
    births_table : pandas.DataFrame
        ``method, horizon, n, mape, mdape, malpe`` of county births baselines.
    births_errors : pandas.DataFrame
        ``method, county_code, origin, year, horizon, forecast, actual``.
    calibration : IntervalCalibration
        Quantiles fitted on all enrollment errors (by method and horizon).
    geography : str
        Unit of the enrollment back-test.
    coverage_by_origin : pandas.DataFrame
        As ``coverage`` but leaving one origin year out at a time (out of sample in time; a
        horizon never seen in training uses the widened longest calibrated horizon).

    """

    table: pd.DataFrame
    coverage: pd.DataFrame
    by_size: pd.DataFrame
    errors: pd.DataFrame
    births_table: pd.DataFrame
    births_errors: pd.DataFrame
    calibration: IntervalCalibration
    geography: str
    coverage_by_origin: pd.DataFrame


def _units(
    enrollment: pd.DataFrame,
    schools: pd.DataFrame,
    geography: str,
    townships: pd.DataFrame | None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Enrollment as ``unit, year, grade, students`` and unit -> county code."""
    if geography not in GEOGRAPHIES:
        raise ForecastInputError(f"geography must be one of {GEOGRAPHIES}, got {geography!r}")
    require_columns(enrollment, "enrollment", ["school_id", "year", "grade", "students"])
    require_columns(schools, "schools", ["school_id", "township_code"])
    e = enrollment.loc[:, ["school_id", "year", "grade", "students"]].copy()
    e["school_id"] = e["school_id"].astype("str")
    s = schools.loc[:, ["school_id", "township_code"]].astype("str")
    e = e.merge(s, on="school_id", how="left")
    if e["township_code"].isna().any():
        bad = e.loc[e["township_code"].isna(), "school_id"].iloc[0]
        raise ForecastInputError(f"enrollment.csv, school_id {bad}: school not in schools table")
    if townships is not None:
        cmap = pd.Series(
            townships["county_code"].astype("str").to_numpy(),
            index=townships["township_code"].astype("str").to_numpy(),
        )
        e["county_code"] = e["township_code"].map(cmap)
    else:
        e["county_code"] = e["township_code"].str.slice(0, 6)
    col = {"school": "school_id", "township": "township_code", "county": "county_code"}[geography]
    e["unit"] = e[col]
    unit_county = e.drop_duplicates("unit").set_index("unit")["county_code"]
    agg = e.groupby(["unit", "year", "grade"], sort=True)["students"].sum().reset_index()
    return agg, unit_county


def _to_bands(df: pd.DataFrame, value: str, keys: Sequence[str]) -> pd.DataFrame:
    gt = grade_table().loc[:, ["grade", "grade_band"]]
    m = df.merge(gt, on="grade")
    g = m.groupby([*keys, "grade_band"], sort=True)[value]
    # A band with any grade not forecast is not forecast (no partial sums).
    out = g.sum().where(g.count() == g.size()).reset_index()
    return out.rename(columns={"grade_band": "level"})


def _enrollment_errors(
    enr: pd.DataFrame,
    unit_county: pd.Series,
    births: pd.DataFrame,
    methods: Sequence[str],
    max_horizon: int,
    n_years: int,
) -> pd.DataFrame:
    years = sorted(int(y) for y in enr["year"].unique())
    last = years[-1]
    fcs = []
    for origin in years[:-1]:
        horizons = list(range(1, min(max_horizon, last - origin) + 1))
        # Births known at the origin only (no look-ahead).
        b = births.loc[births["year"] <= origin]
        for method in methods:
            try:
                if method == "persistence":
                    f = baselines.persistence(enr, origin, horizons)
                elif method == "grade_progression":
                    f = baselines.grade_progression(
                        enr, origin, horizons, births=b, unit_county=unit_county, n_years=n_years
                    )
                elif method == "cohort_births_ratio":
                    f = baselines.cohort_births_ratio(
                        enr, origin, horizons, births=b, unit_county=unit_county, n_years=n_years
                    )
                else:
                    raise ForecastInputError(
                        f"unknown method {method!r}; use {baselines.ENROLLMENT_METHODS}"
                    )
            except ForecastInputError as exc:
                if "needs at least 2 years" in str(exc):
                    continue  # not enough history at this origin for this method
                raise
            fcs.append(f)
    if not fcs:
        raise ForecastInputError("enrollment history too short for any back-test")
    fc = pd.concat(fcs, ignore_index=True)
    fc = _to_bands(fc, "forecast", ["method", "unit", "origin", "year", "horizon"])
    fc = fc.loc[fc["forecast"].notna()]
    act = enr.pivot_table(
        index="unit", columns=["year", "grade"], values="students", aggfunc="sum", fill_value=0
    )
    act = act.stack(level=[0, 1], future_stack=True).rename("actual").reset_index()
    act = _to_bands(act, "actual", ["unit", "year"])
    out = fc.merge(act, on=["unit", "year", "level"], how="left")
    out["actual"] = out["actual"].fillna(0.0)
    out["county_code"] = out["unit"].map(unit_county)
    cols = ["method", "unit", "county_code", "level", "origin", "year", "horizon"]
    return out.loc[:, [*cols, "forecast", "actual"]].sort_values(cols).reset_index(drop=True)


def _county_births_errors(item: tuple[str, pd.Series], methods: Sequence[str], min_train: int,
                          max_horizon: int) -> list[pd.DataFrame]:
    """One county's rolling-origin births forecasts (a task of :func:`births_backtest`)."""
    county, s = item
    rows = []
    years = s.index.to_numpy()
    for i in range(min_train - 1, len(years) - 1):
        origin = int(years[i])
        h = min(max_horizon, int(years[-1]) - origin)
        actual = s.loc[origin + 1 : origin + h].to_numpy()
        for method in methods:
            fc = baselines.forecast_births(s.loc[:origin], h, method)
            rows.append(
                pd.DataFrame(
                    {
                        "method": method,
                        "county_code": county,
                        "origin": origin,
                        "year": np.arange(origin + 1, origin + h + 1),
                        "horizon": np.arange(1, h + 1),
                        "forecast": fc,
                        "actual": actual,
                    }
                )
            )
    return rows


def births_backtest(
    births: pd.DataFrame,
    *,
    methods: Sequence[str] = baselines.BIRTHS_METHODS,
    min_train: int = 8,
    max_horizon: int = 10,
) -> pd.DataFrame:
    """Rolling-origin back-test of the births time-series baselines, per county.

    Returns
    -------
    pandas.DataFrame
        ``method, county_code, origin, year, horizon, forecast, actual``.

    """
    return start_births_backtest(births, methods=methods, min_train=min_train,
                                 max_horizon=max_horizon)()


def start_births_backtest(
    births: pd.DataFrame,
    *,
    methods: Sequence[str] = baselines.BIRTHS_METHODS,
    min_train: int = 8,
    max_horizon: int = 10,
) -> Callable[[], pd.DataFrame]:
    """Start :func:`births_backtest`; the returned function waits for it and returns its table.

    The counties' fits are pieces of :func:`forecasting.parallel.start_tasks`: with a scheduler
    installed they run while the caller goes on (the forecast projects the population
    meanwhile); without one they run when the function is called. Arguments as
    :func:`births_backtest`.
    """
    b = births.astype({"county_code": "str"})
    items = [(county, sub.set_index("year")["births"].sort_index().astype(float))
             for county, sub in b.groupby("county_code", sort=True)]
    pending = start_tasks(_county_births_errors, items, tuple(methods), min_train, max_horizon)

    def result() -> pd.DataFrame:
        rows = [frame for part in pending() for frame in part]
        if not rows:
            raise ForecastInputError(
                f"births history shorter than min_train + 1 = {min_train + 1}")
        return pd.concat(rows, ignore_index=True)

    return result


def run_backtests(
    enrollment: pd.DataFrame,
    schools: pd.DataFrame,
    births: pd.DataFrame,
    *,
    geography: str = "township",
    townships: pd.DataFrame | None = None,
    methods: Sequence[str] = baselines.ENROLLMENT_METHODS,
    max_horizon: int = 4,
    n_years: int = 3,
    births_methods: Sequence[str] = baselines.BIRTHS_METHODS,
    births_min_train: int = 8,
    births_max_horizon: int = 10,
    lower: float = 0.1,
    upper: float = 0.9,
    births_errors: Callable[[], pd.DataFrame] | None = None,
) -> BacktestResult:
    """Run the enrollment and births back-tests and measure interval coverage.

    Parameters
    ----------
    enrollment, schools, births : pandas.DataFrame
        As in the region data (``enrollment.csv``, ``schools.csv``, ``births.csv``).
    geography : {"school", "township", "county"}
        Unit at which enrollment is forecast and scored.
    townships : pandas.DataFrame, optional
        ``township_code, county_code``; default: county = first 6 digits of the township code.
    methods : sequence of str
        Enrollment methods (see :data:`forecasting.baselines.ENROLLMENT_METHODS`).
    max_horizon : int
        Longest enrollment horizon (limited by the history).
    n_years : int
        Years of ratios averaged by the ratio methods.
    births_methods, births_min_train, births_max_horizon
        Births back-test settings.
    lower, upper : float
        Interval quantile levels (default P10-P90, nominal coverage 80 %).
    births_errors : callable, optional
        The births back-test already started (:func:`start_births_backtest`, with the births
        settings above); default: started here, before the enrollment back-test.

    Returns
    -------
    BacktestResult

    """
    return start_backtests(
        enrollment, schools, births, geography=geography, townships=townships, methods=methods,
        max_horizon=max_horizon, n_years=n_years, births_methods=births_methods,
        births_min_train=births_min_train, births_max_horizon=births_max_horizon, lower=lower,
        upper=upper, births_errors=births_errors)()


def start_backtests(
    enrollment: pd.DataFrame,
    schools: pd.DataFrame,
    births: pd.DataFrame,
    *,
    geography: str = "township",
    townships: pd.DataFrame | None = None,
    methods: Sequence[str] = baselines.ENROLLMENT_METHODS,
    max_horizon: int = 4,
    n_years: int = 3,
    births_methods: Sequence[str] = baselines.BIRTHS_METHODS,
    births_min_train: int = 8,
    births_max_horizon: int = 10,
    lower: float = 0.1,
    upper: float = 0.9,
    births_errors: Callable[[], pd.DataFrame] | None = None,
) -> Callable[[], BacktestResult]:
    """Start :func:`run_backtests`; the returned function waits for it and returns its result.

    The enrollment back-test (errors, accuracy tables, calibration and the leave-one-out
    coverage) is one piece of :func:`forecasting.parallel.start_tasks`: with a scheduler
    installed it runs on a worker while the caller goes on (the forecast projects the
    population meanwhile); without one it runs when the function is called, as
    :func:`run_backtests` always did. Arguments as :func:`run_backtests`.
    """
    b = births.loc[:, ["county_code", "year", "births"]].astype({"county_code": "str"})
    if births_errors is None:  # on a cluster the fits run during the enrollment back-test
        births_errors = start_births_backtest(b, methods=births_methods,
                                              min_train=births_min_train,
                                              max_horizon=births_max_horizon)
    pending = start_tasks(_enrollment_backtest,
                          [(enrollment, schools, geography, townships)],
                          b, tuple(methods), max_horizon, n_years, lower, upper)
    errors_of_births = births_errors

    def result() -> BacktestResult:
        (tables,) = pending()
        berr = errors_of_births()
        btable = summarise_errors(berr, ["method", "horizon"]).drop(columns="n_zero")
        return BacktestResult(births_table=btable, births_errors=berr, geography=geography,
                              **tables)

    return result


def _enrollment_backtest(
    item: tuple[pd.DataFrame, pd.DataFrame, str, pd.DataFrame | None], births: pd.DataFrame,
    methods: tuple[str, ...], max_horizon: int, n_years: int, lower: float, upper: float,
) -> dict[str, object]:
    """The enrollment part of :func:`run_backtests` (one task): its tables by field name."""
    enrollment, schools, geography, townships = item
    enr, unit_county = _units(enrollment, schools, geography, townships)
    errors = _enrollment_errors(enr, unit_county, births, methods, max_horizon, n_years)
    table = summarise_errors(errors, ["method", "level", "horizon"]).drop(columns="n_zero")
    sized = errors.assign(size_class=size_class(errors["actual"]).to_numpy())
    by_size = summarise_errors(sized, ["method", "horizon", "size_class"])
    return {
        "table": table,
        "coverage": _coverage(errors, ("county_code", "unit"), lower, upper),
        "by_size": by_size,
        "errors": errors,
        "calibration": calibrate_intervals(errors, by=("method",), lower=lower, upper=upper),
        "coverage_by_origin": _coverage(errors, ("origin",), lower, upper).drop(
            columns="holdout"),
    }


def _coverage(errors: pd.DataFrame, holdouts: tuple[str, ...], lower: float,
              upper: float) -> pd.DataFrame:
    """Out-of-sample coverage leaving one group of the first usable ``holdouts`` column out.

    A column is usable when the measurable pairs (non-zero forecast and actual) fall in at least
    two of its groups: a single-county region leaves one unit (school or township) out instead of
    one county. With no usable column the table is empty (coverage cannot be measured).
    """
    lr = log_ratios(errors)
    for holdout in holdouts:
        if lr[holdout].nunique() >= 2:
            return interval_coverage(errors, holdout=holdout, by=("method",), lower=lower,
                                     upper=upper).assign(holdout=holdout)
    return pd.DataFrame(columns=["method", "horizon", "n", "nominal", "coverage", "below",
                                 "above", "holdout"])
