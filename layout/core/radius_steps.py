"""Steps of :func:`layout.core.radius.solve_radius` after the LP (split from that module).

Multi-start plans, the support MIP, reduced-cost fixing, the smaller model without the
fixed-closed facilities, and the final MIP with level generation.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from layout.core.backends import run_highs
from layout.core.radius_model import RadiusResult, _Model, _pad, _solve_lp
from layout.core.status import SolveStatus, relative_gap

if TYPE_CHECKING:
    from layout.core.radius import _Run

_TRIES = 10  # multi-start interchanges from perturbed plans


def _lp_rounding_start(run: _Run, p: int) -> None:
    """Multi-start: interchange from the LP's ``p`` largest ``y``.

    Parameters
    ----------
    run : _Run
        Its best plan is updated.
    p : int
        Facilities to open.

    """
    order = np.argsort(-run.y, kind="stable")
    start = np.zeros(run.d.n_facilities, dtype=bool)
    start[order[:p]] = True
    run.consider(start, polish=True)


def _perturbed_starts(run: _Run, p: int) -> None:
    """Multi-start interchange from perturbations of the best plan, within a share of the time.

    Each try swaps a few open facilities for closed ones the LP uses (any closed ones if too
    few) and searches again; at most :data:`_TRIES` tries, stopping once the gap is closed.

    Parameters
    ----------
    run : _Run
        Its best plan is updated.
    p : int
        Facilities to open.

    """
    rng = np.random.default_rng(run.seed)
    t_ms = time.perf_counter() + run.heuristic_share * max(0.0, run.deadline - time.perf_counter())
    k = max(2, p // 8)
    tries = 0
    while time.perf_counter() < t_ms and tries < _TRIES and run.gap_open():
        tries += 1
        start = run.best_open.copy()
        on = np.flatnonzero(start)
        pool = np.flatnonzero(~start & (run.y > 1e-6))
        if pool.size < k:
            pool = np.flatnonzero(~start)
        kk = min(k, on.size, pool.size)
        if kk == 0:
            break
        start[rng.choice(on, kk, replace=False)] = False
        start[rng.choice(pool, kk, replace=False)] = True
        run.consider(start, polish=True)


def _support_mip(run: _Run, rc: NDArray[np.float64], lp_val: float) -> None:
    """Support MIP (a heuristic): its plan, polished, may lower the best cost.

    Only the LP's support, the best plan's facilities and those of small reduced cost may open;
    the model is restored (continuous, all facilities free, presolve off) afterwards.

    Parameters
    ----------
    run : _Run
        Its best plan and ``rounds`` are updated; the best plan's levels are added.
    rc : ndarray of float, shape (m,)
        LP reduced costs of the facilities.
    lp_val : float
        LP objective value.

    """
    import highspy

    model, m = run.model, run.d.n_facilities
    support = (run.y > 1e-6) | run.best_open | (rc < 0.05 * (run.ub - lp_val))
    _pad(model, run.best_open, 2)
    off = np.flatnonzero(~support).astype(np.int32)
    all_j = np.arange(m, dtype=np.int32)
    if off.size:
        model.h.changeColsBounds(off.size, off, np.zeros(off.size), np.zeros(off.size))
    model.h.changeColsIntegrality(m, all_j, np.full(m, highspy.HighsVarType.kInteger))
    model.h.setOptionValue("presolve", "on")
    budget = 0.25 * max(0.0, run.deadline - time.perf_counter())
    res = run_highs(model.h, time_limit=budget, gap=run.gap, hint=model.hint(run.best_open))
    run.rounds += 1
    if res.values is not None:
        run.consider(np.round(res.values[:m]) > 0.5, polish=True)
    model.h.changeColsIntegrality(m, all_j, np.full(m, highspy.HighsVarType.kContinuous))
    if off.size:
        model.h.changeColsBounds(off.size, off, np.zeros(off.size), np.ones(off.size))
    model.h.setOptionValue("presolve", "off")


def _fix_by_reduced_cost(run: _Run, rc: NDArray[np.float64], lp_val: float
                         ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Step 3: fix facilities whose reduced cost lifts the LP bound above the best plan.

    Parameters
    ----------
    run : _Run
        Its model's column bounds are changed.
    rc : ndarray of float, shape (m,)
        LP reduced costs of the facilities.
    lp_val : float
        LP objective value.

    Returns
    -------
    close, open : ndarray of bool, shape (m,)
        Facilities fixed closed (none of the best plan) and fixed open (all of the best plan).

    """
    y, ub = run.y, run.ub
    thr = ub - (1 - 1e-6) if run.integral else ub - run.tol
    close = (y < 1e-9) & (lp_val + rc > thr)
    openf = (y > 1 - 1e-9) & (lp_val - rc > thr)
    close &= ~run.best_open
    openf &= run.best_open
    for mask, lo, hi in ((close, 0.0, 0.0), (openf, 1.0, 1.0)):
        js = np.flatnonzero(mask).astype(np.int32)
        if js.size:
            run.model.h.changeColsBounds(js.size, js, np.full(js.size, lo), np.full(js.size, hi))
    return close, openf


def _shrink(run: _Run, close: NDArray[np.bool_], openf: NDArray[np.bool_]) -> None:
    """Replace the model by one without the fixed-closed facilities' pairs, solved as an LP.

    It is seeded with each client's levels up to the first one the full LP covers (coverage 1
    strictly nearer) and up to one past its cost in the best plan, then violated levels are
    added until none (or the deadline). Levels farther out are left to the generation (pmed36:
    7,700 rather than 9,100 rows; the tree's LPs about 10 % faster).

    Parameters
    ----------
    run : _Run
        ``s`` and ``model`` are replaced; ``rounds`` is updated.
    close, openf : ndarray of bool, shape (m,)
        Facilities fixed closed / open.

    """
    from layout.core.pmedian import _Sorted

    d, m = run.d, run.d.n_facilities
    keep = np.ones(m, dtype=bool)
    keep[np.flatnonzero(close)] = False
    s = run.s = _Sorted(d, keep[d.cols])
    model = run.model = _Model(s, m, run.net_fixed, d.p, run.base, run.seed, run.log)
    for mask, lo, hi in ((~keep, 0.0, 0.0), (openf, 1.0, 1.0)):
        js = np.flatnonzero(mask).astype(np.int32)
        if js.size:
            model.h.changeColsBounds(js.size, js, np.full(js.size, lo), np.full(js.size, hi))
    near, _ = s.nearest_open(run.best_open)
    upto = s.rank[near] + 1
    yv = run.y[s.cols]  # the full LP's facilities (none of them fixed closed)
    cs = np.cumsum(yv)
    before = cs - yv - (cs - yv)[s.start[s.rows]]  # LP coverage nearer than each pair
    covered = np.flatnonzero(model.level & (before >= 1 - 1e-9))
    reach = np.full(d.n_demand, np.inf)
    np.minimum.at(reach, s.rows[covered], s.costs[covered])
    model.add(np.flatnonzero(model.level & ((s.rank <= upto[s.rows])
                                            | (s.costs <= reach[s.rows]))),
              np.zeros(0, dtype=np.int64))
    first = True
    while time.perf_counter() < run.deadline:
        res = _solve_lp(model, run.deadline, cold=first)
        first = False
        run.rounds += 1
        if res.status is not SolveStatus.OPTIMAL or res.values is None:
            break
        q, hard = model.violated(res.values[:m], run.tol)
        if q.size == 0 and hard.size == 0:
            break
        model.add(q, hard)


def _final_mip(run: _Run, n_fixed: int) -> RadiusResult:
    """Step 4: the MIP (best plan as start), re-solved with violated levels added until none.

    Parameters
    ----------
    run : _Run
        The state after the LP steps; its best plan and ``rounds`` are updated.
    n_fixed : int
        Facilities fixed by reduced cost.

    Returns
    -------
    RadiusResult

    """
    import highspy

    model, m, gap = run.model, run.d.n_facilities, run.gap
    status = SolveStatus.FEASIBLE
    if run.best_open.size > 0:
        _pad(model, run.best_open, 2)
    model.h.setOptionValue("presolve", "on")
    ints = np.arange(m, dtype=np.int32)
    model.h.changeColsIntegrality(m, ints, np.full(m, highspy.HighsVarType.kInteger))
    mip_lb = -np.inf
    while (remaining := run.deadline - time.perf_counter()) > 0:
        hint = model.hint(run.best_open) if run.best_open.size > 0 else None
        res = run_highs(model.h, time_limit=remaining, gap=gap, hint=hint)
        run.rounds += 1
        if res.status is SolveStatus.INFEASIBLE:
            if run.best_open.size > 0:  # only plans at least as costly as the best were cut off
                mip_lb = run.ub
                status = SolveStatus.OPTIMAL
                break
            return run.infeasible(n_fixed)
        if np.isfinite(res.bound):
            mip_lb = max(mip_lb, run.lift(res.bound))
        if res.values is None:
            break
        y = np.round(res.values[:m])
        q, hard = model.violated(y, run.tol)
        run.consider(y > 0.5, polish=q.size > 0 or hard.size > 0)
        if q.size == 0 and hard.size == 0:
            if res.status is SolveStatus.OPTIMAL:
                status = SolveStatus.OPTIMAL
            break
        model.add(q, hard)
    # Fixings only excluded plans costing at least ``ub``.
    lb, ub = run.lb, run.ub
    bound = max(lb, min(mip_lb, ub)) if np.isfinite(mip_lb) else lb
    if run.best_open.size == 0:
        return RadiusResult(SolveStatus.NO_SOLUTION, np.zeros(m, dtype=bool), float("nan"),
                            bound, run.heur, run.rounds, model.n_rows, n_fixed)
    if status is SolveStatus.OPTIMAL or relative_gap(ub, bound) <= gap:
        status = SolveStatus.OPTIMAL
        bound = min(bound, ub)
    return RadiusResult(status, run.best_open, ub, bound, run.heur, run.rounds, model.n_rows,
                        n_fixed)
