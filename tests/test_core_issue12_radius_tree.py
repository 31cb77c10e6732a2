"""Radius branch and bound (issue 12 additions) vs brute force: the dual simplex's objective cut
(nodes stopped once their dual bound passes the best plan) and the parent's basis restored for
the later child never lose the optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import layout.core.radius_bb as rbb
from tests.core_instances import radius_run


def _plans(cost: np.ndarray, p: int) -> list[tuple[float, tuple[int, ...]]]:
    return sorted((float(cost[:, list(s)].min(axis=1).sum()), s)
                  for s in itertools.combinations(range(cost.shape[1]), p))


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
            run, d = radius_run(cost, p, start)
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
    run, _ = radius_run(cost, 3, (0, 1, 2))
    cut = rbb._objective_cut(run)
    assert bool(rbb._cannot_improve(run, cut))
    assert cut <= run.ub
    if integral:
        assert cut < run.ub - 0.5  # the rounding of integer costs is used
        assert not bool(rbb._cannot_improve(run, run.ub - 1.0))


def _violated_reference(model, y, tol):
    """The level-violation test as first written (accumulates over every pair)."""
    s = model.s
    yv = y[s.cols]
    cs = np.cumsum(yv)
    before = cs - yv - (cs - yv)[model.start[s.rows]]
    total = np.bincount(s.rows, weights=yv, minlength=s.count.size)
    hard = np.flatnonzero((total < 1 - 1e-6) & ~model.hard & (s.count > 0))
    cand = model.level & (before < 1 - 1e-9)
    npairs = s.rows.size
    idx = np.arange(npairs)
    anchor = model.in_s | (s.rank == 0)
    prev = np.maximum.accumulate(np.where(anchor, idx, 0))
    prev_strict = np.empty_like(prev)
    prev_strict[0] = 0
    prev_strict[1:] = prev[:-1]
    big = npairs
    nxt = np.minimum.accumulate(np.where(model.in_s, idx, big)[::-1])[::-1]
    nxt_strict = np.full(npairs, big)
    nxt_strict[:-1] = nxt[1:]
    q = np.flatnonzero(cand & ~model.in_s)
    if q.size == 0:
        return q, hard
    n2 = nxt_strict[q]
    same = n2 < big
    same[same] = s.rows[n2[same]] == s.rows[q[same]]
    cov2 = np.where(same, np.maximum(0.0, 1.0 - before[np.minimum(n2, big - 1)]), 0.0)
    viol = (s.costs[q] - s.costs[prev_strict[q]]) * ((1.0 - before[q]) - cov2)
    return q[viol > tol], hard


@pytest.mark.parametrize("seed", range(6))
def test_violated_levels_match_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 30, (25, 12)).astype(float)
    cost[rng.random(cost.shape) < 0.2] = np.inf  # some pairs not permitted
    cost[:, 0] = np.where(np.isinf(cost[:, 0]), 5.0, cost[:, 0])
    run, d = radius_run(cost, 3, (0, 1, 2))
    assert d.rows.size < cost.size  # forbidden pairs left out
    model = run.model
    for _ in range(10):
        y = rng.random(d.n_facilities) * (rng.random(d.n_facilities) < 0.5)
        got = model.violated(y, 1e-9)
        ref = _violated_reference(model, y, 1e-9)
        assert np.array_equal(got[0], ref[0])
        assert np.array_equal(got[1], ref[1])
        if got[0].size:
            model.add(got[0][: max(1, got[0].size // 2)], np.zeros(0, dtype=np.int64))
