"""Demand of the layout model: students per demand point (village) and grade band.

The demand comes from the forecast, on one path for the pipeline, the benchmarks and the tests:
:func:`layout.pipeline.demand_for_year` turns :attr:`forecasting.RegionOutlook.village_demand`
into rows of :data:`schoolsystem.schemas.DEMAND_COLUMNS`; :func:`check_demand` validates any
demand table handed to the model.
"""

from __future__ import annotations

import pandas as pd

from layout.errors import LayoutError
from schoolsystem.schemas import DEMAND_COLUMNS, missing_columns
from schoolsystem.vocabulary import BAND_LEVEL, GRADE_BANDS


def check_demand(demand: pd.DataFrame) -> pd.DataFrame:
    """Validate and normalise a demand table (columns, bands, non-negative students).

    Returns the rows summed per ``demand_id, level, grade_band`` (``level`` re-derived from the
    band), sorted.
    """
    missing = missing_columns(demand.columns, DEMAND_COLUMNS)
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
    d["level"] = d["grade_band"].map(dict(BAND_LEVEL))
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
