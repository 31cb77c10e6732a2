"""Radius branch and bound (issue 12 additions) vs brute force: the dual simplex's objective cut
(nodes stopped once their dual bound passes the best plan) and the parent's basis restored for
the later child never lose the optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import layout.core.radius_bb as rbb
from layout.core import FacilityLocation
from layout.core.pmedian import _Sorted
from layout.core.radius import _lp_with_levels, _start


def _plans(cost: np.ndarray, p: int) -> list[tuple[float, tuple[int, ...]]]:
    return sorted((float(cost[:, list(s)].min(axis=1).sum()), s)
                  for s in itertools.combinations(range(cost.shape[1]), p))


def _run(cost: np.ndarray, p: int, plan: tuple[int, ...]):
    d = FacilityLocation.from_cost_matrix(cost, np.ones(cost.shape[0]), p=p).data
    run = _start(d, _Sorted(d), time_limit=30, gap=0, seed=0, log=False, dense=None,
                 heuristic_share=0.0)
    assert not _lp_with_levels(run)
    run.best_open = np.zeros(d.n_facilities, dtype=bool)
    run.best_open[list(plan)] = True
    run.ub = float(cost[:, list(plan)].min(axis=1).sum())
    return run, d


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("save_basis", [True, False])
def test_tree_with_objective_cut_is_exact(seed: int, save_basis: bool,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rbb, "_SAVE_BASIS", save_basis)
    rng = np.random.default_rng(50 + seed)
    cost = rng.integers(1, 60, (20, 10)).astype(float)
    if seed % 2:
        cost += rng.random(cost.shape)
    for p in (2, 3, 4):
        plans = _plans(cost, p)
        for start in (plans[-1][1], plans[len(plans) // 3][1], plans[0][1]):
            run, d = _run(cost, p, start)
            m = d.n_facilities
            res = rbb.branch_and_bound(run, np.zeros(m), np.ones(m))
            assert res.proven
            assert run.ub == pytest.approx(plans[0][0])


@pytest.mark.parametrize("integral", [True, False])
def test_objective_cut_is_a_pruning_value(integral: bool) -> None:
    rng = np.random.default_rng(7)
    cost = rng.integers(1, 60, (15, 8)).astype(float)
    if not integral:
        cost += rng.random(cost.shape)
    run, _ = _run(cost, 3, (0, 1, 2))
    cut = rbb._objective_cut(run)
    assert bool(rbb._cannot_improve(run, cut))
    assert cut <= run.ub
    if integral:
        assert cut < run.ub - 0.5  # the rounding of integer costs is used
        assert not bool(rbb._cannot_improve(run, run.ub - 1.0))
