"""Fertility paths, schedule, calibration, and scenario ordering of projected births."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import TFR_PATHS, asfr_schedule, project_population, tfr_path
from forecasting.fertility import births_from_women, calibrate_scale
from forecasting.scenario import ForecastScenario

_SPEC = importlib.util.spec_from_file_location(
    "forecast_synthetic_region", Path(__file__).parent / "fixtures/forecast/synthetic_region.py"
)
region_fixture = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(region_fixture)


def test_named_paths_are_ordered_every_year():
    paths = {name: tfr_path(name, 15) for name in TFR_PATHS}
    assert set(paths) >= {"low", "medium", "high", "continued_decline"}
    assert (paths["continued_decline"] <= paths["low"] + 1e-12).all()
    assert (paths["low"] <= paths["medium"]).all()
    assert (paths["medium"] <= paths["high"]).all()
    assert paths["continued_decline"][-1] < paths["low"][-1]  # strictly lowest by the end
    assert paths["high"][11] == pytest.approx(1.3)


def test_target_and_explicit_paths():
    p = tfr_path("medium", 4, target=0.8, target_k=2)
    assert p.tolist() == pytest.approx([0.9, 0.8, 0.8, 0.8])
    assert tfr_path([1.1, 1.0, 0.9], 5).tolist() == [1.1, 1.0, 0.9, 0.9, 0.9]


def test_schedule_shape():
    s = asfr_schedule()
    assert s.index.min() == 15
    assert s.index.max() == 49
    assert s.sum() == pytest.approx(1.0)
    mean_age = float(((s.index.to_numpy() + 0.5) * s.to_numpy()).sum())
    assert 28.0 <= mean_age <= 29.0
    assert 25 <= int(s.idxmax()) <= 29


def test_births_from_women_by_hand():
    s = asfr_schedule().to_numpy()
    women = np.zeros((2, 35))
    women[0, 28 - 15] = 1000.0  # 1000 women aged 28
    women[1, :] = 10.0  # 10 women at each age
    got = births_from_women(women, 1.2, np.array([1.0, 0.5]))
    assert got[0] == pytest.approx(1.2 * 1000.0 * s[13])
    assert got[1] == pytest.approx(1.2 * 0.5 * 10.0)


def test_calibration_reproduces_base_births():
    women = pd.DataFrame(
        np.random.default_rng(0).uniform(50, 150, (3, 35)), index=list("abc"), columns=range(15, 50)
    )
    births = pd.Series({"a": 30.0, "b": 12.0, "c": 55.0})
    scale = calibrate_scale(births, women)
    model = births_from_women(women.to_numpy(), 1.0, scale.to_numpy())
    np.testing.assert_allclose(model, births.to_numpy())


def _births(path: str) -> pd.DataFrame:
    region = region_fixture.make_region()
    scenario = ForecastScenario(tfr_path=path)
    result = project_population(**region, scenario=scenario, base_year=2023, horizon=12, draws=0)
    proj = result.births[result.births["kind"] == "projected"]
    return proj.pivot_table(index="year", columns="county_code", values="births")


def test_scenario_ordering_of_births():
    low, med, high, cd = (_births(p) for p in ("low", "medium", "high", "continued_decline"))
    assert (low.to_numpy() <= med.to_numpy() + 1e-9).all()
    assert (med.to_numpy() <= high.to_numpy() + 1e-9).all()
    assert (cd.to_numpy() <= low.to_numpy() + 1e-9).all()
    assert (cd.iloc[-1] < low.iloc[-1]).all()
    assert (high.iloc[-1] > med.iloc[-1]).all()


def test_driver_reproduces_base_year_births_level():
    # with the medium path, year-1 births differ from base-year births only through the ageing
    # and migration of women (a few percent), not through a level error of the calibration
    region = region_fixture.make_region()
    res = project_population(**region, scenario=ForecastScenario(), base_year=2023, horizon=1)
    b = res.births.pivot_table(index="county_code", columns="year", values="births")
    ratio = b[2024] / b[2023]
    assert ((ratio > 0.9) & (ratio < 1.1)).all()


def test_driver_scale_reproduces_base_year_births_exactly():
    region = region_fixture.make_region()
    res = project_population(**region, scenario=ForecastScenario(), base_year=2023, horizon=1)
    women = (
        region["women"]
        .merge(region["villages"], on="village_id")
        .merge(region["townships"], on="township_code")
    )
    wide = women.pivot_table(index="county_code", columns="age", values="persons", aggfunc="sum")
    scale = res.parameters.set_index("county_code")["fertility_scale"].reindex(wide.index)
    model = births_from_women(wide.to_numpy(float), 1.0, scale.to_numpy())
    base = region["births_hist"].query("year == 2023").set_index("county_code")["births"]
    np.testing.assert_allclose(model, base.reindex(wide.index).to_numpy(float), rtol=1e-12)
