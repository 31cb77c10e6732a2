"""Exact fast path for p-median / uncapacitated facility location vs brute force and the full MIP."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from layout.core import FacilityLocation, SolveStatus
from layout.core.inputs import build
from layout.core.interchange import local_search
from layout.core.pmedian import is_simple, solve_simple


def _instance(seed: int, n: int, m: int, integer: bool = True):
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)), rng.random((m, 2))
    w = rng.integers(1, 5, size=n).astype(float)
    cost = np.linalg.norm(a[:, None] - b[None], axis=2) * w[:, None]
    if integer:
        cost = np.round(cost * 10)  # many ties
    return cost, w


def _brute(cost: np.ndarray, fixed: np.ndarray, p: int | None) -> float:
    m = cost.shape[1]
    sizes = [p] if p is not None else range(1, m + 1)
    best = np.inf
    for k in sizes:
        for s in itertools.combinations(range(m), k):
            idx = list(s)
            best = min(best, cost[:, idx].min(axis=1).sum() + fixed[idx].sum())
    return best


@pytest.mark.parametrize("seed", range(6))
def test_pmedian_matches_brute_force(seed: int) -> None:
    cost, w = _instance(seed, 14, 7)
    for p in (1, 2, 3, 5):
        fl = FacilityLocation.from_cost_matrix(cost, w, p=p).solve(threads=1, gap=0)
        assert fl.method == "radius"
        assert fl.status == SolveStatus.OPTIMAL
        assert fl.objective == pytest.approx(_brute(cost, np.zeros(7), p))
        assert fl.open.sum() == p
        # The stored plan is the one costed: each point at its nearest open facility.
        assert cost[np.arange(14), fl.assignment].sum() == pytest.approx(fl.objective)
        assert fl.open[fl.assignment].all()


@pytest.mark.parametrize("seed", range(6))
def test_uflp_matches_brute_force(seed: int) -> None:
    cost, w = _instance(100 + seed, 12, 8, integer=seed % 2 == 0)
    fixed = np.random.default_rng(seed).uniform(0.5, 8.0, 8)
    fl = FacilityLocation.from_cost_matrix(cost, w, fixed_cost=fixed).solve(threads=1, gap=0)
    assert fl.method == "nearest-pairs"
    assert fl.objective == pytest.approx(_brute(cost, fixed, None))
    assert fl.bound == pytest.approx(fl.objective, rel=1e-6)


@pytest.mark.parametrize("solver", ["highspy", "scip"])
@pytest.mark.parametrize("seed", range(4))
def test_growth_rounds_match_full_model(seed: int, solver: str) -> None:
    """Start from one pair per point so restricted models must grow; compare with one full MIP."""
    rng = np.random.default_rng(seed)
    cost, w = _instance(200 + seed, 60, 25)
    allowed = rng.random(cost.shape) < 0.7
    allowed[np.arange(60), rng.integers(0, 25, 60)] = True
    fixed = rng.uniform(0, 30, 25) if seed % 2 else None
    p = None if seed % 2 else 4
    kw = {"fixed_cost": fixed, "p": p, "allowed": allowed}
    full = FacilityLocation.from_cost_matrix(cost, w, **kw).solve(threads=1, gap=0,
                                                                  method="direct", solver="scip")
    fl = FacilityLocation.from_cost_matrix(cost, w, **kw)
    assert is_simple(fl.data)
    res = solve_simple(fl.data, time_limit=60, solver=solver, threads=1, seed=0, gap=0,
                       initial_k=0, heuristic_share=0.0)
    assert res.status == full.status
    if full.status == SolveStatus.OPTIMAL:
        assert res.objective == pytest.approx(full.objective, rel=1e-7)
        assert res.bound <= res.objective + 1e-6
    assert res.rounds >= 1


def test_pmedian_pair_reduction_keeps_optimum_with_large_p() -> None:
    # p close to m: each point keeps only its m - p + 1 nearest facilities (plus ties).
    cost, w = _instance(7, 16, 8)
    for p in (6, 7, 8):
        fl = FacilityLocation.from_cost_matrix(cost, w, p=p)
        res = solve_simple(fl.data, time_limit=30, solver="highspy", threads=1, seed=0, gap=0,
                           method="nearest-pairs")
        assert res.pairs <= 16 * (8 - p + 1) + int((cost == cost.min()).sum()) * 8
        assert res.objective == pytest.approx(_brute(cost, np.zeros(8), p))
        fl.solve(threads=1, gap=0)  # the radius path: one level row at most per pair
        assert fl.method == "radius"
        assert fl.pairs_used <= cost.size
        assert fl.objective == pytest.approx(_brute(cost, np.zeros(8), p))


@pytest.mark.parametrize("seed", range(5))
def test_interchange_is_a_swap_local_optimum(seed: int) -> None:
    cost, _ = _instance(300 + seed, 30, 10, integer=False)
    fixed = np.zeros(10)
    sol = local_search(cost, fixed, p=3)
    assert sol.open.sum() == 3
    assert sol.objective == pytest.approx(cost[:, sol.open].min(axis=1).sum())
    assert sol.local_optimum
    open_idx, closed = np.flatnonzero(sol.open), np.flatnonzero(~sol.open)
    for r, j in itertools.product(open_idx, closed):
        trial = sol.open.copy()
        trial[r], trial[j] = False, True
        assert cost[:, trial].min(axis=1).sum() >= sol.objective - 1e-9


def test_interchange_uflp_add_drop_local_optimum() -> None:
    cost, _ = _instance(400, 25, 9, integer=False)
    fixed = np.full(9, 1.5)
    sol = local_search(cost, fixed)
    def total(o):
        return cost[:, o].min(axis=1).sum() + fixed[o].sum() if o.any() else np.inf
    assert sol.objective == pytest.approx(total(sol.open))
    for j in range(9):
        trial = sol.open.copy()
        trial[j] = not trial[j]
        assert total(trial) >= sol.objective - 1e-9


def test_not_simple_when_capacitated_and_direct_method_available() -> None:
    cost, w = _instance(5, 10, 4)
    d = build(10, 4, *np.indices((10, 4)).reshape(2, -1), cost.ravel(), w, fixed_cost=None,
              capacity=np.full(4, w.sum()), p=2, single_source=False)
    assert not is_simple(d)
    fl = FacilityLocation.from_cost_matrix(cost, w, p=2, capacity=np.full(4, w.sum())).solve()
    assert fl.method == "direct"


def test_infeasible_pmedian_with_disjoint_allowed_sets() -> None:
    cost = np.ones((2, 2))
    allowed = np.eye(2, dtype=bool)
    fl = FacilityLocation.from_cost_matrix(cost, np.ones(2), p=1, allowed=allowed).solve()
    assert fl.status == SolveStatus.INFEASIBLE
    assert (fl.assignment == -1).all()


def test_tiny_time_limit_returns_plan_or_no_solution() -> None:
    cost, w = _instance(9, 400, 80, integer=False)
    fl = FacilityLocation.from_cost_matrix(cost, w, p=7).solve(time_limit=0.01, threads=1)
    assert fl.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL, SolveStatus.NO_SOLUTION)
    if fl.status == SolveStatus.FEASIBLE:
        assert fl.open.sum() == 7
        assert fl.gap >= 0 or np.isnan(fl.gap)


@pytest.mark.parametrize("seed", range(5))
def test_lagrange_bound_and_fixing_keep_the_optimum(seed: int) -> None:
    from layout.core.lagrange import lagrange_fix

    cost, _ = _instance(500 + seed, 14, 8, integer=seed % 2 == 0)
    p = None if seed == 4 else 1 + seed % 3
    fixed = np.full(8, 3.0) if p is None else np.zeros(8)
    best = _brute(cost, fixed, p)
    heur = local_search(cost, fixed, p)
    lam0 = cost[:, heur.open].min(axis=1)
    res = lagrange_fix(cost, fixed, p, heur.objective, lam0)
    assert res.bound <= best + 1e-9
    # Every optimal open set survives the fixing.
    m = cost.shape[1]
    sizes = [p] if p is not None else range(1, m + 1)
    for k in sizes:
        for s in itertools.combinations(range(m), k):
            idx = list(s)
            if cost[:, idx].min(axis=1).sum() + fixed[idx].sum() <= best + 1e-9:
                assert not res.fixed_closed[idx].any()
                assert set(np.flatnonzero(res.fixed_open)) <= set(idx)
