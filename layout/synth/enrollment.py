"""Synthetic enrollment by school, year and grade, following the resident cohorts.

Students of grade ``g`` in year ``y`` come from the cohort born in ``y - age(g)`` of each
township (county births x survival x net child migration, split across townships as the
base-year stock is). Urban children attend county-seat schools; rural children attend local
schools, except a share that enrolls in the county seat (cross-boundary attendance). Junior
pupils of rural units without a junior school go to the nearest junior-level school of the
county; senior pupils are pooled per county and vocational students over the city.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layout.synth.calibration import (
    BASE_YEAR,
    COUNTIES,
    CROSS_TO_SEAT,
    ENROLLMENT_YEARS,
    KINDERGARTEN_RATE,
    SENIOR_GENERAL_RATE,
    VOCATIONAL_RATE,
)
from layout.synth.population import CHILD_AGES, expected_cohort
from schoolsystem.vocabulary import BANDS, GRADE_AGE, GRADE_LEVEL, LEVELS

# The generator's own enrollment groups: unlike the vocabulary's grade bands, its lower primary
# group takes grades 1-4, the grades a synthetic teaching point may host
# (SCHOOL_TYPE_GRADE_LIMITS). group -> (grades, ages, rate)
_GROUP_GRADES = {
    "kindergarten": BANDS["kindergarten"].grades,
    "primary_lower": (*BANDS["primary_lower"].grades, "G4"),
    "primary_upper": ("G5", "G6"),
    "junior": BANDS["junior"].grades,
    "senior": BANDS["senior"].grades,
    "vocational": BANDS["vocational"].grades,
}
_GROUP_RATE = {"kindergarten": KINDERGARTEN_RATE, "primary_lower": 1.0, "primary_upper": 1.0,
               "junior": 0.99, "senior": SENIOR_GENERAL_RATE, "vocational": VOCATIONAL_RATE}
ENROLLMENT_GROUPS: dict[str, tuple[list[str], list[int], float]] = {
    group: (list(grades), [GRADE_AGE[g] for g in grades], _GROUP_RATE[group])
    for group, grades in _GROUP_GRADES.items()
}


def cohort_demand(townships: pd.DataFrame, children_tw: pd.DataFrame,
                  births: pd.DataFrame) -> np.ndarray:
    """Expected resident children per township, enrollment year and age 0-17.

    Parameters
    ----------
    townships : pandas.DataFrame
        ``township_code``, ``county_code`` (sorted by code).
    children_tw : pandas.DataFrame
        Base-year children per township (rows) and age (columns 0..17).
    births : pandas.DataFrame
        County births 2000-base year.

    Returns
    -------
    numpy.ndarray
        Shape (townships, years, 18).

    """
    stock = children_tw.loc[townships["township_code"]].to_numpy(float)
    county = townships["county_code"].to_numpy()
    out = np.zeros((len(townships), len(ENROLLMENT_YEARS), len(CHILD_AGES)))
    for spec in COUNTIES:
        sel = county == spec.code
        share = stock[sel] / np.maximum(stock[sel].sum(axis=0), 1.0)
        for j, year in enumerate(ENROLLMENT_YEARS):
            out[sel, j, :] = share * expected_cohort(births, spec.code, int(year), CHILD_AGES)
    return out


def _hosts(schools: pd.DataFrame, band: str) -> np.ndarray:
    st = schools["school_type"]
    if band == "kindergarten":
        return (st == "kindergarten").to_numpy()
    if band == "primary_lower":
        return st.isin(["primary", "village_primary", "teaching_point", "nine_year"]).to_numpy()
    if band == "primary_upper":
        return (st.isin(["primary", "nine_year"]) | ((st == "village_primary")
                                                      & schools["full_grades"])).to_numpy()
    if band == "junior":
        return st.isin(["junior", "nine_year", "complete_secondary"]).to_numpy()
    if band == "senior":
        return st.isin(["senior", "complete_secondary"]).to_numpy()
    return (st == "vocational").to_numpy()


def allocation(townships: pd.DataFrame, centres: pd.DataFrame, schools: pd.DataFrame,
               band: str) -> np.ndarray:
    """Row-stochastic matrix (townships x schools): where each township's pupils enroll.

    Parameters
    ----------
    townships : pandas.DataFrame
        Township attributes (sorted by code).
    centres : pandas.DataFrame
        Township seats (``x``, ``y`` in EPSG:4544), aligned with ``townships``.
    schools : pandas.DataFrame
        Output of :func:`layout.synth.schools.place_schools`.
    band : str
        A key of :data:`ENROLLMENT_GROUPS`.

    Returns
    -------
    numpy.ndarray
        Shape (townships, schools); each row sums to 1.

    """
    host = _hosts(schools, band)
    w = schools["weight"].to_numpy() * host
    st = schools["school_type"].to_numpy()
    if band.startswith("primary"):
        w = w * np.select([st == "village_primary", st == "teaching_point", st == "nine_year"],
                          [0.07, 0.035, 0.4], 1.0)
    s_town = schools["township_code"].to_numpy()
    s_county = schools["county_code"].to_numpy()
    s_seat = schools["seat"].to_numpy()
    t_code = townships["township_code"].to_numpy()
    t_county = townships["county_code"].to_numpy()
    t_urban = townships["urban"].to_numpy()
    same_county = t_county[:, None] == s_county[None, :]
    if band == "vocational":
        size = schools["voc_size"].fillna(0).to_numpy()
        m = np.broadcast_to(size * host, (len(t_code), len(st))).astype(float)
        return m / m.sum(axis=1, keepdims=True)
    if band == "senior":
        m = same_county * w * np.where(s_seat, 1.6, 0.8)
        return m / m.sum(axis=1, keepdims=True)
    seat_pool = same_county * (s_seat * w)
    seat_pool = seat_pool / seat_pool.sum(axis=1, keepdims=True)
    local = (t_code[:, None] == s_town[None, :]) * w
    missing = local.sum(axis=1) == 0
    if missing.any():  # nearest non-seat school of the band in the county
        dx = centres["x"].to_numpy()[:, None] - schools["x"].to_numpy()[None, :]
        dy = centres["y"].to_numpy()[:, None] - schools["y"].to_numpy()[None, :]
        d = np.where(same_county & host & ~s_seat, np.hypot(dx, dy), np.inf)
        nearest = np.argmin(d, axis=1)
        has = np.isfinite(d[np.arange(len(d)), nearest])
        fill = np.zeros_like(local)
        fill[np.arange(len(d)), nearest] = 1.0
        local = np.where((missing & has)[:, None], fill, local)
        local = np.where((missing & ~has)[:, None], seat_pool, local)
    local = local / local.sum(axis=1, keepdims=True)
    cross = CROSS_TO_SEAT["primary" if band.startswith("primary") else band]
    rural = (1 - cross) * local + cross * seat_pool
    return np.where(t_urban[:, None], seat_pool, rural)


def build_enrollment(townships: pd.DataFrame, centres: pd.DataFrame, schools: pd.DataFrame,
                     demand: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Enrollment by school, year (2019-base year) and grade, Poisson around the expectation.

    Parameters
    ----------
    townships, centres : pandas.DataFrame
        Township attributes and seats.
    schools : pandas.DataFrame
        Placed schools.
    demand : numpy.ndarray
        Output of :func:`cohort_demand`.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        ``school_id, year, grade, students`` for every grade of every level a school hosts.

    """
    frames = []
    for band, (grades, ages, rate) in ENROLLMENT_GROUPS.items():
        m = allocation(townships, centres, schools, band)
        host = np.flatnonzero(_hosts(schools, band))
        # expected[s, y, g] = sum_t demand[t, y, age(g)] * rate * m[t, s]
        expected = np.einsum("tya,ts->sya", demand[:, :, ages] * rate, m[:, host])
        students = rng.poisson(expected)
        n_y, n_g = len(ENROLLMENT_YEARS), len(grades)
        frames.append(pd.DataFrame({
            "school_id": np.repeat(schools["school_id"].to_numpy()[host], n_y * n_g),
            "year": np.tile(np.repeat(ENROLLMENT_YEARS, n_g), len(host)),
            "grade": np.tile(grades, len(host) * n_y),
            "students": students.ravel(),
        }))
    enr = pd.concat(frames, ignore_index=True)
    order = {g: i for i, g in enumerate(
        ["K1", "K2", "K3", *[f"G{i}" for i in range(1, 13)], "V1", "V2", "V3"])}
    enr = enr.assign(_g=enr["grade"].map(order)).sort_values(["school_id", "year", "_g"])
    return enr.drop(columns="_g").reset_index(drop=True)


def base_year_by_level(enrollment: pd.DataFrame) -> pd.DataFrame:
    """Base-year students per school and level (wide: one column per level).

    Parameters
    ----------
    enrollment : pandas.DataFrame
        Output of :func:`build_enrollment`.

    Returns
    -------
    pandas.DataFrame
        Index school_id; columns kindergarten, primary, primary_upper, junior, senior,
        vocational.

    """
    e = enrollment.loc[enrollment["year"] == BASE_YEAR]
    g = e["grade"]
    level = g.map(dict(GRADE_LEVEL)).to_numpy()
    wide = e.assign(level=level).pivot_table(index="school_id", columns="level",
                                             values="students", aggfunc="sum", fill_value=0)
    upper = e.loc[g.isin(BANDS["primary_upper"].grades)].groupby("school_id")["students"].sum()
    wide["primary_upper"] = upper.reindex(wide.index).fillna(0).astype(int)
    for col in LEVELS:
        if col not in wide:
            wide[col] = 0
    return wide
