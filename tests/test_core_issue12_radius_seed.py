"""Radius model without the fixed-closed facilities (issue 12): seeded only up to each client's
first level the full LP covers, its LP (after level generation) still equals the LP with every
level, and the branch and bound on it still reaches the brute-force optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from core_instances import random_costs

import layout.core.radius_steps as rsteps
from layout.core import FacilityLocation
from layout.core.backends import run_highs
from layout.core.pmedian import _Sorted
from layout.core.radius import _lp_with_levels, _start
from layout.core.radius_bb import branch_and_bound
from layout.core.radius_model import _Model


def _instance(seed: int) -> np.ndarray:
    return random_costs(900 + seed, 18, 10, fractional=bool(seed % 2),
                        blocked=0.2 if seed % 3 == 0 else 0.0, fallback=30.0)


def _best(cost: np.ndarray, p: int, closed: np.ndarray) -> float:
    free = [j for j in range(cost.shape[1]) if not closed[j]]
    return min(float(cost[:, list(s)].min(axis=1).sum()) for s in itertools.combinations(free, p))


def _full_lp(d, closed: np.ndarray) -> float:
    """LP of the radius model with every level of every client (no generation needed)."""
    s = _Sorted(d)
    net = np.zeros(d.n_facilities)
    model = _Model(s, d.n_facilities, net, d.p, 0.0, 0, False)
    model.add(np.flatnonzero(model.level), np.flatnonzero(s.count > 0))
    js = np.flatnonzero(closed).astype(np.int32)
    if js.size:
        model.h.changeColsBounds(js.size, js, np.zeros(js.size), np.zeros(js.size))
    res = run_highs(model.h)
    return res.objective


@pytest.mark.parametrize("seed", range(9))
def test_shrunk_model_lp_and_tree_match_brute_force(seed: int) -> None:
    cost = _instance(seed)
    allowed = np.isfinite(cost)
    for p in (2, 3):
        d = FacilityLocation.from_cost_matrix(np.where(allowed, cost, 0.0),
                                              np.ones(cost.shape[0]), p=p, allowed=allowed).data
        dense = np.where(allowed, cost, np.inf)
        run = _start(d, _Sorted(d), time_limit=30, gap=0, seed=0, log=False, dense=dense,
                     heuristic_share=0.5)
        assert not _lp_with_levels(run)
        assert run.lp_done
        m = d.n_facilities
        # Close facilities outside the best plan with y = 0 at the LP (any such set is a valid
        # restriction to test with; the reference optimum is taken over the same restriction).
        rng = np.random.default_rng(seed)
        cand = np.flatnonzero(~run.best_open & (run.y < 1e-9))
        closed = np.zeros(m, dtype=bool)
        closed[rng.permutation(cand)[:max(1, cand.size // 2)]] = True
        if not np.isfinite(_best(cost, p, closed)):
            continue
        rsteps._shrink(run, closed, np.zeros(m, dtype=bool))
        h = run.model.h
        shrunk = float(h.getInfo().objective_function_value)
        assert shrunk == pytest.approx(_full_lp(d, closed), rel=1e-7, abs=1e-6)
        res = branch_and_bound(run, np.zeros(m), (~closed).astype(np.float64))
        assert res.proven
        assert run.ub == pytest.approx(_best(cost, p, closed))
