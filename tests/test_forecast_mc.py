"""Monte Carlo: determinism, quantile ordering, calibration, share-model hook, villages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import ForecastInputError, project_population
from forecasting.scenario import ForecastScenario
from forecasting.uncertainty import calibration_factors, quantiles

_SPEC = importlib.util.spec_from_file_location(
    "forecast_synthetic_region", Path(__file__).parent / "fixtures/forecast/synthetic_region.py")
region_fixture = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(region_fixture)

SCENARIO = ForecastScenario(tfr_path="medium", tfr_sd=0.05, urbanisation={"target": 0.55})


def _run(**kwargs):
    args = {"scenario": SCENARIO, "base_year": 2023, "horizon": 10, "draws": 60, "seed": 11}
    args.update(kwargs)
    return project_population(**region_fixture.make_region(), **args)


def test_same_seed_identical_tables_other_seed_differs():
    a, b, c = _run(), _run(), _run(seed=12)
    pd.testing.assert_frame_equal(a.intervals, b.intervals)
    pd.testing.assert_frame_equal(a.birth_intervals, b.birth_intervals)
    pd.testing.assert_frame_equal(a.townships, b.townships)
    assert not np.allclose(a.birth_intervals["p90"], c.birth_intervals["p90"])
    # the central projection does not depend on the draws
    pd.testing.assert_frame_equal(a.townships, c.townships)
    pd.testing.assert_frame_equal(a.townships, _run(draws=0).townships)


def test_quantile_ordering_and_growth_with_horizon():
    r = _run()
    iv = r.intervals
    assert (iv["p10"] <= iv["p50"] + 1e-9).all()
    assert (iv["p50"] <= iv["p90"] + 1e-9).all()
    assert (iv["p10"] >= 0).all()
    bi = r.birth_intervals
    assert ((bi["p10"] <= bi["p50"]) & (bi["p50"] <= bi["p90"])).all()
    width = (bi["p90"] - bi["p10"]).groupby(bi["year"]).sum()
    assert width.iloc[-1] > width.iloc[0]  # uncertainty grows with the horizon
    base = iv[iv["year"] == 2023]
    assert (base["p10"] == base["p90"]).all()  # the base year is known


def test_calibration_factor_scales_interval_widths():
    a = _run()
    b = _run(calibration=2.0)
    wa = a.birth_intervals["p90"] - a.birth_intervals["p50"]
    wb = b.birth_intervals["p90"] - b.birth_intervals["p50"]
    np.testing.assert_allclose(wb, 2.0 * wa, rtol=1e-9)
    np.testing.assert_allclose(a.birth_intervals["p50"], b.birth_intervals["p50"])


def test_calibration_factor_forms():
    assert calibration_factors(None, 2).tolist() == [1.0, 1.0, 1.0]
    assert calibration_factors(1.5, 2).tolist() == [1.0, 1.5, 1.5]
    assert calibration_factors(pd.Series({1: 1.1, 3: 1.4}), 4).tolist() == [1.0, 1.1, 1.1, 1.4, 1.4]
    with pytest.raises(ForecastInputError):
        calibration_factors([1.0, -1.0], 3)
    q = quantiles(np.random.default_rng(0).normal(size=(500, 3)))
    assert (q[0] <= q[1]).all()
    assert (q[1] <= q[2]).all()


def test_share_model_hook_replaces_distribution():
    def equal_shares(county_totals: pd.DataFrame, towns: pd.DataFrame) -> pd.DataFrame:
        keys = towns[["township_code", "county_code", "year"]].drop_duplicates()
        n = keys.groupby(["county_code", "year"])["township_code"].transform("count")
        return keys.assign(share=1.0 / n)[["township_code", "year", "share"]]

    default = _run(draws=20)
    hooked = _run(draws=20, share_model=equal_shares)
    t = hooked.townships.query("year == 2028 and age == 5").set_index("township_code")["population"]
    ct = default.townships.query("year == 2028 and age == 5").groupby("county_code")["population"].sum()
    assert t["510901002"] == pytest.approx(ct["510901"] / 3)
    assert t["510902001"] == pytest.approx(ct["510902"] / 2)
    assert (hooked.intervals["p10"] <= hooked.intervals["p90"]).all()

    def broken(county_totals: pd.DataFrame, towns: pd.DataFrame) -> pd.DataFrame:
        return equal_shares(county_totals, towns).assign(share=0.9)

    with pytest.raises(ForecastInputError, match="sum to"):
        _run(draws=0, share_model=broken)


def test_villages_add_up_to_townships():
    r = _run(draws=0, by_village=True)
    v = r.villages.groupby(["township_code", "year", "age"])["population"].sum()
    t = r.townships.set_index(["township_code", "year", "age"])["population"]
    np.testing.assert_allclose(v.reindex(t.index).to_numpy(), t.to_numpy(), rtol=1e-9)
    region = region_fixture.make_region()
    base = r.villages.query("year == 2023").set_index(["village_id", "age"])["population"]
    kids = region["children"].set_index(["village_id", "age"])["persons"]
    np.testing.assert_allclose(base.reindex(kids.index).to_numpy(), kids.to_numpy(float))


def test_bad_region_tables_are_named():
    region = region_fixture.make_region()
    region["children"].loc[5, "persons"] = -3
    with pytest.raises(ForecastInputError, match=r"children: village '510901001001', age 5"):
        project_population(**region, scenario=SCENARIO, base_year=2023)
    region = region_fixture.make_region()
    with pytest.raises(ForecastInputError, match="no births in 2024"):
        project_population(**region, scenario=SCENARIO, base_year=2024)
    region["children"] = region["children"].assign(village_id="999")
    with pytest.raises(ForecastInputError, match="village '999' is not in villages"):
        project_population(**region, scenario=SCENARIO, base_year=2023)


def test_share_model_object_with_predict_shifts_townships_keeps_counties():
    class GrowingSeat:  # like forecasting.shares.ShareModel: county-seat share +5 % a year
        def predict(self, years):
            rows = []
            for year in years:
                g = 1.05 ** (year - 2023)
                for code, s in (("510901001", 0.5 * g), ("510901002", 0.3), ("510901003", 0.2),
                                ("510902001", 0.6), ("510902002", 0.4)):
                    rows.append({"township_code": code, "year": year, "share": s})
            return pd.DataFrame(rows)

    default = _run(draws=0)
    hooked = _run(draws=0, share_model=GrowingSeat())
    key = ["county_code", "year", "age"]
    np.testing.assert_allclose(default.townships.groupby(key)["population"].sum(),
                               hooked.townships.groupby(key)["population"].sum(), rtol=1e-9)
    d = default.townships.set_index(["township_code", "year", "age"])["population"]
    h = hooked.townships.set_index(["township_code", "year", "age"])["population"]
    assert h["510901001", 2030, 8] > d["510901001", 2030, 8]
    assert h["510902001", 2030, 8] == pytest.approx(d["510902001", 2030, 8])
    assert h["510901001", 2023, 8] == pytest.approx(d["510901001", 2023, 8])
