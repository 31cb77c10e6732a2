"""Branch and bound on the radius LP (layout.core.radius_bb) vs brute force: it proves the
optimum from any starting plan, and its reduced-cost fixings and level branching never exclude
a plan cheaper than the best known one."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from core_instances import random_costs

from layout.core import FacilityLocation, SolveStatus
from layout.core.pmedian import _Sorted
from layout.core.radius import _lp_with_levels, _start, solve_radius
from layout.core.radius_bb import _children, _fix, _Node, _node_lp, branch_and_bound


def _instance(seed: int, n: int, m: int, integer: bool) -> np.ndarray:
    """Random (non-metric) costs: their LP bound is often below the optimum, so the tree branches."""
    return random_costs(seed, n, m, fractional=not integer)


def _all_plans(cost: np.ndarray, p: int) -> list[tuple[float, tuple[int, ...]]]:
    m = cost.shape[1]
    return sorted((float(cost[:, list(s)].min(axis=1).sum()), s)
                  for s in itertools.combinations(range(m), p))


def _root(cost: np.ndarray, p: int, plan: tuple[int, ...]):
    """Run state after the LP, with ``plan`` as the best plan (not necessarily a good one)."""
    d = FacilityLocation.from_cost_matrix(cost, np.ones(cost.shape[0]), p=p).data
    run = _start(d, _Sorted(d), time_limit=30, gap=0, seed=0, log=False, dense=None,
                 heuristic_share=0.0)
    assert not _lp_with_levels(run)
    assert run.lp_done
    run.best_open = np.zeros(d.n_facilities, dtype=bool)
    run.best_open[list(plan)] = True
    run.ub = float(cost[:, list(plan)].min(axis=1).sum())
    return run, d


@pytest.mark.parametrize("seed", range(6))
def test_tree_proves_optimum_from_a_poor_plan(seed: int) -> None:
    cost = _instance(seed, 22, 11, integer=seed % 2 == 0)
    nodes: list[int] = []
    for p in (2, 3, 5):
        plans = _all_plans(cost, p)
        run, d = _root(cost, p, plans[len(plans) // 2][1])  # a median plan as the start
        m = d.n_facilities
        res = branch_and_bound(run, np.zeros(m), np.ones(m))
        nodes.append(res.nodes)
        assert res.proven
        assert run.ub == pytest.approx(plans[0][0])
        assert res.bound == pytest.approx(plans[0][0])
    assert max(nodes) > 1  # the instance needs branching


@pytest.mark.parametrize("seed", range(6))
def test_fixing_and_branching_keep_every_cheaper_plan(seed: int) -> None:
    # With the second-best plan as the best known one, the optimum must survive the root's
    # reduced-cost fixing and lie in exactly one child of the branching.
    cost = _instance(900 + seed, 20, 10, integer=seed % 2 == 1)
    for p in (2, 3, 4):
        plans = _all_plans(cost, p)
        second = next(s for c, s in plans if c > plans[0][0] + 1e-9)
        run, d = _root(cost, p, second)
        m = d.n_facilities
        root = _Node(np.zeros(m), np.ones(m), np.zeros(0, dtype=np.int32), -np.inf)
        kind, val, values, _ = _node_lp(run, run.deadline)
        assert kind == "open"
        assert values is not None
        fixed = _fix(run, root, values)
        opt = np.zeros(m, dtype=bool)
        opt[list(plans[0][1])] = True
        s = run.model.s
        assert (fixed.hi[opt] == 1).all()
        assert (fixed.lo[~opt] == 0).all()
        # z columns fixed at 0 must be covered by the optimum (some facility nearer than the level).
        for col in fixed.zoff:
            pos = run.model.zpos[col - m]
            assert opt[s.cols[s.start[s.rows[pos]]:pos]].any()
        kids = _children(run, fixed, values, val)
        if kids is None:
            continue
        inside = 0
        for kid in kids:
            ok = bool((opt >= kid.lo).all() and (opt <= kid.hi).all())
            for col in kid.zoff:
                pos = run.model.zpos[col - m]
                ok &= bool(opt[s.cols[s.start[s.rows[pos]]:pos]].any())
            inside += int(ok)
        assert inside >= 1


def test_solve_radius_uses_the_tree() -> None:
    cost = _instance(11, 40, 16, integer=True)
    d = FacilityLocation.from_cost_matrix(cost, np.ones(40), p=3).data
    dense = np.full((d.n_demand, d.n_facilities), np.inf)
    dense[d.rows, d.cols] = d.costs
    best = _all_plans(cost, 3)[0][0]
    for tree in (True, False):
        r = solve_radius(d, _Sorted(d), time_limit=30, gap=0, seed=0, dense=dense, tree=tree)
        assert r.status is SolveStatus.OPTIMAL
        assert r.objective == pytest.approx(best)
