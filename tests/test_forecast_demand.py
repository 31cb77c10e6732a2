import numpy as np
import pandas as pd
import pytest

from forecasting.demand import LevelRates, compute_demand
from forecasting.errors import ForecastInputError
from schoolsystem.vocabulary import GRADE_BANDS


def _pop(ages_counts, area="510802001", year=2025):
    return pd.DataFrame(
        {
            "township_code": area,
            "year": year,
            "age": list(ages_counts),
            "population": list(ages_counts.values()),
        }
    )


def test_only_seven_year_olds_give_primary_lower_only():
    pop = _pop({a: (40.0 if a == 7 else 0.0) for a in range(18)})
    d = compute_demand(pop, LevelRates())
    positive = d.loc[d["demand"] > 0]
    assert positive["grade_band"].tolist() == ["primary_lower"]
    assert positive["level"].tolist() == ["primary"]
    assert positive["demand"].item() == pytest.approx(40.0)


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (3, "kindergarten"),
        (5, "kindergarten"),
        (6, "primary_lower"),
        (8, "primary_lower"),
        (9, "primary_upper"),
        (11, "primary_upper"),
        (12, "junior"),
        (14, "junior"),
    ],
)
def test_age_band_boundaries(age, band):
    d = compute_demand(_pop({age: 10.0}), LevelRates(kindergarten=1.0))
    assert d.loc[d["demand"] > 0, "grade_band"].tolist() == [band]


def test_senior_stage_split_and_young_children_ignored():
    rates = LevelRates(senior_stage=0.9, vocational_share=0.4)
    d = compute_demand(_pop({16: 100.0, 1: 500.0}), rates).set_index("grade_band")["demand"]
    assert d["senior"] == pytest.approx(100 * 0.9 * 0.6)
    assert d["vocational"] == pytest.approx(100 * 0.9 * 0.4)
    assert set(d.index) == {"senior", "vocational"}  # age 1 maps to no band


def test_kindergarten_rate_applied():
    d = compute_demand(_pop({4: 100.0}), LevelRates(kindergarten=0.85))
    assert d["demand"].item() == pytest.approx(85.0)


def test_per_county_rates_table():
    rates = pd.DataFrame({"county_code": "510802", "grade_band": list(GRADE_BANDS), "rate": 0.5})
    d = compute_demand(_pop({7: 40.0}), rates, county_of={"510802001": "510802"})
    assert d["demand"].item() == pytest.approx(20.0)
    with pytest.raises(ForecastInputError, match="county_of"):
        compute_demand(_pop({7: 40.0}), rates)


def test_draws_give_quantiles_of_band_total():
    rng = np.random.default_rng(3)
    rows = []
    for draw in range(200):
        for age in (6, 7, 8):
            rows.append(("510802001", 2030, age, draw, rng.uniform(10, 20)))
    pop = pd.DataFrame(rows, columns=["township_code", "year", "age", "draw", "population"])
    d = compute_demand(pop).set_index("grade_band")
    totals = pop.groupby("draw")["population"].sum()
    assert d.loc["primary_lower", "p10"] == pytest.approx(totals.quantile(0.1))
    assert d.loc["primary_lower", "p90"] == pytest.approx(totals.quantile(0.9))
    assert (
        d.loc["primary_lower", "p10"]
        < d.loc["primary_lower", "p50"]
        < d.loc["primary_lower", "p90"]
    )


def test_negative_population_rejected_with_location():
    with pytest.raises(ForecastInputError, match=r"510802001.*age 7"):
        compute_demand(_pop({7: -1.0}))
