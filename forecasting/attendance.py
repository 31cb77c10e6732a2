"""Cross-boundary attendance: which township's schools a township's children attend.

Calibrated from the base year, per county and grade band:

1. residents ``R_A`` of the band's ages in each township A (from ``children``), enrolled pupils
   ``E_B`` in the schools of each township B (from ``enrollment`` and ``schools``);
2. participation rate ``rho = sum(E) / sum(R)`` of the county;
3. the *excess* ``X_B = E_B - rho * R_B``: townships with ``X_B > 0`` (typically the county seat
   and central towns) draw pupils from townships with a deficit ``D_A = -X_A > 0``;
4. a deficit township keeps ``E_A / (rho * R_A)`` of its pupils and sends the rest to the
   surplus townships in proportion to their excess; surplus townships keep all theirs.

The matrix is row-stochastic (each origin's shares sum to 1, so children are conserved) and
applied to the county's base-year resident demand reproduces the base-year enrollment of every
township exactly. It is carried forward unchanged (an assumption: attendance patterns persist).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.demand import band_ages, grade_table
from forecasting.errors import ForecastInputError
from forecasting.inputs import require_columns
from schoolsystem.schemas import QUANTILES


@dataclass(frozen=True)
class AttendanceModel:
    """Calibrated attendance.

    Attributes
    ----------
    year : int
        Calibration (base) year.
    rates : pandas.DataFrame
        ``county_code, grade_band, residents, enrolled, rate`` (rate = enrolled / residents; NaN
        replaced by 0 where a county has no residents of the band's ages).
    flows : pandas.DataFrame
        ``county_code, grade_band, origin, destination, share``; shares of each origin sum to 1.

    """

    year: int
    rates: pd.DataFrame
    flows: pd.DataFrame

    def apply(self, demand: pd.DataFrame) -> pd.DataFrame:
        """Move resident demand to the townships where the children attend school.

        Parameters
        ----------
        demand : pandas.DataFrame
            Township resident demand (``area, level, grade_band, year, demand`` and optional
            quantile columns), e.g. from :func:`forecasting.demand.compute_demand`.

        Returns
        -------
        pandas.DataFrame
            Same columns, ``area`` being the school township. Totals per county, band and year
            are unchanged. Townships absent from the calibration keep their own demand.

        """
        d = demand.copy()
        d["area"] = d["area"].astype("str")
        vals = [c for c in ("demand", *QUANTILES) if c in d.columns]
        f = self.flows.loc[:, ["grade_band", "origin", "destination", "share"]]
        m = d.merge(
            f, left_on=["grade_band", "area"], right_on=["grade_band", "origin"], how="left"
        )
        stay = m["share"].isna()
        m.loc[stay, "destination"] = m.loc[stay, "area"]
        m["share"] = m["share"].fillna(1.0)
        for col in vals:
            m[col] = m[col] * m["share"]
        return (
            m.groupby(["destination", "level", "grade_band", "year"], sort=True)[vals]
            .sum()
            .reset_index()
            .rename(columns={"destination": "area"})
        )


def resident_children(
    children: pd.DataFrame, villages: pd.DataFrame, *, county_of: pd.Series | None = None
) -> pd.DataFrame:
    """Residents of each grade band's ages per township: ``county_code, township_code, grade_band, residents``."""
    vil = villages.loc[:, ["village_id", "township_code"]].astype("str")
    kids = children.loc[:, ["village_id", "age", "persons"]].copy()
    kids["village_id"] = kids["village_id"].astype("str")
    kids["age"] = kids["age"].astype("int64")
    res = (
        kids.merge(vil, on="village_id", how="inner")
        .merge(band_ages(), on="age")
        .groupby(["township_code", "grade_band"], sort=True)["persons"]
        .sum()
        .rename("residents")
        .reset_index()
    )
    res["county_code"] = _county(res["township_code"], county_of)
    return res


_KEYS = ("county_code", "grade_band")


def _county(township: pd.Series, county_of: pd.Series | None) -> pd.Series:
    if county_of is None:
        return township.astype("str").str.slice(0, 6)
    return township.astype("str").map(county_of.astype("str"))


def _enrolled_by_band(enrollment: pd.DataFrame, schools: pd.DataFrame, yr: int) -> pd.DataFrame:
    """Enrollment of year ``yr``: ``township_code, grade_band, enrolled`` (school townships)."""
    enr = enrollment.loc[enrollment["year"] == yr, ["school_id", "grade", "students"]].copy()
    if enr.empty:
        raise ForecastInputError(f"enrollment has no rows for year {yr}")
    enr["school_id"] = enr["school_id"].astype("str")
    sch = schools.loc[:, ["school_id", "township_code"]].astype("str")
    enr = enr.merge(sch, on="school_id", how="left")
    if enr["township_code"].isna().any():
        bad = enr.loc[enr["township_code"].isna(), "school_id"].iloc[0]
        raise ForecastInputError(f"enrollment.csv, school_id {bad}: school not in schools table")
    gt = grade_table()
    enr = enr.merge(gt.loc[:, ["grade", "grade_band"]], on="grade", how="left")
    if enr["grade_band"].isna().any():
        bad = enr.loc[enr["grade_band"].isna(), "grade"].iloc[0]
        raise ForecastInputError(f"enrollment.csv, column grade: unknown grade code {bad!r}")
    return (
        enr.groupby(["township_code", "grade_band"])["students"]
        .sum()
        .rename("enrolled")
        .reset_index()
    )


def _participation(tab: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Participation rate per county and band; ``tab`` with rate, expected, surplus and stay.

    Parameters
    ----------
    tab : pandas.DataFrame
        ``township_code, county_code, grade_band, residents, enrolled``.

    Returns
    -------
    rates : pandas.DataFrame
        ``county_code, grade_band, residents, enrolled, rate``.
    tab : pandas.DataFrame
        ``tab`` plus ``rate, expected, excess, surplus, surplus_total, stay``.

    """
    keys = list(_KEYS)
    rates = tab.groupby(keys, sort=True)[["residents", "enrolled"]].sum().reset_index()
    rates["rate"] = np.where(
        rates["residents"] > 0,
        rates["enrolled"] / rates["residents"].where(rates["residents"] > 0, 1),
        0.0,
    )
    tab = tab.merge(rates.loc[:, [*keys, "rate"]], on=keys)
    tab["expected"] = tab["rate"] * tab["residents"]
    tab["excess"] = tab["enrolled"] - tab["expected"]
    tab["surplus"] = tab["excess"].clip(lower=0.0)
    tab["surplus_total"] = tab.groupby(keys)["surplus"].transform("sum")
    deficit = tab["excess"] < 0
    # Stay share: deficit townships keep what they enrol, surplus townships keep all.
    tab["stay"] = np.where(
        deficit, tab["enrolled"] / tab["expected"].where(tab["expected"] > 0, 1.0), 1.0
    )
    tab["stay"] = tab["stay"].clip(0.0, 1.0)
    return rates, tab


def _attendance_flows(tab: pd.DataFrame, county_of: pd.Series | None) -> pd.DataFrame:
    """Flows ``county_code, grade_band, origin, destination, share`` from :func:`_participation`.

    Deficit townships send ``1 - stay`` of their residents to the surplus townships of their
    county in proportion to the surplus; shares of each origin sum to 1.
    """
    keys = list(_KEYS)
    deficit = tab["excess"] < 0
    stay = tab.loc[:, [*keys, "township_code", "stay"]].rename(columns={"stay": "share"})
    stay["origin"] = stay["township_code"]
    stay["destination"] = stay["township_code"]
    origins = tab.loc[deficit, [*keys, "township_code", "stay"]].rename(
        columns={"township_code": "origin"}
    )
    dests = tab.loc[
        tab["surplus"] > 0, [*keys, "township_code", "surplus", "surplus_total"]
    ].rename(columns={"township_code": "destination"})
    move = origins.merge(dests, on=keys, how="inner")
    move["share"] = (1.0 - move["stay"]) * move["surplus"] / move["surplus_total"]
    cols = [*keys, "origin", "destination", "share"]
    flows = pd.concat([stay.loc[:, cols], move.loc[:, cols]], ignore_index=True)
    flows = flows.loc[flows["share"] > 0].sort_values(cols[:4]).reset_index(drop=True)
    # Origins whose every share is zero (no surplus destination in the county): keep at home.
    totals = flows.groupby(["grade_band", "origin"])["share"].sum()
    short = totals[totals < 1 - 1e-9]
    if not short.empty:
        fix = short.reset_index()
        fix["destination"] = fix["origin"]
        fix["share"] = 1.0 - fix["share"]
        fix["county_code"] = _county(fix["origin"], county_of)
        flows = (
            pd.concat([flows, fix.loc[:, cols]], ignore_index=True)
            .groupby(cols[:4], sort=True)["share"]
            .sum()
            .reset_index()
        )
    return flows


def calibrate_attendance(
    enrollment: pd.DataFrame,
    schools: pd.DataFrame,
    children: pd.DataFrame,
    villages: pd.DataFrame,
    *,
    year: int | None = None,
    townships: pd.DataFrame | None = None,
) -> AttendanceModel:
    """Calibrate the attendance matrix and participation rates from base-year enrollment.

    Parameters
    ----------
    enrollment : pandas.DataFrame
        ``school_id, year, grade, students``.
    schools : pandas.DataFrame
        ``school_id, township_code``.
    children : pandas.DataFrame
        Base-year residents ``village_id, age, persons``.
    villages : pandas.DataFrame
        ``village_id, township_code``.
    year : int, optional
        Calibration year; default the last enrollment year.
    townships : pandas.DataFrame, optional
        ``township_code, county_code``; default: county = first 6 digits of the township code.

    Returns
    -------
    AttendanceModel

    """
    require_columns(enrollment, "enrollment", ["school_id", "year", "grade", "students"])
    require_columns(schools, "schools", ["school_id", "township_code"])
    county_of = None
    if townships is not None:
        county_of = pd.Series(
            townships["county_code"].astype("str").to_numpy(),
            index=townships["township_code"].astype("str").to_numpy(),
        )
    yr = int(enrollment["year"].max()) if year is None else int(year)
    enrolled = _enrolled_by_band(enrollment, schools, yr)
    res = resident_children(children, villages, county_of=county_of)
    tab = res.merge(enrolled, on=["township_code", "grade_band"], how="outer")
    tab["county_code"] = _county(tab["township_code"], county_of)
    tab["residents"] = tab["residents"].fillna(0.0).astype(float)
    tab["enrolled"] = tab["enrolled"].fillna(0.0).astype(float)
    rates, tab = _participation(tab)
    flows = _attendance_flows(tab, county_of)
    return AttendanceModel(year=yr, rates=rates, flows=flows)
