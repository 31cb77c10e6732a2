"""Cohort-component engine: accounting, a hand-computed example, shifting, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import ForecastInputError, project_cohorts
from forecasting.cohort import iter_project
from forecasting.lifetable import birth_survival, life_expectancy, survival

AGES = list(range(18))


def _random_inputs(seed: int, n_area: int = 4, years: int = 5):
    rng = np.random.default_rng(seed)
    areas = [f"a{i}" for i in range(n_area)]
    base = pd.DataFrame(rng.integers(0, 200, (n_area, 18)).astype(float), index=areas, columns=AGES)
    births = pd.DataFrame(
        rng.integers(0, 90, (n_area, years)).astype(float),
        index=areas,
        columns=range(2024, 2024 + years),
    )
    surv = pd.DataFrame(rng.uniform(0.9, 1.0, (n_area, 18)), index=areas, columns=AGES)
    idx = pd.MultiIndex.from_product([areas, range(2024, 2024 + years)])
    mig = pd.DataFrame(rng.uniform(-0.1, 0.08, (len(idx), 18)), index=idx, columns=AGES)
    return base, births, surv, mig


@pytest.mark.parametrize("open_top", [True, False])
def test_accounting_identity_per_area_and_year(open_top):
    base, births, surv, mig = _random_inputs(1)
    base.attrs["year"] = 2023
    pop, comp = project_cohorts(
        base, births, 5, survival=surv, net_migration=mig, open_top=open_top, return_components=True
    )
    assert len(comp) == 4 * 5
    lhs = comp["start"] + comp["births"] - comp["deaths"] + comp["net_migration"] - comp["aged_out"]
    np.testing.assert_allclose(lhs, comp["end"], rtol=1e-12, atol=1e-9)
    # the components are not trivial: deaths and migration happen, ageing out only if closed
    assert (comp["deaths"] > 0).all()
    assert (comp["net_migration"] != 0).all()
    assert (comp["aged_out"] > 0).all() != open_top
    # start of each year equals the end of the previous year, and matches the population table
    totals = pop.groupby(["area", "year"])["population"].sum()
    ends = comp.set_index(["area", "year"])["end"]
    np.testing.assert_allclose(totals.loc[ends.index], ends, rtol=1e-12)
    starts = comp.set_index(["area", "year"])["start"]
    prev = totals.loc[[(a, y - 1) for a, y in starts.index]].to_numpy()
    np.testing.assert_allclose(prev, starts.to_numpy(), rtol=1e-12)


def test_hand_computed_three_areas_three_years():
    # base[i][a] = (i + 1) * (a + 1); births B[i][t] = 10 * (i + 1) + t (t = 1, 2, 3)
    areas = ["x", "y", "z"]
    base = pd.DataFrame(
        [[(i + 1) * (a + 1) for a in AGES] for i in range(3)],
        index=areas,
        columns=AGES,
        dtype=float,
    )
    births = pd.DataFrame(
        [[10 * (i + 1) + t for t in (1, 2, 3)] for i in range(3)],
        index=areas,
        columns=[2021, 2022, 2023],
        dtype=float,
    )
    # survival 1/2 at age 0, 1 elsewhere; net migration +1/4 at age 1 only, otherwise none
    surv = pd.Series([0.5] + [1.0] * 17, index=AGES)
    mig = pd.Series([0.0, 0.25] + [0.0] * 16, index=AGES)
    pop = project_cohorts(
        base, births, 3, base_year=2020, survival=surv, net_migration=mig, birth_survival=1.0
    )
    got = pop.set_index(["area", "year", "age"])["population"].sort_index()
    for i, area in enumerate(areas):
        b = [None, 10 * (i + 1) + 1, 10 * (i + 1) + 2, 10 * (i + 1) + 3]
        p0 = [(i + 1) * (a + 1) for a in AGES]
        # year 1
        y1 = [b[1], p0[0] * 0.5 * 1.25] + [p0[a - 1] for a in range(2, 17)] + [p0[16] + p0[17]]
        # year 2
        y2 = (
            [b[2], b[1] * 0.5 * 1.25, y1[1]] + [y1[a - 1] for a in range(3, 17)] + [y1[16] + y1[17]]
        )
        # year 3
        y3 = (
            [b[3], b[2] * 0.5 * 1.25, y2[1], y2[2]]
            + [y2[a - 1] for a in range(4, 17)]
            + [y2[16] + y2[17]]
        )
        for year, expected in ((2021, y1), (2022, y2), (2023, y3)):
            assert got.loc[area, year].tolist() == pytest.approx(expected, abs=1e-12), (area, year)
    # spot check one number fully by hand: area y (i=1), 2023, age 2 = base age 0 * 0.5 * 1.25
    assert got.loc["y", 2023, 3] == pytest.approx(2 * 1 * 0.5 * 1.25)


def test_full_survival_no_migration_shifts_ages():
    base, births, _, _ = _random_inputs(2, years=4)
    full = pd.Series(1.0, index=AGES)
    pop = project_cohorts(base, births, 4, base_year=2023, survival=full, open_top=False)
    cube = pop.set_index(["area", "year", "age"])["population"].sort_index()
    for k in range(1, 5):
        for area in base.index:
            row = cube.loc[area, 2023 + k].to_numpy()
            np.testing.assert_array_equal(row[k:], base.loc[area].to_numpy()[: 18 - k])
            expected_young = [births.loc[area, 2023 + k - a] for a in range(k)]
            np.testing.assert_array_equal(row[:k], expected_young)


def test_default_life_table_is_used_and_plausible():
    assert 77.0 < life_expectancy() < 79.0
    p = survival()
    assert p.index[0] == 0
    assert p.index[-1] == 100
    assert (np.diff(p.to_numpy()[30:]) < 0).all()  # mortality rises with age after 30
    base = pd.DataFrame([[100.0] * 18], index=["a"], columns=AGES)
    births = pd.DataFrame({2024: [50.0]}, index=["a"])
    pop = project_cohorts(base, births, 1, base_year=2023)
    y = pop[pop.year == 2024].set_index("age")["population"]
    assert y[0] == pytest.approx(50.0 * birth_survival())
    assert y[1] == pytest.approx(100.0 * p[0])
    assert y[17] == pytest.approx(100.0 * p[16] + 100.0 * p[17])


def test_draws_axis_matches_separate_runs():
    rng = np.random.default_rng(3)
    base = rng.uniform(0, 50, (3, 5, 18))  # draws x areas x ages
    births = rng.uniform(0, 20, (4, 3, 5))  # years x draws x areas
    rates = rng.uniform(-0.05, 0.05, (4, 3, 1, 18))
    surv = rng.uniform(0.95, 1.0, 18)
    joint = [p for _, p, _ in iter_project(base, births, surv, 0.99, rates)]
    for d in range(3):
        alone = [p for _, p, _ in iter_project(base[d], births[:, d], surv, 0.99, rates[:, d])]
        for a, b in zip(joint, alone, strict=True):
            np.testing.assert_allclose(a[d], b, rtol=1e-13)


def _set(frame: pd.DataFrame, column: int, values: list[float]) -> pd.DataFrame:
    out = frame.copy()
    out[column] = values
    return out


def _ok():
    base = pd.DataFrame([[10.0] * 18, [5.0] * 18], index=["a1", "a2"], columns=AGES)
    births = pd.DataFrame({2024: [3.0, 2.0], 2025: [3.0, 2.0]}, index=["a1", "a2"])
    return base, births


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (lambda b, bi: (_set(b, 7, [10.0, -1.0]), bi), r"area 'a2', age 7: count is negative"),
        (lambda b, bi: (_set(b, 3, [np.nan, 1.0]), bi), r"area 'a1', age 3: count is missing"),
        (lambda b, bi: (b.drop(columns=[7]), bi), r"age column 7 is missing"),
        (lambda b, bi: (b, bi.drop(columns=[2025])), r"year 2025 is missing"),
        (
            lambda b, bi: (b, _set(bi, 2024, [np.nan, 1.0])),
            r"area 'a1', year 2024: count is missing",
        ),
        (
            lambda b, bi: (b, pd.concat([bi, bi.iloc[[0]].rename(index={"a1": "a3"})])),
            r"area 'a3' is not in base",
        ),
        (lambda b, bi: (b.drop(columns=[17]), bi), r"top age 16 < 17"),
    ],
)
def test_bad_engine_input(mutate, pattern):
    base, births = mutate(*_ok())
    with pytest.raises(ForecastInputError, match=pattern):
        project_cohorts(base, births, 2, base_year=2023)


def test_bad_survival_migration_and_base_year():
    base, births = _ok()
    bad = pd.Series([1.0] * 18, index=AGES)
    bad[5] = 1.2
    with pytest.raises(ForecastInputError, match=r"survival: area 'a1', age 5: 1.2 is outside"):
        project_cohorts(base, births, 2, base_year=2023, survival=bad)
    with pytest.raises(ForecastInputError, match="age 9 is missing"):
        project_cohorts(base, births, 2, base_year=2023, survival=bad.drop(9))
    mig = pd.DataFrame([[0.0] * 18, [0.0] * 18], index=["a1", "a2"], columns=AGES)
    mig.loc["a2", 4] = -1.5
    with pytest.raises(ForecastInputError, match=r"area 'a2', age 4"):
        project_cohorts(base, births, 2, base_year=2023, net_migration=mig)
    with pytest.raises(ForecastInputError, match="base year unknown"):
        project_cohorts(base, births, 2)
    base.attrs["year"] = 2022
    with pytest.raises(ForecastInputError, match="disagrees"):
        project_cohorts(base, births, 2, base_year=2023)
    with pytest.raises(ForecastInputError, match="no births for area 'a2'"):
        project_cohorts(base, births.drop(index="a2"), 2)
    # base.attrs year is honoured: births must then cover 2023..2024
    with pytest.raises(ForecastInputError, match="year 2023 is missing"):
        project_cohorts(base, births, 2)


def test_reused_buffers_give_the_same_stocks():
    rng = np.random.default_rng(4)
    base = rng.uniform(0, 50, (2, 3, 18)).astype(np.float32)
    births = rng.uniform(0, 20, (5, 2, 3)).astype(np.float32)
    surv = np.full(18, 0.99, dtype=np.float32)
    fresh = [p.copy() for _, p, _ in iter_project(base, births, surv, 1.0, -0.01)]
    reused = [p.copy() for _, p, _ in iter_project(base, births, surv, 1.0, -0.01,
                                                   reuse_buffers=True)]
    for a, b in zip(fresh, reused, strict=True):
        np.testing.assert_array_equal(a, b)
    assert fresh[-1].dtype == np.float32


@pytest.mark.parametrize("module", ["cohort", "lifetable", "fertility", "urbanisation",
                                    "migration", "uncertainty", "scenario"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"forecasting.{module}"),
                             optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
