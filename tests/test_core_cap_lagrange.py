"""Lagrangian bound, plan and facility fixing of the capacitated path, against enumeration."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from layout.core import FacilityLocation, SolveStatus
from layout.core.cap_lagrange import lagrangian
from layout.core.capacitated import solve_capacitated, transport


def _data(seed: int, n: int = 25, m: int = 6):
    rng = np.random.default_rng(seed)
    pts, sites = rng.random((n, 2)), rng.random((m, 2))
    demand = rng.integers(1, 20, size=n).astype(float)
    cost = np.linalg.norm(pts[:, None] - sites[None], axis=2) * demand[:, None] * 10
    cap = rng.integers(60, 200, size=m).astype(float)
    cap *= max(1.0, 1.2 * demand.sum() / cap.sum())
    fixed = rng.integers(20, 400, size=m).astype(float)
    return FacilityLocation.from_cost_matrix(cost, demand, fixed_cost=fixed, capacity=cap).data


def _enumerate(d) -> dict[tuple[bool, ...], float]:
    """Optimal cost of every open set (``inf`` when infeasible)."""
    out = {}
    for bits in itertools.product([False, True], repeat=d.n_facilities):
        out[bits] = transport(d, np.array(bits))[0] if any(bits) else float("inf")
    return out


@pytest.mark.parametrize("seed", range(10))
def test_bound_plan_and_fixing_are_exact(seed: int) -> None:
    d = _data(seed)
    costs = _enumerate(d)
    opt = min(costs.values())
    lr = lagrangian(d, time.perf_counter() + 30, transport)
    assert lr.bound <= opt + 1e-6 * opt
    assert lr.upper >= opt - 1e-6 * opt
    assert lr.upper == pytest.approx(transport(d, lr.open_)[0])
    for j in range(d.n_facilities):
        with_j = min(c for bits, c in costs.items() if bits[j])
        without_j = min(c for bits, c in costs.items() if not bits[j])
        if lr.fixed_closed[j]:
            assert with_j >= lr.upper - 1e-6 * lr.upper
        if lr.fixed_open[j]:
            assert without_j >= lr.upper - 1e-6 * lr.upper


def test_fixing_happens_and_result_is_exact() -> None:
    fixed_any = 0
    for seed in range(10):
        d = _data(seed)
        lr = lagrangian(d, time.perf_counter() + 30, transport)
        fixed_any += int(lr.fixed_closed.sum() + lr.fixed_open.sum())
        opt = min(_enumerate(d).values())
        res = solve_capacitated(d, time_limit=30, seed=0, gap=1e-9)
        base = solve_capacitated(d, time_limit=30, seed=0, gap=1e-9, lagrange_share=0.0)
        assert res.status is SolveStatus.OPTIMAL
        assert res.objective == pytest.approx(opt, rel=1e-7)
        assert base.objective == pytest.approx(opt, rel=1e-7)
        assert res.bound <= res.objective + 1e-6
        assert res.values is not None
        x = res.values[res.model.x]
        served = np.bincount(d.rows, weights=x, minlength=d.n_demand)
        assert np.allclose(served, 1.0)
    assert fixed_any > 0  # the fixing step is exercised by these instances
