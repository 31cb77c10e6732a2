"""Radius branch and bound on several LP copies in threads (layout/core/radius_par.py) vs brute
force: exact for any number of workers and nodes per round (one node per round makes the
workers trade nodes all the time), and the same plan and search from run to run."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import layout.core.radius_par as rpar
from layout.core import FacilityLocation
from layout.core.radius_bb import _Node, branch_and_bound
from tests.core_instances import radius_run, random_costs


def _optimum(cost: np.ndarray, p: int) -> float:
    return min(float(cost[:, list(s)].min(axis=1).sum())
               for s in itertools.combinations(range(cost.shape[1]), p))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("workers", "batch"), [(2, 1), (2, 4), (3, 2)])
def test_parallel_tree_is_exact(seed: int, workers: int, batch: int,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rpar, "BATCH", batch)
    cost = random_costs(300 + seed, 24, 11, fractional=bool(seed % 2))
    for p in (2, 3, 5):
        best = _optimum(cost, p)
        run, d = radius_run(cost, p, tuple(range(p)))  # a poor first plan: the tree must branch
        m = d.n_facilities
        res = branch_and_bound(run, np.zeros(m), np.ones(m), workers=workers)
        assert res.proven
        assert run.ub == pytest.approx(best)
        assert float(cost[:, run.best_open].min(axis=1).sum()) == pytest.approx(best)


def test_parallel_tree_gives_the_same_search_every_time() -> None:
    cost = random_costs(77, 40, 16, fractional=False)
    outcomes = []
    for _ in range(3):
        run, d = radius_run(cost, 4, (0, 1, 2, 3))
        m = d.n_facilities
        res = branch_and_bound(run, np.zeros(m), np.ones(m), workers=2)
        outcomes.append((tuple(np.flatnonzero(run.best_open)), run.ub, res.nodes,
                         res.lp_solves))
    assert res.nodes > 2  # the instance branches, so the workers share nodes
    assert outcomes[0] == outcomes[1] == outcomes[2]


def test_a_taken_node_keeps_its_fixed_levels() -> None:
    cost = random_costs(5, 30, 12, fractional=False)
    run, d = radius_run(cost, 3, (0, 1, 2))
    m = d.n_facilities
    src = run.model
    dst = rpar.clone_model(src)
    pos = np.flatnonzero(src.in_s)[:: 3]
    # a level the copy does not have yet: added to the copy when the node moves there
    extra = np.flatnonzero(src.level & ~src.in_s)[:2]
    src.add(extra, np.zeros(0, dtype=np.int64))
    cols = src.zcol[np.concatenate([pos, extra])].astype(np.int32)
    node = _Node(np.zeros(m), np.ones(m), np.sort(cols), 0.0)
    moved = rpar._adopt(node, src, dst, m)
    assert moved.basis is None
    assert set(dst.zpos[moved.zoff - m]) == set(src.zpos[node.zoff - m])
    assert dst.h.getNumCol() == src.h.getNumCol()


def test_facility_location_threads_reach_the_radius_tree() -> None:
    cost = random_costs(11, 60, 20, fractional=False)
    one = FacilityLocation.from_cost_matrix(cost, np.ones(60), p=4)
    one.solve(time_limit=30, threads=1)
    two = FacilityLocation.from_cost_matrix(cost, np.ones(60), p=4)
    two.solve(time_limit=30, threads=2)
    assert two.objective == pytest.approx(one.objective)
    assert two.threads == 2
