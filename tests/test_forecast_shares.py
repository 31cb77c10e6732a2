import numpy as np
import pandas as pd
import pytest

from forecasting.shares import fit_share_model


def _data(years=range(2014, 2024), signal=True, seed=1):
    rng = np.random.default_rng(seed)
    rows, towns = [], []
    for c in ("510802", "510811", "510812", "510821"):
        for t in range(8):
            code = f"{c}{t:03d}"
            seat = t == 0
            dist = 0.0 if seat else rng.uniform(5, 60)
            towns.append((code, c, seat, seat, rng.uniform(0.1, 0.3), dist))
            p0 = rng.uniform(5000, 30000) * (3 if seat else 1)
            g = (0.03 if seat else -0.0008 * dist) if signal else 0.0
            for y in years:
                rows.append((code, y, p0 * np.exp(g * (y - 2014)) * rng.normal(1, 0.003)))
    hist = pd.DataFrame(rows, columns=["township_code", "year", "population"])
    tw = pd.DataFrame(
        towns,
        columns=[
            "township_code",
            "county_code",
            "urban",
            "is_county_seat",
            "elderly_share",
            "dist_seat_km",
        ],
    )
    return hist, tw


def test_short_history_falls_back_and_says_so():
    hist, tw = _data(years=[2022, 2023])
    m = fit_share_model(hist, tw)
    assert m.method == "base_year"
    assert "< 3" in m.reason
    assert np.isnan(m.cv_score)
    s = m.predict([2023, 2030]).pivot(index="township_code", columns="year", values="share")
    np.testing.assert_allclose(s[2023], s[2030])


def test_learnable_trend_is_chosen_and_validated():
    hist, tw = _data()
    m = fit_share_model(hist, tw)
    assert m.method in {"ridge", "gradient_boosting"}
    assert m.cv_score < m.baseline_score
    assert set(m.candidates["method"]) == {"ridge", "gradient_boosting"}
    s = m.predict([2023, 2030])
    sums = s.groupby(["county_code", "year"])["share"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    wide = s.pivot(index="township_code", columns="year", values="share")
    assert wide.loc["510802000", 2030] > wide.loc["510802000", 2023]  # seat keeps growing


def test_split_sums_to_county_totals():
    hist, tw = _data()
    m = fit_share_model(hist, tw)
    county = pd.DataFrame(
        {"county_code": ["510802", "510811"], "year": [2026, 2026], "births": [1000.0, 400.0]}
    )
    out = m.split(county)
    got = out.groupby("county_code")["births"].sum()
    assert got["510802"] == pytest.approx(1000.0)
    assert got["510811"] == pytest.approx(400.0)


def test_distance_from_lon_lat():
    hist, tw = _data()
    tw = tw.drop(columns="dist_seat_km")
    tw["lon"] = 105.8 + np.arange(len(tw)) * 0.01
    tw["lat"] = 32.4
    m = fit_share_model(hist, tw)
    assert m.method in {"ridge", "gradient_boosting", "base_year"}
    assert np.isfinite(m.baseline_score)
