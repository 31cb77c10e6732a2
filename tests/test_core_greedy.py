"""Greedy warm start / fallback, the highspy back end and the pair-graph components."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import layout.core.facility as facility_mod
from layout.core import FacilityLocation, SolveStatus
from layout.core.backends import BackendResult
from layout.core.components import pair_components
from layout.core.formulation import formulate
from layout.core.greedy import greedy_plan, is_feasible


def _instance(seed: int, n: int = 40, m: int = 8):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(1, 100, (n, m))
    allowed = rng.random((n, m)) < 0.5
    allowed[np.arange(n), rng.integers(0, m, n)] = True
    demand = rng.integers(1, 20, n).astype(float)
    return {
        "cost": cost,
        "demand": demand,
        "allowed": allowed,
        "fixed_cost": rng.uniform(50, 300, m),
        "capacity": rng.uniform(40, 120, m),
        "single_source": True,
        "closed_cost": rng.uniform(0, 40, m),
        "min_load": np.full(m, 30.0),
        "min_load_exempt": rng.random(m) < 0.3,
        "expansion_block": np.full(m, 10.0),
        "expansion_cost": np.full(m, 15.0),
        "max_blocks": rng.integers(0, 4, m),
        "link_group": np.where(np.arange(m) < 2, 0, -1),
        "unserved_cost": demand * 50.0,
    }


def _model(kw):
    kw = dict(kw)
    return FacilityLocation.from_cost_matrix(kw.pop("cost"), kw.pop("demand"), **kw)


@pytest.mark.parametrize("seed", range(6))
def test_greedy_plan_is_feasible_and_not_better_than_the_optimum(seed):
    fl = _model(_instance(seed))
    mip = formulate(fl.data)
    v = greedy_plan(fl.data, mip, np.ones(fl.n_facilities, dtype=bool))
    assert v is not None
    assert is_feasible(mip, v)
    opt = fl.solve(time_limit=60, threads=1, gap=0).objective
    assert mip.obj @ v + mip.offset >= opt - 1e-6


def test_is_feasible_rejects_a_broken_plan():
    fl = _model(_instance(0))
    mip = formulate(fl.data)
    v = greedy_plan(fl.data, mip, np.ones(fl.n_facilities, dtype=bool))
    assert v is not None
    v[mip.u] = 0.0
    v[mip.x] = 0.0  # nobody served and nobody unserved: assignment rows violated
    assert not is_feasible(mip, v)


def test_fallback_plan_when_the_solver_finds_none(monkeypatch):
    kw = _instance(3)
    fl = _model(kw)

    def nothing(model, **_):
        return BackendResult(SolveStatus.NO_SOLUTION, None, float("nan"), 123.0, 0.0, 1)

    monkeypatch.setattr(facility_mod, "solve_mip", nothing)
    fl.solve(time_limit=1e-3, threads=1, solver="scip", hint=np.ones(fl.n_facilities, dtype=bool))
    assert fl.status is SolveStatus.FALLBACK
    assert fl.objective == pytest.approx(fl.greedy_objective)
    assert fl.gap == pytest.approx((fl.objective - 123.0) / fl.objective)
    # A real plan: every point served or explicitly unserved, loads within expanded capacity.
    assert ((fl.assignment >= 0) | (fl.unserved == 1)).all()
    room = kw["capacity"] + fl.blocks_added * kw["expansion_block"]
    assert (fl.load <= room + 1e-6).all()
    assert fl.open[fl.assignment[fl.assignment >= 0]].all()


def test_without_hint_no_solution_stays_no_solution(monkeypatch):
    fl = _model(_instance(1))
    monkeypatch.setattr(
        facility_mod,
        "solve_mip",
        lambda model, **_: BackendResult(
            SolveStatus.NO_SOLUTION, None, float("nan"), float("nan"), 0.0, 1
        ),
    )
    fl.solve(time_limit=1e-3, threads=1)
    assert fl.status is SolveStatus.NO_SOLUTION
    assert not fl.open.any()


def _brute(cost, demand, fixed, cap):
    n, m = cost.shape
    best = np.inf
    for assign in itertools.product(range(m), repeat=n):
        a = np.array(assign)
        load = np.bincount(a, weights=demand, minlength=m)
        if (load > cap).any():
            continue
        used = np.unique(a)
        best = min(best, cost[np.arange(n), a].sum() + fixed[used].sum())
    return best


@pytest.mark.parametrize("seed", range(4))
def test_highspy_backend_hits_brute_force_optimum(seed):
    rng = np.random.default_rng(100 + seed)
    n, m = 6, 3
    cost = rng.uniform(1, 50, (n, m))
    demand = rng.integers(1, 10, n).astype(float)
    fixed = rng.uniform(10, 60, m)
    cap = np.full(m, demand.sum() / 2 + 5)
    fl = FacilityLocation.from_cost_matrix(
        cost, demand, fixed_cost=fixed, capacity=cap, single_source=True
    )
    fl.solve(time_limit=30, threads=1, solver="highspy", gap=0, hint=np.ones(m, dtype=bool))
    assert fl.status is SolveStatus.OPTIMAL
    assert fl.objective == pytest.approx(_brute(cost, demand, fixed, cap), rel=1e-9)


def test_pair_components_follow_pairs_and_link_groups():
    # Row 1 uses facility 1, row 3 facility 3; 1 and 3 are one campus (link group 7).
    d, f = pair_components(
        [0, 1, 2, 3, 2], [0, 1, 2, 3, 4], 4, 6, link_group=[-1, 7, -1, 7, -1, -1]
    )
    assert d[1] == d[3] == f[1] == f[3]
    assert d[2] == f[2] == f[4]  # row 2 joins facilities 2 and 4
    assert len({d[0], d[1], d[2], f[5]}) == 4  # facility 5 (no pair) stands alone
    # Deterministic numbering: order of first appearance (demand points first).
    assert d.tolist() == [0, 1, 2, 1]
    assert f.tolist() == [0, 1, 2, 1, 2, 3]
