"""School-place demand by level and grade band from projected population by single age.

Ages map to grade bands as defined in :mod:`schoolsystem.vocabulary`: kindergarten 3-5 (K1-K3),
primary_lower 6-8 (G1-G3), primary_upper 9-11 (G4-G6), junior 12-14 (G7-G9), and the senior stage
15-17, split into general ``senior`` (G10-G12) and ``vocational`` (V1-V3). Demand of a band = residents of its ages times a
participation rate (gross enrolment rate for kindergarten, 1 for compulsory school, senior-stage
participation times the general / vocational split for ages 15-17).

Demand here is counted where children *live*. Where they go to school (cross-boundary attendance)
is :mod:`forecasting.attendance`; :mod:`forecasting.outlook` runs this at village level (the demand
points of the layout model) — the one demand path of the pipeline, benchmarks and tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecasting.errors import ForecastInputError
from forecasting.inputs import require_columns
from schoolsystem.schemas import QUANTILES
from schoolsystem.vocabulary import (
    BANDS,
    GRADE_AGE,
    GRADE_BAND,
    GRADE_BANDS,
    GRADE_LEVEL,
    GRADES,
    PARTICIPATION_DEFAULTS,
    Participation,
)

__all__ = ["GRADE_BANDS", "PARTICIPATION_DEFAULTS", "LevelRates", "band_ages", "compute_demand",
           "grade_table"]


def band_ages() -> pd.DataFrame:
    """One row per (grade_band, age): columns ``grade_band``, ``level``, ``age``."""
    rows = [(b.name, b.level, age) for b in BANDS.values() for age in b.ages]
    return pd.DataFrame(rows, columns=["grade_band", "level", "age"]).astype({"age": "int64"})


def grade_table() -> pd.DataFrame:
    """One row per grade code: columns ``grade``, ``age`` (typical), ``grade_band``, ``level``."""
    rows = [(g, GRADE_AGE[g], GRADE_BAND[g], GRADE_LEVEL[g]) for g in GRADES]
    return pd.DataFrame(rows, columns=["grade", "age", "grade_band", "level"]).astype(
        {"age": "int64"}
    )


@dataclass(frozen=True)
class LevelRates(Participation):
    """Participation rates by level, checked; defaults from :data:`PARTICIPATION_DEFAULTS`.

    Parameters
    ----------
    kindergarten : float
        Gross enrolment rate of ages 3-5.
    primary, junior : float
        Participation of ages 6-11 and 12-14 (compulsory: about 1).
    senior_stage : float
        Participation of ages 15-17 in the senior stage (general + vocational).
    vocational_share : float
        Share of the senior stage in secondary vocational school (0-1).

    """

    def __post_init__(self) -> None:
        """Check the values are plausible."""
        for name in ("kindergarten", "primary", "junior", "senior_stage"):
            value = getattr(self, name)
            if not (np.isfinite(value) and 0 <= value <= 2):
                raise ForecastInputError(f"rate {name} = {value!r} must be between 0 and 2")
        if not (0 <= self.vocational_share <= 1):
            raise ForecastInputError(
                f"rate vocational_share = {self.vocational_share!r} must be between 0 and 1"
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | Any) -> LevelRates:
        """Build from a mapping or an object (e.g. a pydantic scenario) with matching fields."""
        names = ("kindergarten", "primary", "junior", "senior_stage", "vocational_share")
        if isinstance(values, Mapping):
            got = {k: float(values[k]) for k in names if k in values}
        else:
            got = {k: float(getattr(values, k)) for k in names if hasattr(values, k)}
        return cls(**got)


def _area_column(df: pd.DataFrame, area_col: str | None) -> str:
    if area_col is not None:
        if area_col not in df.columns:
            raise ForecastInputError(f"population table lacks the area column {area_col!r}")
        return area_col
    for candidate in ("area", "township_code", "village_id", "county_code"):
        if candidate in df.columns:
            return candidate
    raise ForecastInputError(
        "population table needs an area column (area, township_code, village_id or county_code)"
    )


def _value_columns(df: pd.DataFrame, value: str) -> list[str]:
    cols = [value] + [q for q in QUANTILES if q in df.columns]
    return list(dict.fromkeys(cols))


def _with_rates(
    merged: pd.DataFrame,
    rates: LevelRates | pd.DataFrame | None,
    area: str,
    county_of: Mapping[str, str] | pd.Series | None,
) -> pd.DataFrame:
    """``merged`` (population by area, age and grade band) with the participation ``rate``."""
    if rates is None:
        rates = LevelRates()
    if isinstance(rates, LevelRates):
        return merged.assign(rate=merged["grade_band"].map(rates.band_rates()).astype(float))
    need_r = {"county_code", "grade_band", "rate"}
    if not need_r.issubset(rates.columns):
        raise ForecastInputError(f"rates table needs columns {sorted(need_r)}")
    if area == "county_code":
        merged["county_code"] = merged[area]
    else:
        if county_of is None:
            raise ForecastInputError("per-county rates need county_of (area -> county_code)")
        merged["county_code"] = merged[area].map(pd.Series(county_of).astype("str"))
    r = rates.loc[:, ["county_code", "grade_band", "rate"]].astype({"county_code": "str"})
    merged = merged.merge(r, on=["county_code", "grade_band"], how="left")
    lacking = merged["rate"].isna()
    if lacking.any():
        row = merged.loc[lacking].iloc[0]
        raise ForecastInputError(
            f"no rate for area {row[area]!s} (county {row['county_code']!s}), "
            f"grade band {row['grade_band']}"
        )
    return merged


def _band_totals(merged: pd.DataFrame, area: str, value: str, vals: list[str]) -> pd.DataFrame:
    """Sum demand over the ages of each band; with draws, mean and quantiles over the draws."""
    group = [area, "level", "grade_band", "year"]
    if "draw" in merged.columns:
        per_draw = merged.groupby([*group, "draw"], sort=True)[value].sum().reset_index()
        g = per_draw.groupby(group, sort=True)[value]
        out = g.mean().rename("demand").to_frame()
        for q in QUANTILES:
            out[q] = g.quantile(int(q[1:]) / 100.0)
        return out.reset_index()
    out = merged.groupby(group, sort=True)[vals].sum().reset_index()
    return out.rename(columns={value: "demand"})


def compute_demand(
    population: pd.DataFrame,
    rates: LevelRates | pd.DataFrame | None = None,
    *,
    area_col: str | None = None,
    value: str = "population",
    county_of: Mapping[str, str] | pd.Series | None = None,
) -> pd.DataFrame:
    """Demand by area, level, grade band and year.

    Parameters
    ----------
    population : pandas.DataFrame
        Columns: area (``area_col``), ``year``, ``age``, ``value``; optionally ``p10``, ``p50``,
        ``p90`` (quantiles of the population of that age) and/or ``draw`` (Monte Carlo draw id).
    rates : LevelRates or pandas.DataFrame, optional
        Scalar rates (default :class:`LevelRates`) or a table ``county_code, grade_band, rate``
        (e.g. :attr:`forecasting.attendance.AttendanceModel.rates`), which needs ``county_of``
        (area -> county code) unless the area column is ``county_code``.
    area_col : str, optional
        Area column; default the first of ``area``, ``township_code``, ``village_id``,
        ``county_code`` present.
    value : str
        Population column.
    county_of : mapping or Series, optional
        Area id -> county code, for per-county rates.

    Returns
    -------
    pandas.DataFrame
        ``area, level, grade_band, year, demand`` (float persons), plus ``p10, p50, p90`` when the
        input has them or has draws. With draws, quantiles are taken over the draws of the band
        total (exact); with only per-age quantile columns they are summed over ages, which assumes
        the ages move together (a conservative, wider band).

    """
    area = _area_column(population, area_col)
    require_columns(population, "population", [area, "year", "age", value])
    vals = _value_columns(population, value)
    bad = population[vals].lt(0).any(axis=1) | population[vals].isna().any(axis=1)
    if bad.any():
        row = population.loc[bad].iloc[0]
        raise ForecastInputError(
            f"population table, area {row[area]!s}, year {row['year']}, age {row['age']}: "
            f"negative or missing population {row[value]!r}"
        )
    keys = [area, "year", "age"] + (["draw"] if "draw" in population.columns else [])
    pop = population.loc[:, [*keys, *vals]].copy()
    pop[area] = pop[area].astype("str")
    pop["age"] = pop["age"].astype("int64")
    merged = pop.merge(band_ages(), on="age", how="inner")

    merged = _with_rates(merged, rates, area, county_of)
    for col in vals:
        merged[col] = merged[col].astype(float) * merged["rate"]

    out = _band_totals(merged, area, value, vals)
    out = out.rename(columns={area: "area"})
    order = {b: i for i, b in enumerate(GRADE_BANDS)}
    return out.sort_values(
        ["area", "year", "grade_band"], key=lambda s: s.map(order) if s.name == "grade_band" else s
    ).reset_index(drop=True)
