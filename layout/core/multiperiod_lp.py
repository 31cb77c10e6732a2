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
integral differently: each row goes to the facility of its largest LP share, a repair moves rows
out of facilities above their room and into facilities below their minimum load, and what the
repair cannot mend closes the decision below its minimum or opens a closed pair beside a full
facility, after which the fixed LP is solved again (at most ``CLOSE_ROUNDS`` rounds). A row
the LP served but the rounded plan leaves unserved gets a closed pair of its own opened and
the fixed LP solved again; the cheaper of the two plans is kept. The greedy
warm start with the rounded decisions is tried as well. When no rounded plan is within the gap,
:func:`fix_and_optimise` runs the MIP with the best plan's decisions fixed (a small model) from
that plan.

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

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from layout.core import multiperiod_model as mpm
from layout.core.backends import highs_lp, run_highs
from layout.core.formulation import MipModel
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

    """

    bound: float
    values: NDArray[np.float64] | None
    objective: float
    lp_time: float
    decisions: NDArray[np.float64] | None = None


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
    return RootLP(bound, best, best_obj, lp_time, first if best is None else best[lay.y])


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
        choice = _repair(d, lay, g, v, _largest_share(d, lay, v))
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


def _open_for_unserved(d: mpm.MultiPeriodData, lay: mpm.Layout, g: NDArray[np.float64],
                       v: NDArray[np.float64], choice: NDArray[np.int64]) -> bool:
    """Open (in ``g``) a closed pair for every row left unserved that the root LP ``v`` served.

    Rounding can close every decision a row's LP shares were spread over (a village split
    between a school below its minimum and a site rounded shut), leaving it unserved at the
    cost of unserved pupils where the LP built a few seats. The row's closed pair that can
    reach its minimum load with the row alone, then of largest LP share, then cheapest, is
    opened from then on (a site) or up to then (an existing group), as in
    :func:`_open_for_overflow`; the caller re-solves and keeps the cheaper plan. Whether any
    was opened.
    """
    if d.unserved_cost is None:
        return False
    T, n, K = d.n_periods, d.n_demand, d.rows.size
    x = v[lay.x].reshape(T, K)
    u = v[lay.u].reshape(T, n)
    opened = False
    for t in range(T):
        for i in np.flatnonzero((choice[t] < 0) & (u[t] < 0.5)):
            is_open = g[t, d.group] > 0.5
            mine = d.rows == i
            if is_open[d.cols[mine]].any():  # a pair opened for it (an earlier period) will do
                continue
            alt = np.flatnonzero(mine & ~is_open[d.cols] & (d.y_ub[t, d.group[d.cols]] > 0.5))
            if not alt.size:
                continue
            short = d.min_load[d.cols[alt]] > d.demand[t, i] + _TOL
            k = int(alt[np.lexsort((d.pair_cost[t, alt], -x[t, alt], short))[0]])
            grp = d.group[d.cols[k]]
            span = slice(t, T) if d.group_site[grp] and not d.group_existing[grp] else \
                slice(0, t + 1)
            if (d.y_ub[span, grp] < 0.5).any():
                continue
            g[span, grp] = 1.0
            opened = True
    return opened


def _open_for_overflow(d: mpm.MultiPeriodData, lay: mpm.Layout, g: NDArray[np.float64],
                       v: NDArray[np.float64], choice: NDArray[np.int64]) -> bool:
    """Open (in ``g``) a closed facility for a row of every facility still above its room.

    The row with the smallest LP share at the full facility goes to its closed pair of largest
    LP share (cheapest on ties); the facility's decision is opened from then on (a site) or
    up to then (an existing group), so the schedules stay monotone. Whether any was opened.
    """
    T, K = d.n_periods, d.rows.size
    x = v[lay.x].reshape(T, K)
    _, room = mpm.seats_room(d, lay)
    opened = False
    for t in range(T):
        served = choice[t] >= 0
        load = mpm.choice_load(d, choice, t)
        is_open = g[t, d.group] > 0.5
        for j in np.flatnonzero(is_open & (load > room + _TOL)):
            mine = np.flatnonzero(served & (d.cols[np.maximum(choice[t], 0)] == j))
            i = int(mine[np.argmin(x[t, choice[t, mine]])])
            alt = np.flatnonzero((d.rows == i) & ~is_open[d.cols]
                                 & (d.y_ub[t, d.group[d.cols]] > 0.5))
            if not alt.size:
                continue
            k = int(alt[np.lexsort((d.pair_cost[t, alt], -x[t, alt]))[0]])
            grp = d.group[d.cols[k]]
            span = slice(t, T) if d.group_site[grp] and not d.group_existing[grp] else \
                slice(0, t + 1)
            if (d.y_ub[span, grp] < 0.5).any():
                continue
            g[span, grp] = 1.0
            opened = True
    return opened


def _close_under_minimum(d: mpm.MultiPeriodData, g: NDArray[np.float64],
                         choice: NDArray[np.int64]) -> bool:
    """Close (in ``g``) every free decision below its minimum load; whether any was closed.

    As in :func:`layout.core.multiperiod_model.warm_start`: an existing group closes from that
    period on, a site stays closed up to it (the schedules stay monotone).
    """
    T = d.n_periods
    closed = False
    for t in range(T):
        load = mpm.choice_load(d, choice, t)
        for j in np.flatnonzero((g[t, d.group] > 0.5) & (load < d.min_load - _TOL)):
            grp = d.group[j]
            span = slice(t, T) if d.group_existing[grp] else slice(0, t + 1)
            if (d.y_lb[span, grp] > 0.5).any():
                return False  # fixed open below its minimum load
            g[span, grp] = 0.0
            closed = True
    return closed


def _largest_share(d: mpm.MultiPeriodData, lay: mpm.Layout,
                   v: NDArray[np.float64]) -> NDArray[np.int64]:
    """Pair with each row's largest LP share per period, shape (T, n); -1 where unserved wins."""
    T, n, K = d.n_periods, d.n_demand, d.rows.size
    x = v[lay.x].reshape(T, K)
    u = (v[lay.u].reshape(T, n) if d.unserved_cost is not None else np.zeros((T, n)))
    choice = np.full((T, n), -1, dtype=np.int64)
    for t in range(T):
        # pairs are sorted by row: the last of each row's pairs sorted by share is its largest
        order = np.lexsort((x[t], d.rows))
        last = np.r_[d.rows[order][1:] != d.rows[order][:-1], True]
        top = order[last]
        rows = d.rows[top]
        take = x[t, top] > u[t, rows]
        choice[t, rows[take]] = top[take]
    return choice


def fix_and_optimise(model: MipModel, lay: mpm.Layout, decisions: NDArray[np.float64],
                     start: NDArray[np.float64] | None, *, time_limit: float, gap: float,
                     seed: int = 0, node_limit: int | None = None, stop_at: float | None = None
                     ) -> tuple[NDArray[np.float64] | None, float]:
    """The MIP with the open/close ``decisions`` fixed (fix and optimise).

    With the decisions fixed only the assignment, blocks and temporary seats are left, a MIP
    HiGHS presolves to a fraction of the whole. ``start`` (a plan, used as MIP start when its
    decisions are ``decisions``) is returned when the MIP finds nothing better; it stops at a
    plan costing at most ``stop_at`` (within the caller's gap of the whole model's LP bound,
    which this MIP does not know). Returns the plan (``None`` if there is none) and its cost
    (``inf`` then).
    """
    lb, ub = model.var_lb.copy(), model.var_ub.copy()
    lb[lay.y] = ub[lay.y] = decisions
    hint = start if start is not None and np.array_equal(start[lay.y], decisions) else None
    h = highs_lp(model.obj, lb, ub, sp.csc_array(model.matrix), model.row_lb, model.row_ub,
                 integer=model.integer, offset=model.offset, seed=seed)
    res = run_highs(h, time_limit=time_limit, gap=gap, hint=hint, node_limit=node_limit,
                    stop_at=stop_at)
    best, best_obj = start, (float(model.obj @ start + model.offset) if start is not None
                             else np.inf)
    if res.values is not None and mpm.is_feasible(model, res.values):
        obj = float(model.obj @ res.values + model.offset)
        if obj < best_obj:
            return res.values, obj
    return best, best_obj


def _repair(d: mpm.MultiPeriodData, lay: mpm.Layout, g: NDArray[np.float64],
            v: NDArray[np.float64], choice: NDArray[np.int64]) -> NDArray[np.int64]:
    """Move rows so that no open facility is above its room or below its minimum load.

    A facility above its room (capacity, every block, temporary seats) gives away its rows
    with the smallest LP shares, each to its open pair of largest share with room left; a
    facility below its minimum load takes back the rows with a positive LP share at it whose
    facility stays at or above its own minimum. Rounds until nothing moves (at most n per
    period); what is left is caught by the feasibility check of the plan.
    """
    T, n, K = d.n_periods, d.n_demand, d.rows.size
    x = v[lay.x].reshape(T, K)
    _, room = mpm.seats_room(d, lay)
    choice = choice.copy()
    for t in range(T):
        is_open = g[t, d.group] > 0.5
        ok_pair = is_open[d.cols]
        dem = d.demand[t]
        for _ in range(n):
            served = choice[t] >= 0
            load = mpm.choice_load(d, choice, t)
            over = np.flatnonzero(is_open & (load > room + _TOL))
            under = np.flatnonzero(is_open & (load < d.min_load - _TOL))
            if over.size:
                j = int(over[0])
                mine = np.flatnonzero(served & (d.cols[np.maximum(choice[t], 0)] == j))
                moved = False
                for i in mine[np.argsort(x[t, choice[t, mine]], kind="stable")]:
                    alt = np.flatnonzero((d.rows == i) & ok_pair & (d.cols != j))
                    alt = alt[load[d.cols[alt]] + dem[i] <= room[d.cols[alt]] + _TOL]
                    if alt.size:
                        choice[t, i] = int(alt[np.argmax(x[t, alt])])
                        moved = True
                        break
                if not moved:
                    break
            elif under.size:
                j = int(under[0])
                pulls = np.flatnonzero((d.cols == j) & (x[t] > _TOL))
                pulls = pulls[choice[t, d.rows[pulls]] != pulls]
                donors = choice[t, d.rows[pulls]]
                keep = (donors < 0) | (load[d.cols[np.maximum(donors, 0)]] - dem[d.rows[pulls]]
                                       >= d.min_load[d.cols[np.maximum(donors, 0)]] - _TOL)
                pulls = pulls[keep]
                if not pulls.size:
                    break
                k = int(pulls[np.argmax(x[t, pulls])])
                choice[t, d.rows[k]] = k
            else:
                break
    return choice
