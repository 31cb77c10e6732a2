"""Radius branch and bound (issue 12): levels are generated only where they may prune. The
value of ``y`` with every level (``_full_value``) is checked against brute force, and the tree
from a model with few levels (most nodes branched without generation) stays exact."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import layout.core.radius_bb as rbb
from layout.core import FacilityLocation
from layout.core.backends import run_highs
from layout.core.pmedian import _Sorted
from layout.core.radius import _lp_with_levels, _start
from layout.core.radius_model import _Model


def _setup(seed: int, p: int):
    rng = np.random.default_rng(700 + seed)
    cost = rng.integers(1, 80, (22, 14)).astype(float)
    if seed % 2:
        cost += rng.random(cost.shape)
    d = FacilityLocation.from_cost_matrix(cost, np.ones(cost.shape[0]), p=p).data
    run = _start(d, _Sorted(d), time_limit=30, gap=0, seed=0, log=False, dense=None,
                 heuristic_share=0.0)
    return cost, d, run


def _full_lp_at(d, y: np.ndarray) -> float:
    """Radius LP with every level and ``y`` fixed: the value of ``y`` with every level."""
    s = _Sorted(d)
    model = _Model(s, d.n_facilities, np.zeros(d.n_facilities), d.p, 0.0, 0, False)
    model.add(np.flatnonzero(model.level), np.zeros(0, dtype=np.int64))
    js = np.arange(d.n_facilities, dtype=np.int32)
    model.h.changeColsBounds(js.size, js, y, y)
    return run_highs(model.h).objective


@pytest.mark.parametrize("seed", range(6))
def test_full_value_is_the_value_with_every_level(seed: int) -> None:
    cost, d, run = _setup(seed, 3)
    rng = np.random.default_rng(seed)
    for plan in itertools.islice(itertools.combinations(range(cost.shape[1]), 3), 0, 40, 7):
        y = np.zeros(d.n_facilities)
        y[list(plan)] = 1.0
        assert rbb._full_value(run, y) == pytest.approx(cost[:, list(plan)].min(axis=1).sum())
    for _ in range(5):
        y = rng.random(d.n_facilities)
        y *= 3.0 / y.sum()
        y = np.minimum(y, 1.0)
        assert rbb._full_value(run, y) == pytest.approx(_full_lp_at(d, y), rel=1e-7, abs=1e-6)


@pytest.mark.parametrize("seed", range(8))
def test_tree_from_few_levels_is_exact(seed: int) -> None:
    for p in (2, 3, 4):
        cost, d, run = _setup(seed, p)
        best = min(float(cost[:, list(s)].min(axis=1).sum())
                   for s in itertools.combinations(range(cost.shape[1]), p))
        if seed % 2 == 0:  # only each client's first level: most nodes lack levels
            model = _Model(run.s, d.n_facilities, run.net_fixed, p, run.base, 0, False)
            first = np.flatnonzero(model.level & (run.s.rank <= 1))
            model.add(first, np.zeros(0, dtype=np.int64))
            run.model = model
        else:
            assert not _lp_with_levels(run)
        plan = np.zeros(d.n_facilities, dtype=bool)
        plan[np.argsort(cost.sum(axis=0))[-p:]] = True  # a poor plan
        run.best_open, run.ub = plan, float(cost[:, plan].min(axis=1).sum())
        m = d.n_facilities
        res = rbb.branch_and_bound(run, np.zeros(m), np.ones(m))
        assert res.proven
        assert run.ub == pytest.approx(best)
