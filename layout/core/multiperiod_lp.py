"""Root LP of the multi-period MIP: its bound, and plans rounded from it.

The LP relaxation of the strong multi-period formulation (one linking row per pair and
period) is tight on the school models: on the 34 parts of the embedded city's staged plan the
best plan lies 0.1-2 % above it, while branch and bound from a greedy start spends most of its
time in root cuts and sub-MIP heuristics before it stops at the requested gap. So
:meth:`layout.core.MultiPeriodLocation.solve` first solves the LP, rounds it to plans
(:func:`root_lp`), and runs the MIP only when no rounded plan is within the requested gap of the
LP bound. A plan returned that way is proven within the gap (its ``bound`` is the LP's).

Rounding (LP-guided fix and re-solve): for each threshold, a decision is open in a period where
its LP value reaches the threshold (a monotone LP schedule stays monotone), clipped to the
fixings; the LP is re-solved with those decisions fixed, its cumulative blocks are rounded up
(still monotone, still within ``max_blocks``: ceilings of integers' fractions), and the LP is
re-solved once more with the blocks fixed for the best assignment and temporary seats. A
rounded plan that violates a row (a minimum load the fixed decisions cannot reach) is
dropped. Both re-solves start from the previous basis, so each costs a fraction of the first LP.

Single-source models (the school models: a village goes to one school per milestone) are made
integral differently: each row goes to the facility of its largest LP share; rows at a facility
above its seats and LP blocks move, smallest share first, to a pair with seats left when the
longer journey costs less than the temporary seats saved (:func:`_spread`); a repair moves rows
out of facilities above their room and into facilities below their minimum load, and what the
repair cannot mend closes the decision below its minimum or opens a closed pair beside a full
facility, after which the fixed LP is solved again (at most ``CLOSE_ROUNDS`` rounds). A row
the LP served but the rounded plan leaves unserved gets a closed pair of its own opened and
the fixed LP solved again; the cheaper of the two plans is kept. The greedy
warm start with the rounded decisions is tried as well. When no rounded plan is within the gap,
:func:`fix_and_optimise` runs the MIP with the best plan's decisions fixed (a small model) from
that plan; for single-source models a smaller one instead, in which the rows the fixed LP serves
whole keep their facility and only the rows it splits are chosen, followed by the local search
of :mod:`layout.core.multiperiod_lns`.

Examples
--------
>>> import numpy as np
>>> from layout.core import MultiPeriodLocation
>>> mp = MultiPeriodLocation.from_pairs([0, 0], [0, 1], [[1.0, 3.0], [1.0, 3.0]],
...                                     [[10.0], [10.0]], 2, fixed_cost=[5.0, 1.0])
>>> model, lay = mp._build()
>>> r = root_lp(mp.data, model, lay)
>>> round(r.bound, 6), round(r.objective, 6)
(8.0, 8.0)

"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from layout.core import multiperiod_model as mpm
from layout.core.backends import highs_lp, run_highs
from layout.core.formulation import MipModel
from layout.core.multiperiod_lns import improve
from layout.core.multiperiod_single import (
    _close_under_minimum,
    _largest_share,
    _open_for_overflow,
    _open_for_unserved,
    _repair,
    _spread,
)
from layout.core.status import SolveStatus

#: LP thresholds at which a decision is rounded open, tried in this order.
THRESHOLDS = (0.5, 0.3, 0.2, 0.1)

#: Rounds of closing (below minimum) or opening (beside a full facility) decisions and
#: re-solving the fixed LP (single source).
CLOSE_ROUNDS = 4

_TOL = 1e-6


@dataclass(frozen=True)
class RootLP:
    """Outcome of :func:`root_lp`.

    Attributes
    ----------
    bound : float
        Objective of the LP relaxation (a lower bound); ``-inf`` if the LP was not solved.
    values : ndarray of float or None
        The best rounded plan (a full solution vector that satisfies the MIP), or ``None``.
    objective : float
        Its cost (``inf`` when there is none).
    lp_time : float
        Seconds of the first LP solve.
    decisions : ndarray of float or None
        The decisions (``y`` part of a solution vector) of the best rounded plan, else those
        rounded at the first threshold (``None`` if the LP was not solved).
    lp_decisions : ndarray of float or None
        The LP's own (fractional) decisions (``None`` if the LP was not solved).

    """

    bound: float
    values: NDArray[np.float64] | None
    objective: float
    lp_time: float
    decisions: NDArray[np.float64] | None = None
    lp_decisions: NDArray[np.float64] | None = None


def root_lp(d: mpm.MultiPeriodData, model: MipModel, lay: mpm.Layout, *,
            time_limit: float | None = None, seed: int = 0,
            thresholds: tuple[float, ...] = THRESHOLDS) -> RootLP:
    """Solve the LP relaxation of ``model`` and round it to plans (see the module docstring).

    Parameters
    ----------
    d : MultiPeriodData
        The data of the model.
    model : MipModel
        From :func:`layout.core.multiperiod_model.formulate`.
    lay : Layout
        Its variable layout.
    time_limit : float, optional
        Seconds for all LP solves together.
    seed : int
        HiGHS random seed.
    thresholds : tuple of float
        Rounding thresholds, each in (0, 1].

    Returns
    -------
    RootLP

    """
    matrix = sp.csc_array(model.matrix)
    h = highs_lp(model.obj, model.var_lb, model.var_ub, matrix, model.row_lb, model.row_ub,
                 offset=model.offset, seed=seed)
    res = run_highs(h, time_limit=time_limit)
    if res.status is not SolveStatus.OPTIMAL or res.values is None:
        return RootLP(-np.inf, None, np.inf, res.wall_time, None)
    lp_time, bound = res.wall_time, res.objective
    T, G = d.n_periods, d.n_groups
    y_lp = res.values[lay.y].reshape(T, G)
    best: NDArray[np.float64] | None = None
    best_obj = np.inf
    seen: set[bytes] = set()
    first = np.clip((y_lp >= thresholds[0] - _TOL).astype(float), d.y_lb, d.y_ub).ravel()
    for thr in thresholds:
        g = np.clip((y_lp >= thr - _TOL).astype(float), d.y_lb, d.y_ub)
        key = g.tobytes()
        if key in seen:
            continue
        seen.add(key)
        plans = [_fix_and_resolve(h, d, model, lay, g, res.values),
                 mpm.warm_start(d, model, lay, g > 0.5)]
        for v in plans:
            if v is None or not mpm.is_feasible(model, v):
                continue
            obj = float(model.obj @ v + model.offset)
            if obj < best_obj - 1e-9 * max(1.0, abs(obj)):
                best, best_obj = v, obj
    return RootLP(bound, best, best_obj, lp_time, first if best is None else best[lay.y],
                  res.values[lay.y].copy())


def _fix_and_resolve(h: Any, d: mpm.MultiPeriodData, model: MipModel, lay: mpm.Layout,
                     g: NDArray[np.float64], root: NDArray[np.float64]
                     ) -> NDArray[np.float64] | None:
    """Re-solve the LP with the decisions ``g`` fixed and make its plan integral.

    Single-source models: each row goes to the facility with its largest LP share in each
    period (unserved where that share is largest), seats above capacity from temporary seats
    and blocks (:func:`layout.core.multiperiod_model.plan_vector`); rows the root LP
    ``root`` served but the plan does not get a pair opened (:func:`_open_for_unserved`).
    Otherwise the cumulative blocks are rounded up and the LP re-solved with them fixed.
    """
    y_idx = np.arange(lay.y.start, lay.y.stop, dtype=np.int32)
    b_idx = np.arange(lay.b.start, lay.b.stop, dtype=np.int32)
    if b_idx.size:  # blocks free again (a previous threshold fixed them)
        h.changeColsBounds(b_idx.size, b_idx, model.var_lb[lay.b], model.var_ub[lay.b])
    g = g.copy()
    kept: NDArray[np.float64] | None = None  # a plan that left LP-served rows unserved
    for _ in range(CLOSE_ROUNDS if d.single_source else 1):
        gv = g.ravel()
        h.changeColsBounds(y_idx.size, y_idx, gv, gv)
        res = run_highs(h)
        if res.status is not SolveStatus.OPTIMAL or res.values is None:
            return kept
        v = res.values
        if not d.single_source:
            break
        choice = _repair(d, lay, g, v, _spread(d, model, lay, g, v, _largest_share(d, lay, v)))
        plan = mpm.plan_vector(d, model, lay, g, choice)
        if plan is not None:
            kept = _cheaper(model, kept, plan)
            if not _open_for_unserved(d, lay, g, root, choice):
                return kept
            continue
        if not (_close_under_minimum(d, g, choice) | _open_for_overflow(d, lay, g, v, choice)):
            return kept
    else:
        return kept
    if b_idx.size:
        b = np.minimum(np.ceil(v[lay.b] - _TOL), model.var_ub[lay.b])
        h.changeColsBounds(b_idx.size, b_idx, b, b)
        res = run_highs(h)
        if res.status is not SolveStatus.OPTIMAL or res.values is None:
            return None
        v = res.values.copy()
        v[lay.b] = b
    v[lay.y] = g.ravel()
    return v


def _cheaper(model: MipModel, a: NDArray[np.float64] | None,
             b: NDArray[np.float64]) -> NDArray[np.float64]:
    """The cheaper of two plans (``b`` when ``a`` is ``None``; ``a`` on ties)."""
    if a is None or float(model.obj @ b) < float(model.obj @ a):
        return b
    return a


def fix_and_optimise(model: MipModel, lay: mpm.Layout, decisions: NDArray[np.float64],
                     start: NDArray[np.float64] | None, *, time_limit: float, gap: float,
                     seed: int = 0, node_limit: int | None = None, stop_at: float | None = None,
                     d: mpm.MultiPeriodData | None = None, search: bool = True,
                     ) -> tuple[NDArray[np.float64] | None, float]:
    """The MIP with the open/close ``decisions`` fixed (fix and optimise).

    With the decisions fixed only the assignment, blocks and temporary seats are left, a MIP
    HiGHS presolves to a fraction of the whole. ``start`` (a plan, used as MIP start when its
    decisions are ``decisions``) is returned when the MIP finds nothing better; it stops at a
    plan costing at most ``stop_at`` (within the caller's gap of the whole model's LP bound,
    which this MIP does not know). Returns the plan (``None`` if there is none) and its cost
    (``inf`` then).

    With ``d`` of a single-source model, a smaller MIP comes first: the LP with the decisions
    fixed serves most rows whole, and those rows keep their facility; only the rows it splits
    are left to the MIP (on the school models a few hundred of several thousand, where the
    whole fixed MIP spends its time in root cuts). If the better plan is not yet within
    ``stop_at``, :func:`layout.core.multiperiod_lns.improve` re-assigns rows around the
    facilities that pay for temporary seats or overflow, with the decisions still fixed; the
    whole fixed MIP runs only when neither gave a plan, or instead of the search when
    ``search`` is false.
    """
    lb, ub = model.var_lb.copy(), model.var_ub.copy()
    lb[lay.y] = ub[lay.y] = decisions
    best, best_obj = start, (float(model.obj @ start + model.offset) if start is not None
                             else np.inf)
    deadline = time.perf_counter() + time_limit
    matrix = sp.csc_array(model.matrix)
    if d is not None and d.single_source:
        plan = _split_rows_mip(model, lay, d, lb, ub, matrix, best, time_limit=time_limit,
                               gap=gap, seed=seed, node_limit=node_limit, stop_at=stop_at)
        if plan is not None and (obj := float(model.obj @ plan + model.offset)) < best_obj:
            best, best_obj = plan, obj
        if stop_at is not None and best_obj <= stop_at:
            return best, best_obj
        if best is not None and search:
            # Local search around the overfull facilities instead of the whole fixed MIP, whose
            # root cuts cannot close the packing gap (see :mod:`layout.core.multiperiod_lns`).
            return improve(model, lay, d, best, lb=lb, ub=ub, seed=seed, deadline=deadline,
                           stop_at=stop_at)
    left = deadline - time.perf_counter()
    if left <= 0:
        return best, best_obj
    hint = best if best is not None and np.array_equal(best[lay.y], decisions) else None
    h = highs_lp(model.obj, lb, ub, matrix, model.row_lb, model.row_ub,
                 integer=model.integer, offset=model.offset, seed=seed)
    res = run_highs(h, time_limit=left, gap=gap, hint=hint, node_limit=node_limit,
                    stop_at=stop_at)
    if res.values is not None and mpm.is_feasible(model, res.values):
        obj = float(model.obj @ res.values + model.offset)
        if obj < best_obj:
            return res.values, obj
    return best, best_obj


def _split_rows_mip(model: MipModel, lay: mpm.Layout, d: mpm.MultiPeriodData,
                    lb: NDArray[np.float64], ub: NDArray[np.float64], matrix: sp.csc_array,
                    start: NDArray[np.float64] | None, *, time_limit: float, gap: float,
                    seed: int, node_limit: int | None, stop_at: float | None
                    ) -> NDArray[np.float64] | None:
    """The fixed MIP (bounds ``lb``, ``ub``) with every row its fixed LP serves whole kept there.

    Returns the plan (``None`` when the LP or the MIP finds none).
    """
    deadline = time.perf_counter() + time_limit
    h = highs_lp(model.obj, lb, ub, matrix, model.row_lb, model.row_ub, offset=model.offset,
                 seed=seed)
    lp = run_highs(h, time_limit=time_limit)
    if lp.status is not SolveStatus.OPTIMAL or lp.values is None:
        return None
    T, n, K = d.n_periods, d.n_demand, d.rows.size
    x = lp.values[lay.x].reshape(T, K)
    whole = np.zeros((T, n), dtype=bool)  # rows served whole (or not at all) by the LP
    for t in range(T):
        top = np.zeros(n)
        np.maximum.at(top, d.rows, x[t])
        unserved = lp.values[lay.u].reshape(T, n)[t] if lay.u.stop > lay.u.start else np.zeros(n)
        whole[t] = (top > 1 - _TOL) | (unserved > 1 - _TOL)
    keep = whole[:, d.rows]  # (T, K): pairs of whole rows keep their LP value
    xl, xu = lb[lay.x].reshape(T, K), ub[lay.x].reshape(T, K)
    xv = np.round(x)
    lb2, ub2 = lb.copy(), ub.copy()
    lb2[lay.x] = np.where(keep, xv, xl).ravel()
    ub2[lay.x] = np.where(keep, xv, xu).ravel()
    if lay.u.stop > lay.u.start:
        u = np.round(lp.values[lay.u].reshape(T, n))
        lb2[lay.u] = np.where(whole, u, lb[lay.u].reshape(T, n)).ravel()
        ub2[lay.u] = np.where(whole, u, ub[lay.u].reshape(T, n)).ravel()
    hint = None
    if start is not None and np.all(start >= lb2 - _TOL) and np.all(start <= ub2 + _TOL):
        hint = start
    h = highs_lp(model.obj, lb2, ub2, matrix, model.row_lb, model.row_ub,
                 integer=model.integer, offset=model.offset, seed=seed)
    res = run_highs(h, time_limit=max(1e-3, deadline - time.perf_counter()), gap=gap,
                    hint=hint, node_limit=node_limit, stop_at=stop_at)
    if res.values is None or not mpm.is_feasible(model, res.values):
        return None
    return res.values
