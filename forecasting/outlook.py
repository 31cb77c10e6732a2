"""Regional outlook: school-place demand per township, village, level and year, with intervals.

This module composes the parts of :mod:`forecasting` into the one call the pipeline and the
notebooks use, on plain tables (``data/geo/README.md``):

1. township shares of county births and migration: :func:`forecasting.shares.fit_share_model`
   (a scikit-learn model checked by grouped cross-validation, or base-year shares);
2. population by township, village, single age and year under the scenario, with a Monte Carlo
   over fertility, migration and urbanisation: :func:`forecasting.population.project_population`;
3. participation rates and cross-boundary attendance calibrated on base-year enrollment:
   :func:`forecasting.attendance.calibrate_attendance`; kindergarten uses the scenario's gross
   enrollment rate, the senior stage the calibrated participation split by the scenario's
   vocational share;
4. demand by grade band: :func:`forecasting.demand.compute_demand`, at village level (where the
   children live: the demand points of the layout model) and township level (where they live,
   and where they go to school after attendance flows);
5. intervals: the Monte Carlo spread (scenario uncertainty) combined in quadrature, on the log
   scale, with the back-tested model error of the cohort method at township level
   (:func:`forecasting.backtest.run_backtests`), so the intervals are calibrated against this
   region's own back-test errors; the coverage measured there is reported with the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.attendance import AttendanceModel, calibrate_attendance
from forecasting.backtest import BacktestResult, start_backtests
from forecasting.demand import compute_demand
from forecasting.population import PopulationForecast, start_population
from forecasting.scenario import ForecastScenario
from forecasting.shares import ShareModel, fit_share_model
from schoolsystem.vocabulary import BAND_AGE_GROUP, BAND_AGE_GROUPS, GRADE_BANDS

#: back-test method whose errors calibrate the intervals
CALIBRATION_METHOD = "cohort_births_ratio"


@dataclass(frozen=True)
class RegionOutlook:
    """Result of :func:`forecast_region`.

    Attributes
    ----------
    population : PopulationForecast
        Township / village population by single age and year, births, urban share.
    village_demand : DataFrame
        ``village_id, township_code, county_code, level, grade_band, year, demand, p10, p50, p90``
        — resident demand at the demand points.
    township_demand : DataFrame
        Same per township (residence), plus ``attending`` (demand after attendance flows: the
        pupils the township's schools would enroll).
    rates : DataFrame
        ``county_code, grade_band, year, rate`` participation rates used.
    attendance : AttendanceModel
    share_model : ShareModel or None
    backtest : BacktestResult or None
    interval_factors : DataFrame
        ``horizon, grade_band, mc_lo, mc_hi, bt_lo, bt_hi`` (log ratios) behind the intervals.
    base_year : int
    scenario : ForecastScenario

    """

    population: PopulationForecast
    village_demand: pd.DataFrame
    township_demand: pd.DataFrame
    rates: pd.DataFrame
    attendance: AttendanceModel
    share_model: ShareModel | None
    backtest: BacktestResult | None
    interval_factors: pd.DataFrame
    base_year: int
    scenario: ForecastScenario

    def city_totals(self) -> pd.DataFrame:
        """Demand summed over townships: ``level, grade_band, year, demand, p10, p50, p90``.

        Quantiles are summed over townships, a conservative (wide) band for the city.
        """
        cols = ["demand", "p10", "p50", "p90"]
        return (self.township_demand.groupby(["level", "grade_band", "year"], sort=True)[cols]
                .sum().reset_index())

    def level_totals(self) -> pd.DataFrame:
        """Demand by level and year for the city (P50 and the summed P10/P90)."""
        cols = ["demand", "p10", "p50", "p90"]
        return self.township_demand.groupby(["level", "year"], sort=True)[cols].sum().reset_index()


def participation_rates(attendance: AttendanceModel, scenario: ForecastScenario,
                        base_year: int, years: list[int]) -> pd.DataFrame:
    """Participation rate per county, grade band and year (enrolled / resident children).

    Every rate starts at its base-year calibration, so the forecast for the base year reproduces
    the recorded enrollment. The scenario's ``kindergarten_enrollment_rate`` and
    ``vocational_share`` (share of the senior stage in vocational schools), when given, are
    reached linearly by the scenario's ``target_year`` and held after it; compulsory bands and
    the senior-stage participation keep their base-year values.

    Returns
    -------
    DataFrame
        ``county_code, grade_band, year, rate``.

    """
    r = attendance.rates.pivot_table(index="county_code", columns="grade_band", values="rate",
                                     aggfunc="first").reindex(columns=list(GRADE_BANDS))
    r = r.fillna(0.0)
    stage = r["senior"] + r["vocational"]  # > 1 where a county draws pupils from others
    voc0 = (r["vocational"] / stage.where(stage > 0)).fillna(0.0)
    kg0 = r["kindergarten"]
    span = max(scenario.target_year - base_year, 1)
    parts = []
    for year in years:
        w = min(max((year - base_year) / span, 0.0), 1.0)
        kg = kg0 if scenario.kindergarten_enrollment_rate is None else (
            kg0 + w * (scenario.kindergarten_enrollment_rate - kg0))
        voc = voc0 if scenario.vocational_share is None else (
            voc0 + w * (scenario.vocational_share - voc0))
        y = r.copy()
        y["kindergarten"] = kg
        y["senior"] = stage * (1.0 - voc)
        y["vocational"] = stage * voc
        y["year"] = year
        parts.append(y.reset_index())
    out = pd.concat(parts, ignore_index=True).melt(id_vars=["county_code", "year"],
                                                   var_name="grade_band", value_name="rate")
    return out.loc[:, ["county_code", "grade_band", "year", "rate"]].sort_values(
        ["county_code", "grade_band", "year"], ignore_index=True)


def _residents_by_band(population: pd.DataFrame, area_col: str, county_of: pd.Series,
                       rates: pd.DataFrame) -> pd.DataFrame:
    """Residents of each band's ages (rate 1) times the county's rate of that band and year."""
    ones = rates.drop_duplicates(["county_code", "grade_band"]).assign(rate=1.0)
    d = compute_demand(population, ones, area_col=area_col, county_of=county_of)
    d["county_code"] = d["area"].map(county_of)
    d = d.merge(rates, on=["county_code", "grade_band", "year"], how="left")
    d["demand"] = d["demand"] * d["rate"].fillna(0.0)
    return d.drop(columns=["rate"])


def _interval_factors(pop: PopulationForecast, backtest: BacktestResult | None,
                      base_year: int) -> pd.DataFrame:
    """Log-ratio half widths per horizon and band: Monte Carlo and back-test parts."""
    iv = pop.intervals
    if iv is None or iv.empty:
        mc = pd.DataFrame(columns=["horizon", "age_group", "mc_lo", "mc_hi"])
    else:
        g = iv.groupby(["year", "age_group"])[["p10", "p50", "p90"]].sum().reset_index()
        safe = g["p50"].where(g["p50"] > 0)
        mc = pd.DataFrame({
            "horizon": g["year"] - base_year,
            "age_group": g["age_group"],
            "mc_lo": np.log(g["p10"] / safe).fillna(0.0).clip(upper=0.0),
            "mc_hi": np.log(g["p90"] / safe).fillna(0.0).clip(lower=0.0),
        })
    horizons = np.arange(1, int(pop.townships["year"].max()) - base_year + 1)
    rows = []
    bt_q = None
    if backtest is not None:
        q = backtest.calibration.quantiles
        bt_q = q[q["method"] == CALIBRATION_METHOD] if "method" in q.columns else q
        if bt_q.empty:
            bt_q = None
    for band, group in BAND_AGE_GROUP.items():
        for h in horizons:
            m = mc[(mc["horizon"] == h) & (mc["age_group"] == group)]
            lo_mc = float(m["mc_lo"].iloc[0]) if len(m) else 0.0
            hi_mc = float(m["mc_hi"].iloc[0]) if len(m) else 0.0
            lo_bt = hi_bt = 0.0
            if bt_q is not None:
                hs = bt_q["horizon"].to_numpy()
                k = int(np.clip(np.searchsorted(hs, h), 0, len(hs) - 1))
                scale = np.sqrt(h / hs.max()) if h > hs.max() else 1.0
                lo_bt = min(float(bt_q["q_lo"].iloc[k]) * scale, 0.0)
                hi_bt = max(float(bt_q["q_hi"].iloc[k]) * scale, 0.0)
            rows.append((int(h), band, lo_mc, hi_mc, lo_bt, hi_bt))
    return pd.DataFrame(rows, columns=["horizon", "grade_band", "mc_lo", "mc_hi", "bt_lo", "bt_hi"])


def _with_intervals(demand: pd.DataFrame, factors: pd.DataFrame, base_year: int) -> pd.DataFrame:
    d = demand.assign(horizon=demand["year"] - base_year).merge(
        factors, on=["horizon", "grade_band"], how="left")
    for c in ("mc_lo", "mc_hi", "bt_lo", "bt_hi"):
        d[c] = d[c].fillna(0.0)
    lo = -np.sqrt(d["mc_lo"] ** 2 + d["bt_lo"] ** 2)
    hi = np.sqrt(d["mc_hi"] ** 2 + d["bt_hi"] ** 2)
    d["p50"] = d["demand"]
    d["p10"] = d["demand"] * np.exp(lo)
    d["p90"] = d["demand"] * np.exp(hi)
    return d.drop(columns=["horizon", "mc_lo", "mc_hi", "bt_lo", "bt_hi"])


def _village_demand(pop: PopulationForecast, villages: pd.DataFrame,
                    county_of_township: pd.Series, rates: pd.DataFrame, factors: pd.DataFrame,
                    base_year: int) -> pd.DataFrame:
    """Resident demand per village (the demand points) with intervals."""
    if pop.villages is None:
        raise ValueError("village demand needs the population forecast by village")
    vil = villages.loc[:, ["village_id", "township_code"]].astype(str)
    county_of_village = vil.set_index("village_id")["township_code"].map(county_of_township)
    vpop = pop.villages.loc[:, ["village_id", "year", "age", "population"]]
    vd = _residents_by_band(vpop, "village_id", county_of_village, rates)
    vd = vd.rename(columns={"area": "village_id"})
    vd["township_code"] = vd["village_id"].map(vil.set_index("village_id")["township_code"])
    vd = _with_intervals(vd, factors, base_year)
    return vd.loc[:, ["village_id", "township_code", "county_code", "level", "grade_band", "year",
                      "demand", "p10", "p50", "p90"]]


def _township_demand(pop: PopulationForecast, attendance: AttendanceModel,
                     county_of_township: pd.Series, rates: pd.DataFrame, factors: pd.DataFrame,
                     base_year: int) -> pd.DataFrame:
    """Resident demand per township with intervals, plus ``attending`` after attendance flows."""
    tpop = pop.townships.loc[:, ["township_code", "year", "age", "population"]]
    td = _residents_by_band(tpop, "township_code", county_of_township, rates).drop(
        columns="county_code")
    attending = attendance.apply(td.loc[:, ["area", "level", "grade_band", "year", "demand"]])
    td = td.merge(attending.rename(columns={"demand": "attending"}),
                  on=["area", "level", "grade_band", "year"], how="left")
    td["attending"] = td["attending"].fillna(0.0)
    td = td.rename(columns={"area": "township_code"})
    td["county_code"] = td["township_code"].map(county_of_township)
    td = _with_intervals(td, factors, base_year)
    return td.loc[:, ["township_code", "county_code", "level", "grade_band", "year", "demand",
                      "p10", "p50", "p90", "attending"]]


def forecast_region(
    *,
    children: pd.DataFrame,
    women: pd.DataFrame,
    births: pd.DataFrame,
    urbanisation: pd.DataFrame,
    villages: pd.DataFrame,
    townships: pd.DataFrame,
    township_history: pd.DataFrame,
    enrollment: pd.DataFrame,
    schools: pd.DataFrame,
    scenario: ForecastScenario,
    base_year: int,
    horizon: int | None = None,
    draws: int | None = None,
    seed: int | None = None,
    projected_crs: str | None = None,
    backtest: bool = True,
) -> RegionOutlook:
    """Forecast school-place demand for a region under one scenario.

    Parameters
    ----------
    children, women : DataFrame
        Base-year residents by village and single age (``children.csv``, ``women.csv``).
    births, urbanisation : DataFrame
        County history (``births.csv``, ``urbanisation.csv``).
    villages, townships : DataFrame
        Demand points and townships (``townships`` may be a GeoDataFrame; with
        ``projected_crs`` its geometry gives distances to the county seat).
    township_history : DataFrame
        Township population by year (for the share model).
    enrollment, schools : DataFrame
        Enrollment by school, year and grade, and the schools (for attendance and back-tests).
    scenario : ForecastScenario
        Forecast settings (:func:`forecasting.scenario.load_forecast_scenario`).
    base_year : int
        Year of the population stock.
    horizon, draws, seed : int, optional
        Override the scenario.
    projected_crs : str, optional
        Metric CRS, e.g. ``"EPSG:4544"``.
    backtest : bool
        Run the back-tests that calibrate the intervals (a few seconds to a minute).

    Returns
    -------
    RegionOutlook

    """
    tw = pd.DataFrame({"township_code": townships["township_code"].astype(str).to_numpy(),
                       "county_code": townships["county_code"].astype(str).to_numpy()})
    # the back-tests are started first: on a cluster the births fits and the enrollment
    # back-test run on the workers during the share model's fit and the projection
    pending_bt = (start_backtests(enrollment, schools, births, geography="township",
                                  townships=tw,
                                  methods=(CALIBRATION_METHOD, "grade_progression",
                                           "persistence"))
                  if backtest else None)
    # the projection is started next (per county group: on a cluster, on the workers), and the
    # share model, which is only needed to split its county totals, is fitted meanwhile
    finish_population = start_population(
        children, women, births, urbanisation, villages, townships, scenario, base_year,
        horizon=horizon, draws=draws, seed=seed, by_village=True, age_groups=BAND_AGE_GROUPS,
    )
    share_model = None
    if township_history is not None and len(township_history):
        share_model = fit_share_model(township_history, townships, base_year=base_year,
                                      projected_crs=projected_crs)
    pop = finish_population(share_model)
    attendance = calibrate_attendance(enrollment, schools, children, villages, year=base_year,
                                      townships=tw)
    years = sorted(int(y) for y in pop.townships["year"].unique())
    rates = participation_rates(attendance, scenario, base_year, years)
    bt = pending_bt() if pending_bt is not None else None
    factors = _interval_factors(pop, bt, base_year)

    county_of_township = tw.set_index("township_code")["county_code"]
    vd = _village_demand(pop, villages, county_of_township, rates, factors, base_year)
    td = _township_demand(pop, attendance, county_of_township, rates, factors, base_year)
    return RegionOutlook(
        population=pop, village_demand=vd.reset_index(drop=True),
        township_demand=td.reset_index(drop=True), rates=rates, attendance=attendance,
        share_model=share_model, backtest=bt, interval_factors=factors, base_year=base_year,
        scenario=scenario,
    )
