"""Radius (covering) formulation for p-median vs brute force: level generation, reduced-cost
fixing, support MIP and the level-padded MIP never exclude the optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from layout.core import FacilityLocation, SolveStatus
from layout.core.pmedian import _Sorted
from layout.core.radius import _Model, solve_radius


def _instance(seed: int, n: int, m: int, integer: bool):
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)), rng.random((m, 2))
    w = rng.integers(1, 5, size=n).astype(float)
    cost = np.linalg.norm(a[:, None] - b[None], axis=2) * w[:, None]
    return (np.round(cost * 10) if integer else cost), w


def _brute(cost: np.ndarray, p: int) -> float:
    m = cost.shape[1]
    return min(cost[:, list(s)].min(axis=1).sum() for s in itertools.combinations(range(m), p))


@pytest.mark.parametrize("seed", range(8))
def test_radius_matches_brute_force(seed: int) -> None:
    cost, w = _instance(300 + seed, 24, 10, integer=seed % 2 == 0)
    for p in (1, 2, 3, 6):
        fl = FacilityLocation.from_cost_matrix(cost, w, p=p)
        d = fl.data
        dense = np.full((d.n_demand, d.n_facilities), np.inf)
        dense[d.rows, d.cols] = d.costs
        for use_dense in (True, False):  # with and without the interchange plan
            r = solve_radius(d, _Sorted(d), time_limit=30, gap=0, seed=0,
                             dense=dense if use_dense else None)
            assert r.status is SolveStatus.OPTIMAL
            assert r.objective == pytest.approx(_brute(cost, p))
            assert r.bound <= r.objective + 1e-9
            assert r.open.sum() == p


def test_restricted_levels_never_overcharge() -> None:
    # With any subset of levels, the model charges each client at most its true cost.
    cost, w = _instance(5, 12, 6, integer=True)
    fl = FacilityLocation.from_cost_matrix(cost, w, p=2)
    d = fl.data
    s = _Sorted(d)
    rng = np.random.default_rng(0)
    for _ in range(20):
        model = _Model(s, d.n_facilities, np.zeros(d.n_facilities), 2, 0.0, 0, False)
        pick = np.flatnonzero(model.level & (rng.random(s.rows.size) < 0.5))
        model.add(pick, np.zeros(0, dtype=np.int64))
        is_open = np.zeros(d.n_facilities, dtype=bool)
        is_open[rng.choice(d.n_facilities, 2, replace=False)] = True
        x = model.hint(is_open)
        charged = float(model.h.getLp().offset_) + float(
            np.asarray(model.coef) @ x[d.n_facilities:])
        true = cost[:, is_open].min(axis=1).sum()
        assert charged <= true + 1e-9
        q, _ = model.violated(is_open.astype(float), 1e-9)
        if q.size == 0:  # no violated level: the charge is exact
            assert charged == pytest.approx(true)


def test_sparse_allowed_pairs_need_hard_rows() -> None:
    # Clients with few permitted facilities: the coverage rows keep the plan feasible.
    cost, w = _instance(9, 14, 7, integer=True)
    rng = np.random.default_rng(1)
    allowed = rng.random(cost.shape) < 0.5
    allowed[np.arange(14), rng.integers(0, 7, 14)] = True
    best = np.inf
    for s in itertools.combinations(range(7), 3):
        c = np.where(allowed[:, list(s)], cost[:, list(s)], np.inf).min(axis=1).sum()
        best = min(best, c)
    fl = FacilityLocation.from_cost_matrix(cost, w, p=3, allowed=allowed).solve(gap=0)
    if np.isfinite(best):
        assert fl.status == SolveStatus.OPTIMAL
        assert fl.objective == pytest.approx(best)
    else:
        assert fl.status in (SolveStatus.INFEASIBLE, SolveStatus.NO_SOLUTION)
