"""The shipped scenarios on the embedded (SYNTHETIC) Guangyuan region, read with pandas only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import load_forecast_scenario, project_population

ROOT = Path(__file__).resolve().parents[1]
REGION = ROOT / "data/geo/guangyuan"
IDS = dict.fromkeys(("village_id", "township_code", "county_code"), str)

pytestmark = pytest.mark.skipif(not (REGION / "women.csv").exists(),
                                reason="embedded region data not generated yet")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(REGION / name, comment="#", dtype=IDS)

    features = json.loads((REGION / "townships.geojson").read_text(encoding="utf-8"))["features"]
    townships = pd.DataFrame([f["properties"] for f in features]).astype({"township_code": str,
                                                                           "county_code": str})
    return {"children": read("children.csv"), "women": read("women.csv"),
            "births_hist": read("births.csv"), "urbanisation_hist": read("urbanisation.csv"),
            "villages": read("villages.csv"), "townships": townships}


@pytest.fixture(scope="module")
def births(tables) -> pd.DataFrame:
    out = {}
    for name in ("baseline", "low_births", "fast_urbanisation", "continued_decline"):
        sc = load_forecast_scenario(ROOT / "scenarios" / f"{name}.yaml")
        res = project_population(**tables, scenario=sc, base_year=2023, horizon=12, draws=0)
        proj = res.births[res.births["kind"] == "projected"]
        out[name] = proj.groupby("year")["births"].sum()
    return pd.DataFrame(out)


def test_region_projection_is_consistent(tables):
    sc = load_forecast_scenario(ROOT / "scenarios/baseline.yaml")
    res = project_population(**tables, scenario=sc, base_year=2023, horizon=12, draws=0)
    base = res.townships[res.townships["year"] == 2023]["population"].sum()
    assert base == pytest.approx(tables["children"]["persons"].sum())
    assert set(res.townships["township_code"]) == set(tables["townships"]["township_code"])
    assert (res.townships["population"] >= 0).all()
    assert res.births["year"].max() == 2035
    assert np.isfinite(res.births["births"]).all()


def test_region_scenario_ordering(births):
    assert (births["low_births"] <= births["baseline"] + 1e-6).all()
    assert (births["continued_decline"] <= births["low_births"] + 1e-6).all()
    # urbanisation moves people within counties: county births are unchanged
    np.testing.assert_allclose(births["fast_urbanisation"], births["baseline"], rtol=1e-9)
    print("\nprojected births, SYNTHETIC Guangyuan region:\n" + births.round(0).to_string())
