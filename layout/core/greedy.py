"""A greedy feasible plan: warm start for the MIP and fallback when the solver finds none.

Starting from a set of facilities believed open (plus every forced-open group), each demand point
in turn (fewest options first, then largest) goes to the allowed facility with the lowest cost of serving it,
counting the expansion blocks it would need and, for a facility not yet open, its net fixed
cost (it is then opened); a point with no room left anywhere is left
unserved (when ``unserved_cost`` permits it). Open facilities below their minimum load are then
closed (their whole link group) and the assignment repeated, until none violates it; open
groups serving nobody are closed when that is cheaper. Finally a closed facility that unserved
points could use is opened, with enough nearby points moved to it to reach its minimum load,
when that lowers the cost. The resulting full variable vector is
checked against every constraint of the MIP; only a feasible vector is returned.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from layout.core.formulation import MipModel
from layout.core.inputs import CoreData

_TOL = 1e-6


def _assign(
    d: CoreData,
    g_open: NDArray[np.bool_],
    g_allowed: NDArray[np.bool_],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_]] | None:
    """Assign every demand point to one pair (index) or -1 (unserved); ``None`` if impossible.

    Groups in ``g_allowed`` but not open may be opened on demand at their net fixed cost.
    """
    n, m = d.n_demand, d.n_facilities
    g_open = g_open.copy()
    g_cost = np.bincount(d.group, weights=d.fixed_cost - d.closed_cost, minlength=d.n_groups)
    ptr = np.searchsorted(d.rows, np.arange(n + 1))
    cap = d.capacity if d.capacity is not None else np.full(m, np.inf)
    room_max = cap + d.max_blocks * d.expansion_block
    per_block = np.where(d.expansion_block > 0, d.expansion_cost, 0.0)
    load = np.zeros(m)
    choice = np.full(n, -1, dtype=np.int64)
    # Fewest options first, then largest demand (ties keep index order: deterministic).
    for i in np.lexsort((-d.demand, np.diff(ptr))):
        ks = np.arange(ptr[i], ptr[i + 1])
        js = d.cols[ks]
        gs = d.group[js]
        ok = (g_open[gs] | g_allowed[gs]) & (load[js] + d.demand[i] <= room_max[js] + _TOL)
        best_cost = d.unserved_cost[i] if d.unserved_cost is not None else np.inf
        if ok.any():
            ks, js = ks[ok], js[ok]
            before = np.maximum(0.0, load[js] - cap[js])
            after = np.maximum(0.0, load[js] + d.demand[i] - cap[js])
            blk = np.where(d.expansion_block[js] > 0, d.expansion_block[js], 1.0)
            extra = np.ceil(after / blk - _TOL) - np.ceil(before / blk - _TOL)
            gs = gs[ok]
            total = (
                d.costs[ks]
                + np.maximum(extra, 0.0) * per_block[js]
                + np.where(g_open[gs], 0.0, np.maximum(g_cost[gs], 0.0))
            )
            best = int(np.argmin(total))
            if total[best] <= best_cost:
                choice[i] = ks[best]
                load[js[best]] += d.demand[i]
                g_open[gs[best]] = True
                continue
        if not np.isfinite(best_cost):
            return None
    return choice, load, g_open


def greedy_plan(
    d: CoreData,
    model: MipModel,
    open_hint: NDArray[np.bool_],
    max_rounds: int = 50,
) -> NDArray[np.float64] | None:
    """Greedy feasible variable vector of ``model`` starting from ``open_hint`` (see module doc).

    Parameters
    ----------
    d : CoreData
        The problem data.
    model : MipModel
        Its formulation (variable layout and constraints used for the feasibility check).
    open_hint : ndarray of bool, shape (m,)
        Facilities to start from as open.
    max_rounds : int
        Most close-and-reassign rounds for minimum-load violations.

    Returns
    -------
    ndarray of float or None
        A vector satisfying every constraint and bound, or ``None`` (e.g. ``p`` is given, or a
        forced-open facility cannot reach its minimum load).

    """
    if d.p is not None:
        return None
    m = d.n_facilities
    g_open = (np.bincount(d.group, weights=open_hint, minlength=d.n_groups) > 0) | d.group_open
    g_open &= ~d.group_closed
    g_allowed = ~d.group_closed
    load = np.zeros(m)
    choice = np.zeros(0, dtype=np.int64)
    for _ in range(max_rounds):
        res = _assign(d, g_open, g_allowed)
        if res is None:
            return None
        choice, load, g_used = res
        short = g_used[d.group] & (load < d.min_load - _TOL)
        if not short.any():
            g_open = g_used
            break
        bad_groups = np.unique(d.group[short])
        if d.group_open[bad_groups].any():
            return None
        g_open[bad_groups] = False
        g_allowed[bad_groups] = False
    else:
        return None
    values = _vector(d, model, choice, g_open)
    if not is_feasible(model, values):
        return None
    return _reopen_for_unserved(d, model, choice, values)


def _vector(
    d: CoreData,
    model: MipModel,
    choice: NDArray[np.int64],
    g_open: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Variable vector of an assignment (pair per point, -1 unserved); idle groups closed."""
    load = np.bincount(
        d.cols[choice[choice >= 0]], weights=d.demand[choice >= 0], minlength=d.n_facilities
    )
    served = np.bincount(d.group, weights=load, minlength=d.n_groups)
    saving = np.bincount(d.group, weights=d.fixed_cost - d.closed_cost, minlength=d.n_groups)
    g_open = g_open & ~((served <= _TOL) & (saving > 0) & ~d.group_open)
    g_open |= served > _TOL
    values = np.zeros(model.obj.size)
    values[model.x.start + choice[choice >= 0]] = 1.0
    values[model.y] = g_open
    if model.b_facilities.size and d.capacity is not None:
        j = model.b_facilities
        need = np.maximum(0.0, load[j] - d.capacity[j]) / d.expansion_block[j]
        values[model.b] = np.ceil(need - _TOL)
    if model.u_demands.size:
        values[model.u] = (choice < 0)[model.u_demands]
    return values


def _reopen_for_unserved(
    d: CoreData,
    model: MipModel,
    choice: NDArray[np.int64],
    values: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Open a closed single-facility group for unserved points when that lowers the cost.

    The unserved points that may use facility j move there, then the served points that may use
    it, cheapest move first, until j reaches its minimum load; kept only if the result is
    feasible (e.g. no other facility falls below its own minimum) and cheaper.
    """
    best_obj = float(model.obj @ values)
    g_open = values[model.y] > 0.5
    size = np.bincount(d.group, minlength=d.n_groups)
    unserved_rows = np.flatnonzero(choice < 0)
    cand = np.unique(d.cols[np.isin(d.rows, unserved_rows)])
    cap = d.capacity if d.capacity is not None else np.full(d.n_facilities, np.inf)
    room = cap + d.max_blocks * d.expansion_block
    current = np.where(choice >= 0, d.costs[np.maximum(choice, 0)], np.inf)
    for j in cand:
        g = d.group[j]
        if g_open[g] or d.group_closed[g] or size[g] != 1:
            continue
        ks = np.flatnonzero(d.cols == j)
        rows = d.rows[ks]
        first = choice[rows] < 0
        rest = np.flatnonzero(~first)
        rest = rest[np.argsort(d.costs[ks[rest]] - current[rows[rest]], kind="stable")]
        take = list(np.flatnonzero(first))
        load = d.demand[rows[take]].sum()
        for k in rest:
            if load >= d.min_load[j] - _TOL:
                break
            take.append(k)
            load += d.demand[rows[k]]
        if load > room[j] + _TOL or load < d.min_load[j] - _TOL:
            continue
        trial = choice.copy()
        trial[rows[take]] = ks[take]
        opened = g_open.copy()
        opened[g] = True
        vec = _vector(d, model, trial, opened)
        obj = float(model.obj @ vec)
        if obj < best_obj - 1e-9 * max(1.0, abs(best_obj)) and is_feasible(model, vec):
            choice, values, best_obj, g_open = trial, vec, obj, vec[model.y] > 0.5
            current = np.where(choice >= 0, d.costs[np.maximum(choice, 0)], np.inf)
    return values


def is_feasible(model: MipModel, values: NDArray[np.float64], tol: float = 1e-6) -> bool:
    """Whether ``values`` satisfies the bounds, integrality and every row of ``model``."""
    if (values < model.var_lb - tol).any() or (values > model.var_ub + tol).any():
        return False
    ints = values[model.integer]
    if (np.abs(ints - np.round(ints)) > tol).any():
        return False
    act = model.matrix @ values
    scale = 1.0 + np.abs(act)
    return bool(((act >= model.row_lb - tol * scale) & (act <= model.row_ub + tol * scale)).all())
