import pandas as pd
import pytest

from forecasting.baselines import (
    cohort_births_ratio,
    forecast_births,
    grade_progression,
    persistence,
)
from forecasting.errors import ForecastInputError

ENR = pd.DataFrame(
    [
        ("c1", 2020, "G1", 100),
        ("c1", 2020, "G2", 80),
        ("c1", 2020, "G3", 70),
        ("c1", 2021, "G1", 110),
        ("c1", 2021, "G2", 90),
        ("c1", 2021, "G3", 76),
        ("c1", 2022, "G1", 999),  # after the origin: must be ignored
        ("c1", 2022, "G2", 999),
    ],
    columns=["unit", "year", "grade", "students"],
)
BIRTHS = pd.DataFrame(
    {"county_code": "c1", "year": [2014, 2015, 2016, 2017], "births": [100, 105, 110, 120]}
)


def _get(f, grade, year):
    return f.loc[(f["grade"] == grade) & (f["year"] == year), "forecast"].item()


def test_grade_progression_hand_computed():
    f = grade_progression(ENR, 2021, [1, 2], births=BIRTHS, n_years=3)
    entry = (100 + 110) / (100 + 105)  # G1 / births six years earlier, ratio of sums
    assert _get(f, "G1", 2022) == pytest.approx(entry * 110)
    assert _get(f, "G2", 2022) == pytest.approx(90 / 100 * 110)  # R(G2) = 90/100
    assert _get(f, "G3", 2022) == pytest.approx(76 / 80 * 90)  # R(G3) = 76/80
    assert _get(f, "G1", 2023) == pytest.approx(entry * 120)
    assert _get(f, "G2", 2023) == pytest.approx(0.9 * entry * 110)
    assert _get(f, "G3", 2023) == pytest.approx(0.95 * 0.9 * 110)
    assert set(f["horizon"]) == {1, 2}


def test_grade_progression_without_births_holds_entry_grade():
    f = grade_progression(ENR, 2021, [1], births=None)
    assert _get(f, "G1", 2022) == 110


def test_level_entry_grade_uses_county_previous_grade():
    # Unit a hosts G6 only, unit b hosts G7 only, same county.
    enr = pd.DataFrame(
        [
            ("a", 2020, "G6", 50),
            ("a", 2021, "G6", 60),
            ("b", 2021, "G7", 45),
            ("b", 2020, "G7", 40),
        ],
        columns=["unit", "year", "grade", "students"],
    )
    county = pd.Series({"a": "c1", "b": "c1"})
    f = grade_progression(enr, 2021, [1], unit_county=county)
    got = f.set_index(["unit", "grade"])["forecast"]
    assert got[("b", "G7")] == pytest.approx(45 / 50 * 60)
    assert got[("a", "G7")] == 0


def test_grade_progression_needs_two_years():
    with pytest.raises(ForecastInputError, match="at least 2 years"):
        grade_progression(ENR, 2020, [1])


def test_persistence_is_origin_value_and_ignores_later_years():
    f = persistence(ENR, 2021, [1, 3])
    assert _get(f, "G2", 2022) == 90
    assert _get(f, "G3", 2024) == 76
    assert set(f["horizon"]) == {1, 3}


def test_cohort_births_ratio_hand_computed_and_no_lookahead():
    f = cohort_births_ratio(ENR, 2021, [1], births=BIRTHS)
    # G2 (age 7): cohorts of 2020 and 2021 were born 2013 (not recorded) and 2014 (100), so
    # only 2021 gives a ratio, 90 / 100; G2 in 2022 was born in 2015 (105).
    assert _get(f, "G2", 2022) == pytest.approx(90 / 100 * 105)
    # Births after the origin must not be used: changing them changes nothing.
    later = pd.concat(
        [BIRTHS, pd.DataFrame({"county_code": ["c1"], "year": [2022], "births": [1]})]
    )
    g = cohort_births_ratio(ENR, 2021, [1], births=later)
    pd.testing.assert_frame_equal(f, g)
    # Grades whose cohorts were born before the first births year have no forecast.
    assert pd.isna(_get(f, "G12", 2022))


def test_forecast_births_methods():
    s = pd.Series([100.0, 98, 95, 93, 90, 88, 85, 83], index=range(2010, 2018))
    assert forecast_births(s, 3, "persistence").tolist() == [83.0, 83.0, 83.0]
    for method in ("ets", "arima"):
        fc = forecast_births(s, 3, method)
        assert fc.shape == (3,)
        assert fc[0] < 83.0  # a declining series keeps declining
    with pytest.raises(ForecastInputError, match="unknown"):
        forecast_births(s, 3, "magic")
