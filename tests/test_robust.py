"""Robust staged plan: a first stage common to every scenario, regrets (tiny SYNTHETIC region).

The scenarios share the tiny region's forecast up to the first milestone and then diverge
(demand x1, x0.4, x2 from the second milestone on), so their own first stages differ and the
candidates are re-solved under the other scenarios.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from layout.core import MultiPeriodLocation
from layout.core.errors import CoreInputError
from layout.pipeline import demand_for_year, forecast_stage
from layout.plan.planner import _solve_all
from layout.plan.robust import (
    CITY,
    RobustError,
    RobustPlan,
    RobustScenario,
    first_stage_of,
    fixed_subs,
    fixings,
    plan_robust,
    same_first,
)
from layout.plan.staged import prepare_staged, solve_staged, stage_demand
from layout.plan.staged_model import county_cost
from layout.region import load_region
from layout.robust_run import decision_shares
from layout.scenario import load_scenario

FIX = Path(__file__).parent / "fixtures"
YEARS = [2025, 2027, 2030, 2035]
FACTORS = {"mid": 1.0, "low": 0.4, "high": 2.0}


@pytest.fixture(scope="module")
def inputs() -> tuple[object, list[RobustScenario]]:
    sc = load_scenario(FIX / "scenarios" / "tiny.yaml")
    sc = dataclasses.replace(sc, target_year=2030,
                             layout=sc.layout.model_copy(update={"milestones": YEARS}))
    region = load_region(FIX / "region" / "tiny")
    outlook = forecast_stage(region, sc, draws=30, backtest=False)
    base = {y: demand_for_year(outlook, y) for y in YEARS}
    scen = [RobustScenario(name, {y: d.assign(students=d["students"] * (1.0 if y == YEARS[0]
                                                                         else f))
                                  for y, d in base.items()}, sc.layout, 2030, sc.seed)
            for name, f in FACTORS.items()]
    return region, scen


@pytest.fixture(scope="module")
def robust(inputs: tuple[object, list[RobustScenario]]) -> RobustPlan:
    region, scen = inputs
    return plan_robust(scen, region, time_limit=10, threads=1)


def _tol(cost: pd.Series | float, gap: float = 0.02) -> pd.Series | float:
    """What the MIP gap allows a cost to be off by."""
    return gap * np.abs(cost) + 1.0


def test_robust_first_stage_identical_across_scenarios(robust: RobustPlan) -> None:
    firsts = list(robust.robust_first.values())
    assert all(same_first(firsts[0], f) for f in firsts[1:])
    shares = decision_shares(robust.plans, robust.robust_first).set_index("decisions")
    assert shares.loc["first_stage", "share"] == 1.0
    # the scenarios' own first stages differ: the candidates were really imposed and re-solved
    own = decision_shares(robust.plans, robust.own_first).set_index("decisions")
    assert own.loc["first_stage", "share"] < 1.0
    assert robust.candidates.groupby("county_code")["candidate"].nunique().max() > 1
    # the plans' tables agree: permanent seats of every school at the first milestone
    caps = [p.schools.loc[p.schools["level"] != "vocational"].set_index(["school_id", "level"])
            [f"capacity_{YEARS[0]}"].sort_index() for p in robust.plans.values()]
    for c in caps[1:]:
        pd.testing.assert_series_equal(c, caps[0], check_names=False)
    chosen = robust.first_stage
    assert set(chosen["chosen_from"]) <= set(FACTORS)


def test_later_decisions_stay_per_scenario(robust: RobustPlan) -> None:
    shares = decision_shares(robust.plans, robust.robust_first).set_index("decisions")
    assert shares.loc["horizon", "share"] < 1.0
    for name, plan in robust.plans.items():
        assert plan.milestones == YEARS, name
        assert {f"capacity_{y}" for y in YEARS} <= set(plan.schools.columns)


def test_regrets_are_nonnegative_and_add_up(robust: RobustPlan) -> None:
    r = robust.regret
    assert (r["regret"] >= -_tol(r["own_cost"])).all()
    assert (r["own_cost"] <= r["own_solve_cost"]).all()  # the best plan found for each
    assert np.allclose(r["regret"], r["robust_cost"] - r["own_cost"])
    per = r[r["county_code"] != CITY].groupby("scenario")[["own_cost", "robust_cost"]].sum()
    city = r[r["county_code"] == CITY].set_index("scenario")[["own_cost", "robust_cost"]]
    pd.testing.assert_frame_equal(per.loc[city.index], city, check_names=False)
    assert list(r.loc[r["county_code"] == CITY, "scenario"]) == list(FACTORS)


def test_the_chosen_candidate_has_the_least_maximum_regret(robust: RobustPlan) -> None:
    t = robust.candidates
    worst = t.groupby(["county_code", "candidate"])["regret"].max()
    picked = t[t["picked"]].groupby("county_code")["candidate"].unique()
    for county, ks in picked.items():
        assert len(ks) == 1, county  # one candidate for every scenario
        assert worst[county, ks[0]] <= worst[county].min() + 1e-6


def test_robust_plans_cost_what_the_regret_table_says(robust: RobustPlan) -> None:
    r = robust.regret[robust.regret["county_code"] != CITY]
    for name, plan in robust.plans.items():
        sr = plan.solver_records.groupby("county_code")["objective"].sum()
        mine = r[r["scenario"] == name].set_index("county_code")["robust_cost"]
        assert np.allclose(sr.loc[mine.index], mine, rtol=1e-9), name


def test_own_first_stage_fixed_reproduces_the_own_cost(
        inputs: tuple[object, list[RobustScenario]]) -> None:
    region, scen = inputs
    s = scen[0]
    run = prepare_staged(region, s.demand_by_year, s.params, target_year=2030, seed=s.seed)
    solve_staged(run, time_limit=10, threads=1)
    for cm, own in zip(run.models, run.subs, strict=True):
        own_cost = county_cost(cm, own, run.periods, run.params)
        frame = first_stage_of(cm, own, len(YEARS))
        first = fixings(cm, frame)
        subs, todo = fixed_subs(run, cm, own, first, reuse=False)
        assert len(todo) == len(own)  # every part re-solved with the first stage fixed
        _solve_all(todo, run.params, 10, 1, s.seed)
        assert all(np.array_equal(t.model.open_[0], o.model.open_[0])
                   and np.array_equal(t.blocks[0], o.blocks[0])
                   for t, o in zip(todo, own, strict=True))
        assert abs(county_cost(cm, subs, run.periods, run.params, first) - own_cost) <= _tol(own_cost)


def test_different_milestones_are_a_named_error(
        inputs: tuple[object, list[RobustScenario]]) -> None:
    region, scen = inputs
    other = RobustScenario("other", {y: d for y, d in scen[0].demand_by_year.items()
                                     if y != 2027}, scen[0].params, 2030)
    with pytest.raises(RobustError, match="milestones differ"):
        plan_robust([scen[0], other], region)
    with pytest.raises(RobustError, match="at least two"):
        plan_robust(scen[:1], region)


def test_envelope_gives_every_scenario_the_same_model(
        inputs: tuple[object, list[RobustScenario]]) -> None:
    region, scen = inputs
    env = pd.concat([stage_demand(s.demand_by_year) for s in scen])
    runs = [prepare_staged(region, s.demand_by_year, s.params, target_year=2030,
                           envelope=env[["demand_id", "level", "grade_band", "students"]])
            for s in scen]
    for a, b in zip(runs[0].models, runs[-1].models, strict=True):
        assert a.facilities["fac_id"].tolist() == b.facilities["fac_id"].tolist()
        assert a.demand["demand_id"].tolist() == b.demand["demand_id"].tolist()
        assert not a.demand["s1"].equals(b.demand["s1"])  # each keeps its own demand


# --- core: cumulative blocks fixed per period --------------------------------------------------

ROWS, COLS = np.array([0, 0, 1, 1]), np.array([0, 2, 1, 2])
DEMAND = np.array([[30.0, 20.0], [45.0, 20.0], [30.0, 20.0]])
PAIR_COST = np.array([DEMAND[:, 0], 2 * DEMAND[:, 0], DEMAND[:, 1], 2 * DEMAND[:, 1]]).T
KW = {"existing": [True, True, False], "fixed_cost": [50.0, 50.0, 200.0],
      "capacity": [35.0, 30.0, 60.0], "expansion_block": 10.0, "expansion_cost": 100.0,
      "max_blocks": 2, "temp_cost": 3.0, "temp_max": [20.0, 0.0, 0.0]}


def _mp(**extra: object) -> MultiPeriodLocation:
    return MultiPeriodLocation.from_pairs(ROWS, COLS, PAIR_COST, DEMAND, 3, **KW, **extra)


def test_fix_blocks_fixes_the_cumulative_blocks() -> None:
    free = _mp().solve()
    assert int(free.blocks.sum()) == 0
    fb = np.full((3, 3), -1)
    fb[0, 0] = 1
    mp = _mp(fix_blocks=fb).solve()
    assert mp.blocks[:, 0].tolist() == [1, 1, 1]  # built in period 0, never removed
    assert mp.objective == pytest.approx(free.objective + 100.0 - 30.0)  # no temporary seats
    same = _mp(fix_blocks=np.where(np.arange(3)[:, None] == 0, free.blocks, -1)).solve()
    assert same.objective == pytest.approx(free.objective)


@pytest.mark.parametrize(("fix", "message"), [
    ([[3, -1, -1]] * 3, "more than max_blocks"),
    ([[1, -1, -1], [0, -1, -1], [-1, -1, -1]], "earlier period"),
    ([[0.5, -1, -1]] * 3, "whole number"),
    ([[-2, -1, -1]] * 3, "whole number"),
    (np.zeros((2, 3)), "expected shape"),
])
def test_fix_blocks_bad_input_is_named(fix: object, message: str) -> None:
    with pytest.raises(CoreInputError, match=message):
        _mp(fix_blocks=fix)
