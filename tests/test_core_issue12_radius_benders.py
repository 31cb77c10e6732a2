"""Benders root LP of the radius formulation (issue 12) vs brute force on small instances: its
value equals the radius LP with every level, ``f_i`` is the client's LP cost, the reduced-cost
fixing from it never excludes the optimum, and solves through it reach the optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from core_instances import random_costs

from layout.core import FacilityLocation
from layout.core.backends import run_highs
from layout.core.pmedian import _Sorted
from layout.core.radius import _start
from layout.core.radius_benders import benders_root, client_costs
from layout.core.radius_model import _Model
from layout.core.radius_steps import _fix_by_reduced_cost
from layout.core.status import SolveStatus


def _instance(seed: int) -> np.ndarray:
    return random_costs(300 + seed, 16, 9, fractional=bool(seed % 2),
                        blocked=0.3 if seed % 3 == 0 else 0.0, fallback=40.0)


def _data(cost: np.ndarray, p: int):
    allowed = np.isfinite(cost)
    return FacilityLocation.from_cost_matrix(np.where(allowed, cost, 0.0),
                                             np.ones(cost.shape[0]), p=p, allowed=allowed).data


def _plans(cost: np.ndarray, p: int) -> list[tuple[float, tuple[int, ...]]]:
    return sorted((float(cost[:, list(s)].min(axis=1).sum()), s)
                  for s in itertools.combinations(range(cost.shape[1]), p))


def _full_lp(d) -> float:
    s = _Sorted(d)
    model = _Model(s, d.n_facilities, np.zeros(d.n_facilities), d.p, 0.0, 0, False)
    model.add(np.flatnonzero(model.level), np.flatnonzero(s.count > 0))
    return run_highs(model.h).objective


@pytest.mark.parametrize("seed", range(9))
def test_client_costs_match_the_radius_cost(seed: int) -> None:
    cost = _instance(seed)
    d = _data(cost, 3)
    s = _Sorted(d)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        y = rng.random(d.n_facilities) * (rng.random(d.n_facilities) < 0.6)
        f, _, short = client_costs(s, y)
        dense = np.where(np.isfinite(cost), cost, np.inf)
        for i in np.flatnonzero(~short):
            lv = np.unique(dense[i][np.isfinite(dense[i])])
            cov = np.array([y[dense[i] < v].sum() for v in lv])
            ref = lv[0] + np.sum(np.diff(lv) * np.maximum(0.0, 1 - cov[1:]))
            assert f[i] == pytest.approx(ref)
        total = np.array([y[np.isfinite(dense[i])].sum() for i in range(cost.shape[0])])
        assert np.array_equal(short, total < 1 - 1e-6)


@pytest.mark.parametrize("seed", range(9))
def test_benders_root_value_and_fixing_vs_brute_force(seed: int) -> None:
    cost = _instance(seed)
    for p in (2, 3, 4):
        d = _data(cost, p)
        plans = [pl for pl in _plans(cost, p) if np.isfinite(pl[0])]
        if not plans:
            continue
        for start in (plans[-1], plans[len(plans) // 2], plans[0]):
            run = _start(d, _Sorted(d), time_limit=30, gap=0, seed=0, log=False, dense=None,
                         heuristic_share=0.0)
            run.best_open = np.zeros(d.n_facilities, dtype=bool)
            run.best_open[list(start[1])] = True
            run.ub = start[0]
            res = benders_root(run, run.best_open.astype(np.float64))
            assert res.status is SolveStatus.OPTIMAL
            assert res.value == pytest.approx(_full_lp(d), rel=1e-7, abs=1e-6)
            assert res.value <= plans[0][0] + 1e-6
            run.y, run.lb = res.y, res.value
            close, openf = _fix_by_reduced_cost(run, res.rc, res.value)
            # A fixing only excludes plans costing at least the best one (here ``start``).
            for c, pl in plans:
                inside = np.zeros(d.n_facilities, dtype=bool)
                inside[list(pl)] = True
                if (close & inside).any() or (openf & ~inside).any():
                    assert c >= start[0] - 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_solve_through_the_benders_root_is_exact(seed: int) -> None:
    cost = _instance(seed)
    for p in (2, 3):
        plans = [pl for pl in _plans(cost, p) if np.isfinite(pl[0])]
        if not plans:
            continue
        allowed = np.isfinite(cost)
        fl = FacilityLocation.from_cost_matrix(np.where(allowed, cost, 0.0),
                                               np.ones(cost.shape[0]), p=p, allowed=allowed)
        fl.solve(time_limit=30)
        assert fl.status == "optimal"
        assert fl.objective == pytest.approx(plans[0][0])
