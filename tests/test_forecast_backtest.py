import numpy as np
import pandas as pd
import pytest

from forecasting.backtest import births_backtest, run_backtests
from forecasting.demand import grade_table

FAST = ("persistence",)  # births TS fits are tested once, in test_births_backtest_shapes


def _region(noise: float, seed: int = 0):
    """Two counties whose enrollment is an exact constant multiple of its cohort's births."""
    rng = np.random.default_rng(seed)
    gt = grade_table()
    births, schools, enr = [], [], []
    for c, b0 in (("510802", 3000.0), ("510811", 1500.0)):
        for y in range(1995, 2024):
            births.append((c, y, b0 * (1 - 0.02 * (y - 1995))))
        for t in range(1, 5):
            sid = f"{c}{t:03d}0"
            schools.append((sid, f"{c}{t:03d}"))
            share = 0.1 * t
            for y in range(2019, 2024):
                for g, a in zip(gt["grade"], gt["age"], strict=True):
                    b = b0 * (1 - 0.02 * (y - a - 1995))
                    value = share * b * (0.9 if g.startswith("V") else 1.0)
                    enr.append((sid, y, g, value * (1 + noise * rng.normal())))
    return (
        pd.DataFrame(enr, columns=["school_id", "year", "grade", "students"]),
        pd.DataFrame(schools, columns=["school_id", "township_code"]),
        pd.DataFrame(births, columns=["county_code", "year", "births"]),
    )


def test_exact_cohort_data_is_forecast_exactly_by_ratio_methods():
    enr, schools, births = _region(noise=0.0)
    r = run_backtests(enr, schools, births, births_methods=FAST, births_max_horizon=3)
    t = r.table.set_index(["method", "level", "horizon"])
    assert list(r.table.columns) == ["method", "level", "horizon", "n", "mape", "mdape", "malpe"]
    for method in ("grade_progression", "cohort_births_ratio"):
        for h in (1, 2, 3):  # births up to the origin cover every cohort needed
            assert t.loc[(method, "primary_lower", h), "mape"] < 1e-9
            assert t.loc[(method, "junior", h), "mape"] < 1e-9
    # Falling births: persistence over-forecasts, and more so further ahead.
    p = t.loc["persistence"].xs("primary_lower", level="level")
    assert (p["malpe"] > 0).all()
    assert p.loc[3, "mape"] > p.loc[1, "mape"]
    # Grade progression needs two years of history, so no 4-year horizon from origin 2019.
    assert set(r.table.loc[r.table["horizon"] == 4, "method"]) == {
        "persistence",
        "cohort_births_ratio",
    }


def test_coverage_is_measured_and_bounded():
    enr, schools, births = _region(noise=0.05, seed=1)
    r = run_backtests(enr, schools, births, births_methods=FAST)
    cov = r.coverage
    assert {"method", "horizon", "n", "nominal", "coverage", "below", "above"} <= set(cov.columns)
    assert cov["coverage"].between(0, 1).all()
    np.testing.assert_allclose(cov["coverage"] + cov["below"] + cov["above"], 1.0)
    np.testing.assert_allclose(cov["nominal"], 0.8)
    # Calibrated intervals are ordered and contain the point forecast.
    sample = r.errors.loc[r.errors["method"] == "grade_progression"].head(50)
    got = r.calibration.apply(sample)
    assert (got["p10"] <= got["p50"]).all()
    assert (got["p50"] <= got["p90"]).all()


def test_no_lookahead_future_enrollment_does_not_change_h1_forecasts():
    enr, schools, births = _region(noise=0.05, seed=2)
    r1 = run_backtests(enr, schools, births, births_methods=FAST)
    e1 = r1.errors.loc[r1.errors["origin"] == 2020]
    changed = enr.copy()
    changed.loc[changed["year"] == 2023, "students"] *= 3  # after origin 2020 + 2
    r2 = run_backtests(changed, schools, births, births_methods=FAST)
    e2 = r2.errors.loc[(r2.errors["origin"] == 2020) & (r2.errors["horizon"] < 3)]
    e1 = e1.loc[e1["horizon"] < 3]
    pd.testing.assert_series_equal(
        e1["forecast"].reset_index(drop=True), e2["forecast"].reset_index(drop=True)
    )


def test_births_backtest_shapes():
    _, _, births = _region(noise=0.0)
    b = births_backtest(births, min_train=24, max_horizon=3)
    assert set(b["method"]) == {"persistence", "ets", "arima"}
    assert b["horizon"].max() == 3
    assert b["origin"].min() == 1995 + 23  # first origin after 24 training years
    assert (b["year"] == b["origin"] + b["horizon"]).all()


def test_county_geography_and_bad_geography():
    enr, schools, births = _region(noise=0.0)
    r = run_backtests(enr, schools, births, geography="county", births_methods=FAST)
    assert set(r.errors["unit"]) == {"510802", "510811"}
    with pytest.raises(ValueError, match="geography"):
        run_backtests(enr, schools, births, geography="province")


def test_partial_band_is_not_scored():
    # Births start in 2008: the senior cohorts (born 2002-2008) are mostly unrecorded, so the
    # cohort method cannot forecast the whole senior band and must not score a partial sum.
    enr, schools, births = _region(noise=0.0)
    births = births.loc[births["year"] >= 2008]
    r = run_backtests(enr, schools, births, births_methods=FAST)
    e = r.errors
    senior = e.loc[(e["method"] == "cohort_births_ratio") & (e["level"] == "senior")]
    assert senior.empty or (senior["year"] - 17 >= 2008).all()
    assert "senior" in set(e.loc[e["method"] == "persistence", "level"])
    assert {"coverage", "nominal"} <= set(r.coverage_by_origin.columns)
