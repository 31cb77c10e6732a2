"""Urbanisation fit and projection, migration rates and within-county transfers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import ForecastInputError, fit_logistic, project_population
from forecasting.migration import overall_net_migration_rate, receiver_weights, transfer_counts
from forecasting.scenario import ForecastScenario, UrbanisationSettings
from forecasting.urbanisation import fit_counties, logistic, project_urban_share

_SPEC = importlib.util.spec_from_file_location(
    "forecast_synthetic_region", Path(__file__).parent / "fixtures/forecast/synthetic_region.py"
)
region_fixture = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(region_fixture)


@pytest.mark.parametrize(("upper", "rate", "mid"), [(0.7, 0.08, 2018.0), (0.8, 0.05, 2030.0)])
def test_logistic_fit_recovers_parameters(upper, rate, mid):
    years = np.arange(1995, 2024)
    noise = np.random.default_rng(1).normal(0, 0.002, years.size)
    fit = fit_logistic(years, logistic(years, upper, rate, mid) + noise)
    assert fit.upper == pytest.approx(upper, abs=0.03)
    assert fit.rate == pytest.approx(rate, rel=0.15)
    assert fit.midpoint == pytest.approx(mid, abs=2.0)


def test_logistic_fit_respects_bounds_and_rejects_bad_shares():
    years = np.arange(2010, 2024)
    fit = fit_logistic(years, np.linspace(0.40, 0.52, years.size))
    assert 0.54 - 1e-9 <= fit.upper <= 0.85 + 1e-9
    with pytest.raises(ForecastInputError, match=r"\(0, 1\)"):
        fit_logistic(years, np.linspace(0.4, 1.2, years.size))


def _fits():
    region = region_fixture.make_region()
    return fit_counties(region["urbanisation_hist"])


def test_projection_starts_at_data_rises_and_meets_target():
    fits = _fits()
    free = project_urban_share(fits, 2023, 12)
    np.testing.assert_allclose(free[:, 0], fits["base_share"])
    assert (np.diff(free, axis=1) > 0).all()
    assert (free < 0.99).all()
    fast = project_urban_share(fits, 2023, 12, speed=2.0)
    assert (fast[:, 1:] > free[:, 1:]).all()
    w = fits["population"].to_numpy() / fits["population"].sum()
    target = project_urban_share(fits, 2023, 12, target=0.6, target_year=2030)
    assert float(target[:, 7] @ w) == pytest.approx(0.6, abs=1e-6)
    draws = project_urban_share(
        fits, 2023, 12, target=np.array([0.55, 0.6, 0.65]), target_year=2030
    )
    assert draws.shape == (3, 2, 13)
    np.testing.assert_allclose(draws[:, :, 7] @ w, [0.55, 0.6, 0.65], atol=1e-6)


def test_overall_net_migration_rate_by_hand():
    u = pd.DataFrame(
        {"county_code": ["c"] * 3, "year": [2021, 2022, 2023], "population": [1000, 980, 950]}
    )
    b = pd.DataFrame({"county_code": ["c"] * 3, "year": [2021, 2022, 2023], "births": [10, 9, 8]})
    got = overall_net_migration_rate(u, b, crude_death_rate=0.01)
    r22 = (980 - 1000 - 9 + 0.01 * 1000) / 1000
    r23 = (950 - 980 - 8 + 0.01 * 980) / 980
    assert float(got["c"]) == pytest.approx((r22 + r23) / 2)
    with pytest.raises(ForecastInputError, match="no births for county 'c'"):
        overall_net_migration_rate(u, b.assign(county_code="d"))


def test_transfers_conserve_within_county():
    tw = pd.DataFrame(
        {
            "township_code": list("abcde"),
            "county_code": ["c1"] * 3 + ["c2"] * 2,
            "is_county_seat": [True, False, False, True, False],
            "is_central_town": [False, True, False, False, False],
            "urban": [True, False, False, True, False],
        }
    )
    sender, weights = receiver_weights(tw, pd.Series([1000.0, 500.0, 800.0, 700.0, 600.0]))
    assert sender.tolist() == [False, False, True, False, True]
    assert weights.tolist() == pytest.approx([2000 / 2500, 500 / 2500, 0, 1, 0])
    member = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1]], dtype=float)
    pop = np.random.default_rng(0).uniform(10, 50, (4, 5, 18))  # draws x areas x ages
    frac = np.array([[0.02, 0.05]] * 4)
    moves = transfer_counts(pop, sender, weights, member, frac, np.ones(18))
    np.testing.assert_allclose(np.einsum("dna,nc->dca", moves, member), 0.0, atol=1e-12)
    np.testing.assert_allclose(moves[:, 2], -0.02 * pop[:, 2])
    np.testing.assert_allclose(moves[:, 0], 0.02 * pop[:, 2] * 0.8)
    tw_bad = tw.assign(is_county_seat=False, is_central_town=False, urban=False)
    with pytest.raises(ForecastInputError, match="county 'c1' has no county seat"):
        receiver_weights(tw_bad, pd.Series([1.0] * 5))


def test_faster_urbanisation_moves_children_to_seat_but_keeps_county_totals():
    region = region_fixture.make_region()
    slow = ForecastScenario(urbanisation=UrbanisationSettings(target=0.5, target_year=2030))
    fast = ForecastScenario(urbanisation=UrbanisationSettings(target=0.65, target_year=2030))
    a = project_population(**region, scenario=slow, base_year=2023, horizon=8)
    b = project_population(**region, scenario=fast, base_year=2023, horizon=8)
    ca = a.townships.groupby(["county_code", "year"])["population"].sum()
    cb = b.townships.groupby(["county_code", "year"])["population"].sum()
    np.testing.assert_allclose(ca.to_numpy(), cb.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(a.births["births"], b.births["births"], rtol=1e-9)
    ta = a.townships.query("year == 2031").groupby("township_code")["population"].sum()
    tb = b.townships.query("year == 2031").groupby("township_code")["population"].sum()
    assert tb["510901001"] > ta["510901001"]  # county seat gains
    assert tb["510901003"] < ta["510901003"]  # rural township loses
