"""Demand of the layout model: students per village and grade band.

The forecast (``forecasting``) provides the target-year table; until then
:func:`base_year_demand` derives the base-year demand from ``region.children``:

================  ==========  ======================================================
grade band        ages        students
================  ==========  ======================================================
kindergarten      3-5         persons x gross enrolment rate (default 0.9)
primary_lower     6-8         persons (grades 1-3, compulsory)
primary_upper     9-11        persons (grades 4-6)
junior            12-14       persons (grades 7-9)
senior            15-17       persons x senior gross rate 0.9 x general share 0.6
vocational        15-17       persons x senior gross rate 0.9 x (1 - general share)
================  ==========  ======================================================

Students are rounded to whole pupils (half to even, deterministic).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from layout.errors import LayoutError
from layout.plan.params import BAND_LEVEL, GRADE_BANDS, LayoutParams

DEMAND_COLUMNS = ("demand_id", "level", "grade_band", "students")

_BAND_AGES = {
    "kindergarten": (3, 5),
    "primary_lower": (6, 8),
    "primary_upper": (9, 11),
    "junior": (12, 14),
    "senior": (15, 17),
    "vocational": (15, 17),
}


def base_year_demand(region: Any, params: LayoutParams | None = None) -> pd.DataFrame:
    """Base-year demand per village and grade band from ``region.children``.

    Parameters
    ----------
    region : Region
        Needs ``children`` (village_id, age, persons).
    params : LayoutParams, optional
        Supplies the kindergarten gross rate, senior gross rate and general share.

    Returns
    -------
    DataFrame
        demand_id (= village_id), level, grade_band, students (int).

    """
    p = params or LayoutParams()
    ch = region.children
    factor = {
        "kindergarten": p.gross_rate_kindergarten,
        "primary_lower": 1.0,
        "primary_upper": 1.0,
        "junior": 1.0,
        "senior": p.senior_gross_rate * p.general_share_senior,
        "vocational": p.senior_gross_rate * (1.0 - p.general_share_senior),
    }
    parts = []
    for band in GRADE_BANDS:
        lo, hi = _BAND_AGES[band]
        sel = ch[(ch["age"] >= lo) & (ch["age"] <= hi)]
        s = sel.groupby("village_id", sort=True)["persons"].sum() * factor[band]
        parts.append(pd.DataFrame({
            "demand_id": s.index.astype(str), "level": BAND_LEVEL[band], "grade_band": band,
            "students": np.round(s.to_numpy(dtype=float)).astype(np.int64),
        }))
    return pd.concat(parts, ignore_index=True)


def check_demand(demand: pd.DataFrame) -> pd.DataFrame:
    """Validate and normalise a demand table (columns, bands, non-negative students)."""
    missing = [c for c in DEMAND_COLUMNS if c not in demand.columns]
    if missing:
        raise LayoutError(f"demand: missing column(s) {', '.join(missing)}")
    d = demand.loc[:, list(DEMAND_COLUMNS)].copy()
    d["demand_id"] = d["demand_id"].astype(str)
    d["grade_band"] = d["grade_band"].astype(str)
    bad = ~d["grade_band"].isin(GRADE_BANDS)
    if bad.any():
        row = d.loc[bad].iloc[0]
        raise LayoutError(
            f"demand, row {row['demand_id']}, column grade_band = {row['grade_band']!r}: "
            f"unknown grade band (one of {', '.join(GRADE_BANDS)})"
        )
    d["level"] = d["grade_band"].map(BAND_LEVEL)
    s = pd.to_numeric(d["students"], errors="coerce")
    bad = s.isna() | (s < 0)
    if bad.any():
        row = d.loc[bad].iloc[0]
        raise LayoutError(
            f"demand, row {row['demand_id']}, column students = {row['students']!r}: must be >= 0"
        )
    d["students"] = s.astype(float)
    return d.groupby(["demand_id", "level", "grade_band"], as_index=False, sort=True)[
        "students"
    ].sum()
