"""Exact fast path for uncapacitated facility location and p-median ("nearest pairs, then grow").

Used by :meth:`layout.core.FacilityLocation.solve` when the instance has no capacity, minimum
load, expansion, unserved option, link group or forced facility (see :func:`is_simple`).

Method (each step keeps the result exact):

1. **Heuristic plan** — greedy add + interchange (:mod:`layout.core.interchange`) gives an
   upper bound and the MIP start.
2. **Pair reduction (p-median)** — with exactly ``p`` open, at most ``m - p`` facilities are
   closed, so among a client's ``m - p + 1`` nearest permitted facilities (ties kept) one is open:
   farther pairs are never needed and are dropped for good.
3. **Restricted model with a far variable** — client i keeps only its ``K_i`` nearest pairs (ties
   kept; initially a few beyond the heuristic's nearest open one). Instead of its other pairs it
   gets one variable ``f_i`` (share served "far"), not linked to any facility, at cost ``r_i`` =
   the cost of its nearest dropped pair. Every plan of the full model maps to a plan of this model
   of no greater cost (shares of dropped pairs go to ``f_i``, each costing at least ``r_i``), so
   the restricted optimum — indeed its solver bound — is a **lower bound** of the full optimum.
   The restricted plan's facilities, each client then served by its nearest open one, are a
   feasible full plan: an **upper bound**. If the restricted optimum uses no ``f_i`` for a client
   whose nearest open facility costs more than ``r_i``, both bounds meet and the plan is optimal.
   Otherwise those clients' ``K_i`` grow (at least doubled, and past their nearest open facility)
   and the model is solved again; it only grows, so this ends (at worst with every pair).
4. **Time limit** — one deadline for everything; at the deadline the best plan so far is returned
   with the best lower bound (status ``feasible`` and its gap).

The restricted models go to HiGHS through ``highspy`` (it accepts the MIP start) or SCIP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from layout.core.backends import solve_mip
from layout.core.formulation import MipModel
from layout.core.inputs import CoreData
from layout.core.interchange import local_search
from layout.core.lagrange import lagrange_fix
from layout.core.radius import solve_radius
from layout.core.status import SolveStatus, relative_gap

#: Largest ``n * m`` for which the dense interchange heuristic runs (memory ~ 5 arrays of it).
DENSE_LIMIT = 20_000_000


def is_simple(d: CoreData) -> bool:
    """Whether ``d`` is plain uncapacitated facility location / p-median (the fast path applies)."""
    return bool(
        d.capacity is None and d.unserved_cost is None and d.n_groups == d.n_facilities
        and not (d.min_load > 0).any() and not (d.max_blocks > 0).any()
        and not d.group_open.any() and not d.group_closed.any()
    )


@dataclass(frozen=True)
class SimpleResult:
    """Outcome of :func:`solve_simple`.

    Attributes
    ----------
    status : SolveStatus
    open : ndarray of bool, shape (m,)
    choice : ndarray of int64, shape (n,)
        Pair index (into ``d.rows``) serving each client, -1 without a plan.
    objective, bound : float
    heuristic_objective : float
        Cost of the greedy + interchange plan (``nan`` if it did not run).
    rounds : int
        Restricted models solved.
    pairs : int
        Pairs in the last restricted model (of ``d.rows.size``).
    threads : int

    """

    status: SolveStatus
    open: NDArray[np.bool_]
    choice: NDArray[np.int64]
    objective: float
    bound: float
    heuristic_objective: float
    rounds: int
    pairs: int
    threads: int


class _Sorted:
    """Pairs sorted by client, then cost, then facility, with per-client offsets."""

    def __init__(self, d: CoreData, mask: NDArray[np.bool_] | None = None) -> None:
        idx = np.arange(d.rows.size) if mask is None else np.flatnonzero(mask)
        self.order = idx[np.lexsort((d.cols[idx], d.costs[idx], d.rows[idx]))]
        self.rows, self.cols = d.rows[self.order], d.cols[self.order]
        self.costs = d.costs[self.order]
        self.start = np.searchsorted(self.rows, np.arange(d.n_demand + 1))
        self.count = np.diff(self.start)
        self.rank = np.arange(self.rows.size) - self.start[self.rows]

    def nearest_open(self, is_open: NDArray[np.bool_], upto: NDArray[np.int64] | None = None
                     ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """First open pair (sorted position) per client and its cost (-1 / inf if none).

        With ``upto``, only each client's first ``upto[i]`` sorted pairs are searched.
        """
        n = self.count.size
        ok = is_open[self.cols]
        if upto is not None:
            ok &= self.rank < upto[self.rows]
        pos = np.flatnonzero(ok)
        cl, first = np.unique(self.rows[pos], return_index=True)
        best = np.full(n, -1, dtype=np.int64)
        best[cl] = pos[first]
        cost = np.where(best >= 0, self.costs[np.maximum(best, 0)], np.inf)
        return best, cost

    def keep_count(self, k: NDArray[np.int64]) -> NDArray[np.int64]:
        """Pairs kept per client for ``k`` nearest with ties at the k-th cost kept."""
        k = np.clip(k, 1, self.count)
        has = self.count > 0
        kth = np.full(self.count.size, -np.inf)
        kth[has] = self.costs[self.start[:-1][has] + k[has] - 1]
        kept = self.costs <= kth[self.rows]
        return np.bincount(self.rows[kept], minlength=self.count.size).astype(np.int64)


def _restricted_model(
    d: CoreData, s: _Sorted, keep: NDArray[np.int64], full: NDArray[np.bool_],
    y_lb: NDArray[np.float64], y_ub: NDArray[np.float64],
) -> tuple[MipModel, NDArray[np.int64], NDArray[np.int64]]:
    """MIP on each client's first ``keep[i]`` sorted pairs plus a far variable where not ``full``.

    Returns the model, the sorted positions of its x variables and the clients of its far variables.
    """
    n = d.n_demand
    pos = np.flatnonzero(s.rank < keep[s.rows])
    far = np.flatnonzero(~full & (keep < s.count))
    far_cost = s.costs[s.start[far] + keep[far]]
    nx, ng, nf = pos.size, d.n_groups, far.size
    x, y, u = slice(0, nx), slice(nx, nx + ng), slice(nx + ng, nx + ng + nf)
    g = d.group[s.cols[pos]]
    obj = np.concatenate([
        s.costs[pos], np.bincount(d.group, weights=d.fixed_cost - d.closed_cost, minlength=ng),
        far_cost,
    ])
    integer = np.zeros(obj.size, dtype=bool)
    integer[y] = True
    r = [s.rows[pos], far, n + np.arange(nx), n + np.arange(nx)]
    c = [np.arange(nx), u.start + np.arange(nf), np.arange(nx), y.start + g]
    v = [np.ones(nx), np.ones(nf), np.ones(nx), -np.ones(nx)]
    lb = [np.ones(n), np.full(nx, -np.inf)]
    ub = [np.ones(n), np.zeros(nx)]
    if d.p is not None:
        r.append(np.full(ng, n + nx))
        c.append(y.start + np.arange(ng))
        v.append(np.ones(ng))
        lb.append(np.array([float(d.p)]))
        ub.append(np.array([float(d.p)]))
    n_rows = n + nx + (d.p is not None)
    matrix = sp.csr_array((np.concatenate(v), (np.concatenate(r), np.concatenate(c))),
                          shape=(n_rows, obj.size))
    var_lb, var_ub = np.zeros(obj.size), np.ones(obj.size)
    var_lb[y], var_ub[y] = y_lb, y_ub
    model = MipModel(
        obj=obj, var_lb=var_lb, var_ub=var_ub, integer=integer,
        offset=float(d.closed_cost.sum()), matrix=matrix, row_lb=np.concatenate(lb),
        row_ub=np.concatenate(ub), x=x, y=y, b=slice(u.start, u.start), u=u,
        b_facilities=np.zeros(0, dtype=np.int64), u_demands=far.astype(np.int64),
    )
    return model, pos, far


def _plan_cost(d: CoreData, s: _Sorted, is_open: NDArray[np.bool_]) -> float:
    _, cost = s.nearest_open(is_open)
    return float(cost.sum() + (d.fixed_cost - d.closed_cost)[is_open].sum() + d.closed_cost.sum())


@dataclass
class _Search:
    """State of :func:`solve_simple`: best plan, its cost, best lower bound, solve counters."""

    best_open: NDArray[np.bool_] | None = None
    best_ub: float = np.inf
    lb: float = -np.inf
    rounds: int = 0
    pairs: int = 0
    threads: int = 1


def _heuristic(d: CoreData, s: _Sorted, dense: NDArray[np.float64], net_fixed: NDArray[np.float64],
               budget: float, state: _Search) -> tuple[float, NDArray[np.bool_], NDArray[np.bool_]]:
    """Interchange plan, then Lagrangian bound and fixing against it (steps 1 and 2 of the docstring).

    Updates ``state`` and returns the heuristic's cost (``nan`` without a plan) and the facilities
    fixed closed / open.
    """
    m = d.n_facilities
    fixed_closed, fixed_open = np.zeros(m, dtype=bool), np.zeros(m, dtype=bool)
    h = local_search(dense, net_fixed, d.p, time_budget=budget)
    if not (h.open.any() or d.p == 0):
        return float("nan"), fixed_closed, fixed_open
    cost = _plan_cost(d, s, h.open)
    if not np.isfinite(cost):
        return float("nan"), fixed_closed, fixed_open
    state.best_open, state.best_ub = h.open, cost
    _, lam0 = s.nearest_open(h.open)
    lr = lagrange_fix(dense, net_fixed, d.p, cost - d.closed_cost.sum(), lam0, time_budget=budget)
    state.lb = lr.bound + d.closed_cost.sum()
    return cost, lr.fixed_closed & ~h.open, lr.fixed_open & h.open


def _first_k(d: CoreData, s: _Sorted, best_open: NDArray[np.bool_] | None,
             initial_k: int | None) -> NDArray[np.int64]:
    """Pairs per client in the first restricted model: a few beyond the heuristic's nearest open."""
    m = d.n_facilities
    base = max(3, 2 * int(np.ceil(m / max(d.p or (best_open.sum() if best_open is not None else 1), 1))))
    if initial_k is not None:
        base = int(initial_k)
    if best_open is None:
        return np.full(d.n_demand, 2 * base, dtype=np.int64)
    near, _ = s.nearest_open(best_open)
    return s.rank[near] + 1 + base


def _pair_cap(d: CoreData, s: _Sorted, fixed_closed: NDArray[np.bool_],
              fixed_open: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Most pairs any client can need (p-median pair reduction, nearest fixed-open facility)."""
    cap = s.count.copy()
    if d.p is not None:
        # Pair reduction (exact, see module docstring); fixed-closed facilities do not count.
        cap = np.minimum(cap, d.n_facilities - int(fixed_closed.sum()) - d.p + 1)
    if fixed_open.any():  # nothing beyond the nearest facility known to be open is needed
        near_fixed, _ = s.nearest_open(fixed_open)
        cap = np.where(near_fixed >= 0, np.minimum(cap, s.rank[np.maximum(near_fixed, 0)] + 1), cap)
    return cap


def _restricted_hint(d: CoreData, s: _Sorted, model: MipModel, pos: NDArray[np.int64],
                     far: NDArray[np.int64], keep: NDArray[np.int64],
                     best_open: NDArray[np.bool_]) -> NDArray[np.float64] | None:
    """MIP start of a restricted model from the open set ``best_open`` (``None`` if not in it)."""
    hint = np.zeros(model.obj.size)
    hint[model.y] = np.bincount(d.group, weights=best_open, minlength=d.n_groups) > 0
    local = np.full(s.rows.size, -1, dtype=np.int64)
    local[pos] = np.arange(pos.size)
    near, _ = s.nearest_open(best_open, keep)
    served = near >= 0
    hint[local[near[served]]] = 1.0
    far_idx = np.full(d.n_demand, -1, dtype=np.int64)
    far_idx[far] = np.arange(far.size)
    unserved = np.flatnonzero(~served)
    if (far_idx[unserved] < 0).any():
        return None
    hint[model.u.start + far_idx[unserved]] = 1.0
    return hint


def _grow(d: CoreData, s: _Sorted, s_all: _Sorted, state: _Search, *,
          dense: NDArray[np.float64] | None, net_fixed: NDArray[np.float64],
          k: NDArray[np.int64], cap: NDArray[np.int64], g_lb: NDArray[np.float64],
          g_ub: NDArray[np.float64], deadline: float, solver: str, threads: int, seed: int,
          gap: float, log: bool) -> SolveStatus:
    """Restricted MIPs, grown where a far variable hides a cheaper pair (step 3); final status."""
    while (remaining := deadline - time.perf_counter()) > 0:
        keep = s.keep_count(np.minimum(k, cap))
        full = (keep >= s.count) | (keep >= cap)
        model, pos, far = _restricted_model(d, s, keep, full, g_lb, g_ub)
        state.pairs = pos.size
        hint = None
        if state.best_open is not None:
            hint = _restricted_hint(d, s, model, pos, far, keep, state.best_open)
        res = solve_mip(model, solver=solver, time_limit=remaining, threads=threads, seed=seed,
                        gap=gap, hint=hint, log=log)
        state.rounds += 1
        state.threads = res.threads
        if res.status is SolveStatus.INFEASIBLE:
            return SolveStatus.INFEASIBLE  # a relaxation of the full model is infeasible
        if np.isfinite(res.bound):
            state.lb = max(state.lb, res.bound)
        violated = np.zeros(0, dtype=np.int64)
        if res.values is not None:
            y_open = (res.values[model.y] > 0.5)[d.group]
            if dense is not None and res.status is SolveStatus.OPTIMAL:
                # Polish: interchange from the restricted plan.
                y_open = local_search(dense, net_fixed, d.p, start=y_open,
                                      time_budget=max(0.0, deadline - time.perf_counter())).open
            cost = _plan_cost(d, s_all, y_open)
            if cost < state.best_ub:
                state.best_open, state.best_ub = y_open, cost
            near, true_cost = s.nearest_open(y_open)
            far_cost = model.obj[model.u]
            used = res.values[model.u] > 1e-6
            violated = far[used & (true_cost[far] > far_cost + 1e-9 * np.maximum(1.0, far_cost))]
            if violated.size:
                need = np.where(near[violated] >= 0, s.rank[np.maximum(near[violated], 0)] + 1,
                                s.count[violated])
                k[violated] = np.maximum(2 * keep[violated], need)
        done = res.status is SolveStatus.OPTIMAL and violated.size == 0
        if np.isfinite(state.best_ub) and (
                done or relative_gap(state.best_ub, state.lb) <= gap):
            state.lb = min(state.lb, state.best_ub)
            return SolveStatus.OPTIMAL
        if res.status is not SolveStatus.OPTIMAL or violated.size == 0:
            break  # time limit inside the restricted solve (or no progress possible): stop here
    return SolveStatus.FEASIBLE if state.best_open is not None else SolveStatus.NO_SOLUTION


def solve_simple(
    d: CoreData, *, time_limit: float, solver: str, threads: int, seed: int, gap: float,
    log: bool = False, heuristic_share: float = 0.25, initial_k: int | None = None,
    method: str = "radius",
) -> SimpleResult:
    """Solve a simple instance exactly (see module docstring) within ``time_limit`` seconds.

    Parameters
    ----------
    d : CoreData
        An instance for which :func:`is_simple` holds.
    time_limit : float
        Seconds for the whole solve.
    solver : {"highspy", "scip"}
        Back end for the restricted models.
    threads, seed, gap, log
        As in :meth:`layout.core.FacilityLocation.solve` (``log`` default ``False``).
    heuristic_share : float
        Most share of ``time_limit`` the interchange heuristic may take (default 0.25; the
        Lagrangian step may take as much again).
    initial_k : int, optional
        Pairs kept per client beyond its nearest open facility in the first round (default
        ``max(3, ceil(m / p))``); small values exercise the growth rounds in tests.
    method : {"radius", "nearest-pairs"}
        With ``p`` given, ``"radius"`` (default) solves by :mod:`layout.core.radius`;
        ``"nearest-pairs"`` (and every instance without ``p``) by the steps above.

    Returns
    -------
    SimpleResult

    """
    deadline = time.perf_counter() + float(time_limit)
    s = _Sorted(d)
    if (s.count == 0).any():
        return _infeasible_result(d)
    if d.p is not None and method == "radius":
        return _solve_by_radius(d, s, time_limit=time_limit, gap=gap, seed=seed, log=log,
                                heuristic_share=heuristic_share, threads=threads)
    return _solve_by_nearest_pairs(
        d, s, deadline=deadline, time_limit=time_limit, solver=solver, threads=threads,
        seed=seed, gap=gap, log=log, heuristic_share=heuristic_share, initial_k=initial_k)


def _infeasible_result(d: CoreData) -> SimpleResult:
    """Result of an instance with a client without any permitted facility.

    Parameters
    ----------
    d : CoreData
        The instance.

    Returns
    -------
    SimpleResult
        Status ``infeasible``, nothing open, no assignment.

    """
    n, m = d.n_demand, d.n_facilities
    return SimpleResult(SolveStatus.INFEASIBLE, np.zeros(m, dtype=bool),
                        np.full(n, -1, dtype=np.int64), float("nan"), float("nan"),
                        float("nan"), 0, 0, 1)


def _dense_costs(d: CoreData) -> NDArray[np.float64] | None:
    """Dense ``(n, m)`` costs (``inf`` where not permitted), ``None`` above :data:`DENSE_LIMIT`.

    Parameters
    ----------
    d : CoreData
        The instance.

    Returns
    -------
    ndarray of float, shape (n, m), or None

    """
    n, m = d.n_demand, d.n_facilities
    if n * m > DENSE_LIMIT:
        return None
    dense = np.full((n, m), np.inf)
    dense[d.rows, d.cols] = d.costs
    return dense


def _solve_by_radius(d: CoreData, s: _Sorted, *, time_limit: float, gap: float, seed: int,
                     log: bool, heuristic_share: float, threads: int = 1) -> SimpleResult:
    """Solve a p-median instance by :func:`layout.core.radius.solve_radius`.

    Parameters
    ----------
    d : CoreData
        A simple instance with ``p`` given.
    s : _Sorted
        Its pairs sorted by client and cost.
    time_limit, gap, seed, log, heuristic_share
        As in :func:`solve_simple`.
    threads : int
        Searchers of the radius branch and bound (:mod:`layout.core.radius_par`).

    Returns
    -------
    SimpleResult
        ``pairs`` holds the radius model's level rows; ``threads`` the tree's searchers.

    """
    n = d.n_demand
    r = solve_radius(d, s, time_limit=time_limit, gap=gap, seed=seed, log=log,
                     dense=_dense_costs(d), heuristic_share=heuristic_share, threads=threads)
    choice = np.full(n, -1, dtype=np.int64)
    if r.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        choice = s.order[s.nearest_open(r.open)[0]]
    return SimpleResult(r.status, r.open, choice, r.objective, r.bound,
                        r.heuristic_objective, r.rounds, r.levels, max(1, int(threads)))


def _solve_by_nearest_pairs(
    d: CoreData, s: _Sorted, *, deadline: float, time_limit: float, solver: str, threads: int,
    seed: int, gap: float, log: bool, heuristic_share: float, initial_k: int | None,
) -> SimpleResult:
    """Solve by heuristic, Lagrangian fixing and grown restricted MIPs (module docstring).

    Parameters
    ----------
    d : CoreData
        A simple instance.
    s : _Sorted
        Its pairs sorted by client and cost.
    deadline : float
        ``time.perf_counter()`` value at which to stop.
    time_limit, solver, threads, seed, gap, log, heuristic_share, initial_k
        As in :func:`solve_simple`.

    Returns
    -------
    SimpleResult

    """
    m = d.n_facilities
    net_fixed = np.bincount(d.group, weights=d.fixed_cost - d.closed_cost,
                            minlength=m).astype(np.float64)[d.group]
    state = _Search()
    heur_obj = float("nan")
    fixed_closed, fixed_open = np.zeros(m, dtype=bool), np.zeros(m, dtype=bool)
    dense = _dense_costs(d)
    if dense is not None:
        heur_obj, fixed_closed, fixed_open = _heuristic(
            d, s, dense, net_fixed, heuristic_share * float(time_limit), state)
    if state.best_open is not None and relative_gap(state.best_ub, state.lb) <= gap:
        choice = s.order[s.nearest_open(state.best_open)[0]]
        return SimpleResult(SolveStatus.OPTIMAL, state.best_open, choice, float(state.best_ub),
                            float(min(state.lb, state.best_ub)), heur_obj, 0, 0, 1)
    s_all = s
    if fixed_closed.any():
        s = _Sorted(d, ~fixed_closed[d.cols])
    g_lb = (np.bincount(d.group, weights=fixed_open, minlength=d.n_groups) > 0).astype(float)
    g_ub = (np.bincount(d.group, weights=~fixed_closed, minlength=d.n_groups) > 0).astype(float)
    status = _grow(d, s, s_all, state, dense=dense, net_fixed=net_fixed,
                   k=_first_k(d, s, state.best_open, initial_k),
                   cap=_pair_cap(d, s, fixed_closed, fixed_open), g_lb=g_lb, g_ub=g_ub,
                   deadline=deadline, solver=solver, threads=threads, seed=seed, gap=gap, log=log)
    return _grown_result(d, s_all, state, status, heur_obj)


def _grown_result(d: CoreData, s_all: _Sorted, state: _Search, status: SolveStatus,
                  heur_obj: float) -> SimpleResult:
    """Result of :func:`_grow`: the best plan, each client served by its nearest open facility.

    Parameters
    ----------
    d : CoreData
        The instance.
    s_all : _Sorted
        All its pairs sorted (no facility fixed closed removed).
    state : _Search
        The search state after :func:`_grow`.
    status : SolveStatus
        Status returned by :func:`_grow`.
    heur_obj : float
        Cost of the heuristic plan (``nan`` if none).

    Returns
    -------
    SimpleResult

    """
    n, m = d.n_demand, d.n_facilities
    choice = np.full(n, -1, dtype=np.int64)
    best_open = state.best_open
    if best_open is not None and status is not SolveStatus.INFEASIBLE:
        near, _ = s_all.nearest_open(best_open)
        choice = s_all.order[near]
    else:
        best_open = np.zeros(m, dtype=bool)
    return SimpleResult(status, best_open, choice,
                        float(state.best_ub) if np.isfinite(state.best_ub) else float("nan"),
                        float(state.lb) if np.isfinite(state.lb) else float("nan"), heur_obj,
                        state.rounds, state.pairs, state.threads)
