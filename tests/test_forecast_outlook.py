"""forecasting.outlook on the small SYNTHETIC fixture region: continuity, intervals, totals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import forecast_region
from forecasting.demand import grade_table
from forecasting.scenario import ForecastScenario
from layout.region import load_region

TINY = Path(__file__).parent / "fixtures" / "region" / "tiny"


def _run(**scenario: object):
    r = load_region(TINY)
    sc = ForecastScenario.model_validate({"draws": 40, "horizon": 6, "seed": 3,
                                          "target_year": 2027, **scenario})
    out = forecast_region(
        children=r.children, women=r.women, births=r.births, urbanisation=r.urbanisation,
        villages=r.villages, townships=r.townships, township_history=r.township_history,
        enrollment=r.enrollment, schools=r.schools, scenario=sc, base_year=r.base_year,
        projected_crs=r.projected_crs)
    return r, out


@pytest.fixture(scope="module")
def tiny():
    return _run()


def test_base_year_demand_reproduces_recorded_enrollment(tiny) -> None:
    r, out = tiny
    enr = r.enrollment[r.enrollment["year"] == r.base_year].merge(grade_table(), on="grade")
    recorded = enr.groupby("grade_band")["students"].sum()
    base = out.township_demand[out.township_demand["year"] == r.base_year]
    forecast = base.groupby("grade_band")["demand"].sum()
    pd.testing.assert_series_equal(forecast.reindex(recorded.index), recorded.astype(float),
                                   check_names=False, rtol=1e-9)


def test_intervals_are_ordered_and_widen(tiny) -> None:
    _, out = tiny
    td = out.township_demand
    assert (td["p10"] <= td["p50"] + 1e-9).all()
    assert (td["p50"] <= td["p90"] + 1e-9).all()
    rel = (td["p90"] - td["p10"]) / td["p50"].where(td["p50"] > 0)
    by_year = rel.groupby(td["year"]).mean()
    assert by_year.iloc[-1] > by_year.iloc[1] > 0


def test_villages_sum_to_townships(tiny) -> None:
    _, out = tiny
    v = out.village_demand.groupby(["township_code", "grade_band", "year"])["demand"].sum()
    t = out.township_demand.set_index(["township_code", "grade_band", "year"])["demand"]
    np.testing.assert_allclose(v.reindex(t.index).to_numpy(), t.to_numpy(), rtol=1e-9)


def test_attendance_moves_pupils_but_keeps_county_totals(tiny) -> None:
    _, out = tiny
    td = out.township_demand
    g = td.groupby(["county_code", "grade_band", "year"])[["demand", "attending"]].sum()
    np.testing.assert_allclose(g["attending"], g["demand"], rtol=1e-9)


def test_scenario_vocational_share_reached_by_target_year() -> None:
    _, out = _run(vocational_share=0.5)
    td = out.township_demand
    stage = td[td["grade_band"].isin(["senior", "vocational"])]
    at = stage[stage["year"] == 2027].groupby("grade_band")["demand"].sum()
    assert at["vocational"] / at.sum() == pytest.approx(0.5, rel=1e-9)
    base = stage[stage["year"] == 2023].groupby("grade_band")["demand"].sum()
    assert base["vocational"] / base.sum() != pytest.approx(0.5, abs=0.01)
