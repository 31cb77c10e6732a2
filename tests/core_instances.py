"""Random cost matrices for the core's p-median tests (SYNTHETIC).

Non-metric integer costs 1-59, optionally with a fractional part, and optionally with a share
of pairs not permitted (``inf``) while every client keeps one pair at ``fallback``: their LP
bound is often below the optimum, so the exact methods have to branch.
"""

from __future__ import annotations

import numpy as np


def random_costs(rng_seed: int, n: int, m: int, *, fractional: bool, blocked: float = 0.0,
                 fallback: float = 0.0) -> np.ndarray:
    """Costs (n, m) drawn from ``default_rng(rng_seed)`` (draw order fixed: same seed, same costs).

    ``blocked`` > 0: that share of pairs is not permitted (``inf``), then one random pair per
    client costs ``fallback``, so no client is left without a facility.
    """
    rng = np.random.default_rng(rng_seed)
    cost = rng.integers(1, 60, (n, m)).astype(float)
    if fractional:
        cost += rng.random(cost.shape)
    if blocked > 0:
        cost[rng.random(cost.shape) < blocked] = np.inf  # some pairs not permitted
        cost[np.arange(n), rng.integers(0, m, n)] = fallback
    return cost


def radius_run(cost: np.ndarray, p: int, plan: tuple[int, ...]):  # type: ignore[no-untyped-def]
    """The radius state after its root LP on ``cost`` (``inf``: not permitted), ``plan`` the best.

    Returns the run (:class:`layout.core.radius._Run`) and the instance's data.
    """
    from layout.core import FacilityLocation
    from layout.core.pmedian import _Sorted
    from layout.core.radius import _lp_with_levels, _start

    allowed = np.isfinite(cost)
    d = FacilityLocation.from_cost_matrix(np.where(allowed, cost, 0.0), np.ones(cost.shape[0]),
                                          p=p, allowed=allowed).data
    run = _start(d, _Sorted(d), time_limit=30, gap=0, seed=0, log=False, dense=None,
                 heuristic_share=0.0)
    assert not _lp_with_levels(run)
    run.best_open = np.zeros(d.n_facilities, dtype=bool)
    run.best_open[list(plan)] = True
    run.ub = float(cost[:, list(plan)].min(axis=1).sum())
    return run, d
