"""Lagrangian branch and bound of the capacitated path (cap_dual, cap_bb) against enumeration."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from layout.core import FacilityLocation, SolveStatus
from layout.core.cap_bb import branch_and_bound
from layout.core.cap_dual import Knapsacks, Node, ascent, fixings
from layout.core.capacitated import solve_capacitated, transport


def _data(seed: int, n: int = 22, m: int = 7, equal: bool = False):
    rng = np.random.default_rng(seed)
    pts, sites = rng.random((n, 2)), rng.random((m, 2))
    demand = rng.integers(1, 20, size=n).astype(float)
    cost = np.linalg.norm(pts[:, None] - sites[None], axis=2) * demand[:, None] * 10
    cap = np.full(m, 80.0) if equal else rng.integers(60, 200, size=m).astype(float)
    cap *= max(1.0, 1.3 * demand.sum() / cap.sum())
    fixed = rng.integers(20, 400, size=m).astype(float)
    return FacilityLocation.from_cost_matrix(cost, demand, fixed_cost=fixed, capacity=cap).data


def _enumerate(d) -> dict[tuple[bool, ...], float]:
    out = {}
    for bits in itertools.product([False, True], repeat=d.n_facilities):
        out[bits] = transport(d, np.array(bits))[0] if any(bits) else float("inf")
    return out


def _best(costs, closed, opened) -> float:
    return min((c for bits, c in costs.items()
                if not any(b and cl for b, cl in zip(bits, closed, strict=True))
                and all(b or not op for b, op in zip(bits, opened, strict=True))), default=float("inf"))


@pytest.mark.parametrize("seed", range(8))
def test_node_bound_and_fixings_keep_the_optimum(seed: int) -> None:
    d = _data(seed, equal=seed % 2 == 0)
    costs = _enumerate(d)
    sub = Knapsacks(d)
    need = float(d.demand.sum())
    rng = np.random.default_rng(100 + seed)
    lam0 = np.zeros(d.n_demand)
    np.minimum.at(lam0, d.rows, d.costs)
    m = d.n_facilities
    for _ in range(6):
        state = rng.integers(0, 4, size=m)  # 0 closed, 1 open, else free
        node = Node(state == 0, state == 1, lam0.copy(), -np.inf)
        best = _best(costs, node.closed, node.opened)
        res = ascent(sub, need, node, float("inf"), iters=200, pi=2.0, patience=10, tol=0.0)
        assert res.bound <= best + 1e-6 * max(1.0, abs(best))
        if not np.isfinite(best):
            continue
        # Any incumbent value at least the node's optimum: fixings never cut the node's optimum
        # unless it costs at least that value.
        for upper in (best, best * 1.01, best * 1.2):
            close, open_ = fixings(sub, need, node, res.lam, upper, 0.0)
            for j in np.flatnonzero(close):
                op = node.opened.copy()
                op[j] = True
                assert _best(costs, node.closed, op) >= upper - 1e-6 * upper
            for j in np.flatnonzero(open_):
                cl = node.closed.copy()
                cl[j] = True
                assert _best(costs, cl, node.opened) >= upper - 1e-6 * upper


@pytest.mark.parametrize("seed", range(10))
def test_tree_is_exact(seed: int) -> None:
    d = _data(seed, equal=seed % 3 == 0)
    opt = min(_enumerate(d).values())
    tree = branch_and_bound(d, time.perf_counter() + 30, transport, gap=1e-9)
    assert tree.proven
    assert tree.upper == pytest.approx(opt, rel=1e-7)
    assert tree.bound <= tree.upper + 1e-9
    res = solve_capacitated(d, time_limit=30, seed=0, gap=1e-9, method="tree")
    assert res.status is SolveStatus.OPTIMAL
    assert res.objective == pytest.approx(opt, rel=1e-7)
    assert res.values is not None
    served = np.bincount(d.rows, weights=res.values[res.model.x], minlength=d.n_demand)
    assert np.allclose(served, 1.0)


def test_tree_from_a_poor_start_and_with_zero_demand() -> None:
    d = _data(3)
    costs = _enumerate(d)
    opt = min(costs.values())
    worst = max(c for c in costs.values() if np.isfinite(c))
    bits = next(b for b, c in costs.items() if c == worst)
    open_ = np.array(bits)
    start = (worst, transport(d, open_)[1], open_)
    tree = branch_and_bound(d, time.perf_counter() + 30, transport, gap=1e-9, start=start)
    assert tree.proven
    assert tree.upper == pytest.approx(opt, rel=1e-7)
    demand = d.demand.copy()
    demand[:3] = 0.0
    d0 = FacilityLocation.from_cost_matrix(
        np.asarray(_cost_matrix(d)), demand, fixed_cost=d.fixed_cost,
        capacity=d.capacity).data
    opt0 = min(_enumerate(d0).values())
    tree0 = branch_and_bound(d0, time.perf_counter() + 30, transport, gap=1e-9)
    assert tree0.proven
    assert tree0.upper == pytest.approx(opt0, rel=1e-7)


def _cost_matrix(d) -> np.ndarray:
    c = np.zeros((d.n_demand, d.n_facilities))
    c[d.rows, d.cols] = d.costs
    return c


@pytest.mark.parametrize("seed", range(8))
def test_root_fixings_keep_the_optimum(seed: int) -> None:
    d = _data(seed, n=30, m=8, equal=seed % 2 == 1)
    costs = _enumerate(d)
    root = branch_and_bound(d, time.perf_counter() + 30, transport, gap=1e-9, max_nodes=1)
    m = d.n_facilities
    none = np.zeros(m, dtype=bool)
    assert root.bound <= min(costs.values()) + 1e-6
    for j in np.flatnonzero(root.root_closed):
        op = none.copy()
        op[j] = True
        assert _best(costs, none, op) >= root.upper - 1e-6 * root.upper
    for j in np.flatnonzero(root.root_opened):
        cl = none.copy()
        cl[j] = True
        assert _best(costs, cl, none) >= root.upper - 1e-6 * root.upper
    res = solve_capacitated(d, time_limit=30, seed=0, gap=1e-9)
    assert res.objective == pytest.approx(min(costs.values()), rel=1e-7)


def test_large_instance_goes_to_the_tree_and_respects_the_time_limit() -> None:
    d = _data(11, n=400, m=30)  # 12,000 pairs: above the 10,000 of the tree path
    t0 = time.perf_counter()
    res = solve_capacitated(d, time_limit=0.5, seed=0, gap=1e-9)
    assert time.perf_counter() - t0 < 5.0
    assert res.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert res.values is not None
    assert res.bound <= res.objective + 1e-6 * abs(res.objective)
    served = np.bincount(d.rows, weights=res.values[res.model.x], minlength=d.n_demand)
    assert np.allclose(served, 1.0)
    full = solve_capacitated(d, time_limit=60, seed=0, gap=1e-9)
    cuts = solve_capacitated(d, time_limit=60, seed=0, gap=1e-9, method="cuts")
    assert full.status is SolveStatus.OPTIMAL
    assert full.objective == pytest.approx(cuts.objective, rel=1e-7)
    assert full.objective <= res.objective + 1e-6 * abs(res.objective)
