"""Large-neighbourhood search on a single-source multi-period plan.

Rounding the root LP of a single-source model (:mod:`layout.core.multiperiod_lp`) leaves
facilities above their seats: rows are whole, so a facility the LP filled exactly with shares
of rows takes a row or two too many and pays temporary seats (or a peak overflow) for them.
On the school models this packing is almost all of the distance between the rounded plan and
the LP bound. The whole MIP mends it slowly: HiGHS spends its time in root cuts that cannot
close that distance, and in sub-MIP heuristics over the whole model.

:func:`improve` mends it locally. Around each facility that pays for temporary seats or
overflow (the costliest first), it frees the rows the plan assigns to that facility and to
every facility those rows can reach, lets them move among these facilities, and frees those
facilities' blocks, temporary seats and overflow; everything else stays as in the plan. That
sub-MIP is small (a few hundred rows) and is solved by HiGHS with a node limit, so the search
is deterministic: the same plan and seed give the same result on any machine, unless the
caller's deadline cuts it short. Rounds repeat while a round improves the plan, within a budget
counted in sub-MIPs.

Given the root LP's decisions, :func:`improve` searches the decisions instead: around each
facility whose open/close schedule in the plan is farthest from the LP's (closing a school
the LP keeps, keeping one the LP closes), it frees the rows that can reach it, the facilities
they can reach and those facilities' decisions in every period. On the school models this
finds the closures and openings the rounding missed, which the whole MIP found only after
most of its time limit.

The module works on a :class:`~layout.core.formulation.MipModel` and its
:class:`~layout.core.multiperiod_model.Layout`; any constraint of the model holds in the
result, because each sub-MIP keeps every row of the model that touches a freed variable, with
the fixed variables' part moved into its bounds.

Examples
--------
>>> import numpy as np
>>> from layout.core import MultiPeriodLocation
>>> from layout.core import multiperiod_model as mpm
>>> mp = MultiPeriodLocation.from_pairs(
...     [0, 1, 2, 0, 1, 2], [0, 0, 0, 1, 1, 1], [[1.0, 1.0, 1.0, 4.0, 4.0, 4.0]],
...     [[6.0, 6.0, 6.0]], 2, capacity=[12.0, 12.0], existing=[True, True],
...     single_source=True, temp_max=[12.0, 12.0], temp_cost=[[100.0, 100.0]])
>>> mp.solve(gap=1e-9).objective  # one row at the farther school: no temporary seats
6.0
>>> model, lay = mp._build()
>>> at_0 = np.zeros(model.obj.size)  # every row at school 0, six temporary seats there
>>> at_0[lay.x] = (mp.data.cols == 0)
>>> at_0[lay.y] = 1
>>> at_0[lay.s] = [6.0, 0.0]
>>> bool(mpm.is_feasible(model, at_0)), float(model.obj @ at_0 + model.offset)
(True, 603.0)
>>> v, cost = improve(model, lay, mp.data, at_0, lb=model.var_lb, ub=model.var_ub)
>>> cost, v[lay.s].tolist()
(6.0, [0.0, 0.0])

"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from layout.core import multiperiod_model as mpm
from layout.core.backends import highs_lp, run_highs
from layout.core.formulation import MipModel

#: Branch-and-bound nodes per sub-MIP (deterministic, unlike a time limit). Its plans come
#: from HiGHS' heuristics at the root; more nodes cost time and seldom find a better one.
LNS_NODES = 20

#: Most rounds over the facilities that pay for overflow.
LNS_ROUNDS = 3

#: Most sub-MIPs in one search (a deterministic budget). With the decision search's budget and
#: rows below: on the 71 parts of the 14 slowest counties of the synthetic province, 12, 6 and
#: 90 took 367 s for 34,358.7 M; 8, 4 and 60 take 294 s for 34,382.2 M (+0.07 %); 6 and 3
#: took longer (355 s): more parts then end above the gap and run the whole MIP.
LNS_SUBS = 8

#: HiGHS options of the sub-MIPs. They are small and are run for the plans HiGHS' root
#: heuristics find: a restart after the root (which repeats presolve and root cuts), reliable
#: pseudo-costs from strong branching, symmetry detection and cuts at nodes cost most of their
#: time and seldom gave a better plan (measured on urban primary parts of the synthetic
#: province: 16 s -> 5 s for the same search, plans as good or better).
LNS_HIGHS_OPTIONS: dict[str, bool | int | float] = {
    "mip_allow_restart": False, "mip_pscost_minreliable": 0, "mip_detect_symmetry": False,
    "mip_allow_cut_separation_at_nodes": False,
}

#: Most demand rows freed in one sub-MIP; facilities farther from the overfull one are
#: dropped from its neighbourhood beyond this.
LNS_ROWS = 120

#: Most demand rows freed in one sub-MIP of the decision search (it frees every period).
LNS_DECISION_ROWS = 60

#: Most sub-MIPs of the decision search.
LNS_DECISION_SUBS = 4

#: Least distance between a plan's decisions and the LP's (summed over periods) at which
#: the decision search looks at a facility.
LNS_APART = 0.25


def overflow_cost(model: MipModel, lay: mpm.Layout, d: mpm.MultiPeriodData,
                  v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cost per period and facility of the temporary seats and peak overflow ``v`` pays for.

    Shape (T, m).
    """
    cost = np.zeros((d.n_periods, d.n_facilities))
    for sl, fac in ((lay.s, lay.s_fac), (lay.o, lay.o_fac)):
        if sl.stop > sl.start and fac.size:
            paid = (model.obj[sl] * v[sl]).reshape(d.n_periods, fac.size)
            np.add.at(cost.T, fac, paid.T)  # cost.T is a view of cost
    return cost


def sub_mip(model: MipModel, matrix: sp.csc_array, v: NDArray[np.float64],
            free: NDArray[np.int64], lb: NDArray[np.float64], ub: NDArray[np.float64], *,
            seed: int = 0, node_limit: int | None = LNS_NODES,
            time_limit: float | None = None, gap: float = 1e-4) -> NDArray[np.float64] | None:
    """The MIP over the columns ``free`` with every other column held at ``v``.

    Parameters
    ----------
    model : MipModel
        The whole model.
    matrix : scipy.sparse.csc_array
        Its constraint matrix, column-wise.
    v : ndarray of float
        A feasible plan (full vector); it is the MIP start of the sub-MIP.
    free : ndarray of int64
        Positions of the freed columns.
    lb, ub : ndarray of float
        Column bounds of the freed columns (full vectors).
    seed, node_limit, time_limit, gap
        As :func:`layout.core.backends.run_highs`.

    Returns
    -------
    ndarray of float or None
        The full vector with the sub-MIP's values in ``free`` (integers rounded), or ``None``
        when the sub-MIP returns no plan.

    """
    part = matrix[:, free]
    rows = np.unique(part.indices)
    held = v.copy()
    held[free] = 0.0
    shift = (matrix @ held)[rows]
    sub = sp.csc_array(part[rows, :])
    h = highs_lp(model.obj[free], lb[free], ub[free], sub, model.row_lb[rows] - shift,
                 model.row_ub[rows] - shift, integer=model.integer[free], seed=seed)
    res = run_highs(h, time_limit=time_limit, gap=gap, hint=v[free], node_limit=node_limit,
                    options=LNS_HIGHS_OPTIONS)
    if res.values is None:
        return None
    out = v.copy()
    vals = res.values
    ints = model.integer[free]
    vals[ints] = np.round(vals[ints])
    out[free] = vals
    return out


def neighbourhood(lay: mpm.Layout, d: mpm.MultiPeriodData, v: NDArray[np.float64], j: int,
                  periods: NDArray[np.int64], *, max_rows: int = LNS_ROWS,
                  decisions: bool = False) -> NDArray[np.int64]:
    """Columns freed around facility ``j`` in ``periods`` (see the module docstring), sorted.

    With ``decisions`` the open/close decisions of the facilities' groups are freed as well.
    """
    T, K = d.n_periods, d.rows.size
    at = (v[lay.x].reshape(T, K)[periods] > 0.5).any(axis=0)  # pairs used in these periods
    # The rows at j; for decisions every row that can reach j (j may be closed).
    rows_j = np.unique(d.rows[(at | decisions) & (d.cols == j)])
    reach = np.isin(d.rows, rows_j)
    # Facilities the rows of j can reach, nearest (cheapest pair of these rows) first.
    near = np.full(d.n_facilities, np.inf)
    np.minimum.at(near, d.cols[reach], d.pair_cost[0, reach])  # pair_cost is (T, K)
    near[j] = -np.inf
    order = np.argsort(near, kind="stable")
    order = order[np.isfinite(near[order]) | (order == j)]
    # Add facilities until their rows pass max_rows.
    used_row = np.zeros(d.n_demand, dtype=bool)
    keep = np.zeros(d.n_facilities, dtype=bool)
    for f in order:
        rows_f = d.rows[at & (d.cols == f)]
        new = np.unique(rows_f[~used_row[rows_f]])
        if keep.any() and used_row.sum() + new.size > max_rows:
            break
        keep[f] = True
        used_row[new] = True
    pairs = np.flatnonzero(used_row[d.rows] & keep[d.cols])
    cols = [lay.x.start + (t * K + pairs) for t in periods]
    if lay.u.stop > lay.u.start:
        rows = np.flatnonzero(used_row)
        cols += [lay.u.start + t * d.n_demand + rows for t in periods]
    for sl, fac in ((lay.b, lay.b_fac), (lay.s, lay.s_fac), (lay.o, lay.o_fac)):
        if sl.stop > sl.start and fac.size:
            pos = np.flatnonzero(keep[fac])
            cols += [sl.start + t * fac.size + pos for t in range(T)]
    if lay.e.stop > lay.e.start and lay.e_fac.size:
        pos = np.flatnonzero(keep[lay.e_fac])
        cols += [lay.e.start + pos, lay.z.start + pos]
    if decisions:
        groups = np.unique(d.group[keep])
        cols += [lay.y.start + t * d.n_groups + groups for t in range(T)]
    return np.unique(np.concatenate(cols).astype(np.int64))


def improve(model: MipModel, lay: mpm.Layout, d: mpm.MultiPeriodData, v: NDArray[np.float64],
            *, lb: NDArray[np.float64], ub: NDArray[np.float64], seed: int = 0,
            deadline: float | None = None, stop_at: float | None = None,
            rounds: int = LNS_ROUNDS, node_limit: int = LNS_NODES, max_subs: int = LNS_SUBS,
            lp_decisions: NDArray[np.float64] | None = None,
            ) -> tuple[NDArray[np.float64], float]:
    """Improve the feasible plan ``v`` by sub-MIPs around its overfull facilities.

    With ``lp_decisions`` (the root LP's decisions, shape (T * G,)) the search is around the
    facilities whose decisions in ``v`` differ most from the LP's instead, and frees the
    decisions of each neighbourhood as well (in every period).

    Parameters
    ----------
    model : MipModel
        The whole model (from :func:`layout.core.multiperiod_model.formulate`).
    lay : Layout
        Its variable layout.
    d : MultiPeriodData
        Its data.
    v : ndarray of float
        A feasible plan.
    lb, ub : ndarray of float
        Column bounds to respect (e.g. the model's with the decisions fixed).
    seed : int
        HiGHS random seed.
    deadline : float, optional
        ``time.perf_counter()`` value after which no sub-MIP is started.
    stop_at : float, optional
        Stop as soon as the plan costs at most this.
    rounds, node_limit, max_subs : int
        Most rounds, nodes per sub-MIP, and sub-MIPs in all.
    lp_decisions : ndarray of float, optional
        See above.

    Returns
    -------
    tuple of (ndarray of float, float)
        The best plan and its cost.

    """
    matrix = sp.csc_array(model.matrix)
    best = v.copy()
    best_obj = float(model.obj @ best + model.offset)
    subs = 0
    every_period = np.arange(d.n_periods)
    for _ in range(rounds):
        improved = False
        if lp_decisions is None:  # around the facilities paying for overflow, where they pay
            paid = overflow_cost(model, lay, d, best)
            hot = paid.sum(axis=0)
        else:  # around the facilities whose decisions are farthest from the LP's, all periods
            apart = np.abs(best[lay.y] - lp_decisions).reshape(d.n_periods, d.n_groups).sum(
                axis=0)
            hot = np.where(apart[d.group] > LNS_APART, apart[d.group], 0.0)
        done = np.zeros(d.n_facilities, dtype=bool)
        for j in np.argsort(-hot, kind="stable"):
            if hot[j] <= 1e-9 * max(1.0, abs(best_obj)):
                break
            if done[j]:
                continue
            if subs >= max_subs or (deadline is not None and time.perf_counter() >= deadline) or (
                    stop_at is not None and best_obj <= stop_at):
                return best, best_obj
            subs += 1
            periods = (every_period if lp_decisions is not None
                       else np.flatnonzero(paid[:, j] > 0))
            free = neighbourhood(lay, d, best, int(j), periods,
                                 decisions=lp_decisions is not None,
                                 max_rows=LNS_ROWS if lp_decisions is None else LNS_DECISION_ROWS)
            left = None if deadline is None else max(1e-3, deadline - time.perf_counter())
            cand = sub_mip(model, matrix, best, free, lb, ub, seed=seed,
                           node_limit=node_limit, time_limit=left)
            fac_cols = d.cols[(free[(free >= lay.x.start) & (free < lay.x.stop)]
                               - lay.x.start) % d.rows.size]
            done[fac_cols] = True
            if cand is None or not mpm.is_feasible(model, cand):
                continue
            obj = float(model.obj @ cand + model.offset)
            if obj < best_obj - 1e-9 * max(1.0, abs(best_obj)):
                best, best_obj, improved = cand, obj, True
        if not improved:
            break
    return best, best_obj
