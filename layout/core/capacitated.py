"""Exact path for plain capacitated facility location with split demand.

The strong formulation has one linking row ``x[i, j] <= y[j]`` per pair; on 100 sites x 1,000
customers (OR-Library capa/b/c) its LP alone took HiGHS 50-65 s. Here the capacity rows
``sum_i d[i] x[i, j] <= cap[j] y[j]`` already link ``x`` to ``y`` when every demand is positive,
so the MIP stays exact with any subset of linking rows; they only tighten the bound. So:

Instances of more than 10,000 pairs without closed costs (e.g. capa/b/c) are solved by the
Lagrangian branch and bound of :mod:`layout.core.cap_bb` alone (capa/b/c 12/12 proven, at most
7.5 s CPU; steps 1-3 below took up to minutes and left 4 of them unproven at 60 s); the steps
below run only when it finds no plan. Smaller instances (cap41-cap134):

0. the root of that tree (:mod:`layout.core.cap_dual`: ascent, LP-rounding plan, fixing) gives
   a lower bound, a plan, and facilities proven open/closed in every cheaper plan, and proves
   the instance when the gap is closed; steps 1-3 run on the reduced instance (with
   ``method="cuts"`` the older subgradient of :mod:`layout.core.cap_lagrange` on large ones);
1. solve the LP relaxation without linking rows (only those of zero-demand points), add the
   violated ``x <= y`` rows as cuts and re-solve (dual simplex, warm) until none is violated —
   the bound of the strong formulation with a few per cent of its rows;
2. build a plan from the LP: open facilities by decreasing ``y`` until capacity covers demand,
   assign by a transportation LP, then close open facilities one at a time while that lowers
   the cost (each trial one transportation LP);
3. solve the MIP with the generated cuts and that plan as MIP start (HiGHS via ``highspy``).

Applies only to instances with capacities and nothing else: no single sourcing, p, minimum
load, expansion, unserved option, link group or forced facility (:func:`is_plain_capacitated`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from layout.core.backends import highs_instance, highs_lp, run_highs
from layout.core.cap_bb import TreeResult, branch_and_bound
from layout.core.cap_lagrange import lagrangian
from layout.core.formulation import MipModel, formulate
from layout.core.inputs import CoreData
from layout.core.status import SolveStatus, relative_gap

_VIOL = 1e-6


def is_plain_capacitated(d: CoreData) -> bool:
    """Whether ``d`` is capacitated split-demand facility location without any extension."""
    return bool(
        d.capacity is not None and not d.single_source and d.p is None
        and d.unserved_cost is None and d.n_groups == d.n_facilities
        and not (d.min_load > 0).any() and not (d.max_blocks > 0).any()
        and not d.group_open.any() and not d.group_closed.any()
    )


@dataclass(frozen=True)
class CapacitatedResult:
    """Outcome of :func:`solve_capacitated`.

    Attributes
    ----------
    status : SolveStatus
    model : MipModel
        The formulation with the generated cuts (same variables as :func:`formulate`).
    values : ndarray of float or None
        Variable values of the plan.
    objective, bound : float
    heuristic_objective : float
        Cost of the LP-rounding + closing plan (``nan`` if none was found).
    rounds : int
        LP cut rounds.
    cuts : int
        Linking rows in the final MIP.

    """

    status: SolveStatus
    model: MipModel
    values: NDArray[np.float64] | None
    objective: float
    bound: float
    heuristic_objective: float
    rounds: int
    cuts: int


def transport(d: CoreData, open_: NDArray[np.bool_]) -> tuple[float, NDArray[np.float64] | None]:
    """Cheapest split assignment to the open facilities (capacities respected).

    Returns the total cost (fixed costs included; ``inf`` if infeasible) and the pair shares.
    """
    sel = np.flatnonzero(open_[d.cols])
    n = d.n_demand
    fixed = float(d.fixed_cost[open_].sum())
    if sel.size == 0 or d.capacity is None:
        return float("inf"), None
    fac_local = np.cumsum(open_) - 1
    n_open = int(open_.sum())
    rows = np.concatenate([d.rows[sel], n + fac_local[d.cols[sel]]])
    cols = np.concatenate([np.arange(sel.size), np.arange(sel.size)])
    vals = np.concatenate([np.ones(sel.size), d.demand[d.rows[sel]]])
    a = sp.csc_array((vals, (rows, cols)), shape=(n + n_open, sel.size))
    res = run_highs(highs_lp(
        d.costs[sel], np.zeros(sel.size), np.ones(sel.size), a,
        np.concatenate([np.ones(n), np.full(n_open, -np.inf)]),
        np.concatenate([np.ones(n), np.asarray(d.capacity)[open_]]),
    ))
    if res.status is not SolveStatus.OPTIMAL or res.values is None:
        return float("inf"), None
    x = np.zeros(d.rows.size)
    x[sel] = res.values
    return res.objective + fixed, x


def _heuristic(d: CoreData, y_lp: NDArray[np.float64], deadline: float
               ) -> tuple[float, NDArray[np.float64] | None, NDArray[np.bool_]]:
    """LP rounding (open by decreasing ``y`` until capacity covers demand), then closing moves."""
    cap = np.asarray(d.capacity)
    order = np.lexsort((d.fixed_cost, -y_lp))
    covered = np.cumsum(cap[order])
    total = d.demand.sum()
    open_ = np.zeros(d.n_facilities, dtype=bool)
    open_[y_lp > 1 - 1e-6] = True
    need = int(np.searchsorted(covered, total * (1 + 1e-9))) + 1
    open_[order[:need]] = True
    cost, x = transport(d, open_)
    while not np.isfinite(cost) and not open_.all():  # capacity covers demand but pairs do not
        open_[order[np.argmin(open_[order])]] = True
        cost, x = transport(d, open_)
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        # Try closing open facilities, least used by the LP first.
        for j in np.flatnonzero(open_)[np.argsort(y_lp[open_], kind="stable")]:
            if time.perf_counter() >= deadline:
                break
            if cap[open_].sum() - cap[j] < total:
                continue
            trial = open_.copy()
            trial[j] = False
            c2, x2 = transport(d, trial)
            if c2 < cost - 1e-9 * max(1.0, abs(cost)):
                open_, cost, x, improved = trial, c2, x2, True
    return cost, x, open_


def _from_average(d: CoreData, ybar: NDArray[np.float64], deadline: float
                  ) -> tuple[float, NDArray[np.float64] | None, NDArray[np.bool_]]:
    """Best :func:`_heuristic` plan from the average Lagrangian ``y``.

    Every site whose average exceeds a threshold (0.5, 0.1, 0.02) is opened first, so more sites
    open as the threshold falls; closing moves then prune them.
    """
    best: tuple[float, NDArray[np.float64] | None, NDArray[np.bool_]] = (
        float("inf"), None, np.zeros(d.n_facilities, dtype=bool))
    for threshold in (0.5, 0.1, 0.02):
        if time.perf_counter() >= deadline:
            break
        plan = _heuristic(d, np.where(ybar > threshold, 1.0, ybar), deadline)
        if plan[1] is not None and plan[0] < best[0]:
            best = plan
    return best


@dataclass(frozen=True)
class _Relaxation:
    """Outcome of :func:`_cut_loop`."""

    model: MipModel  # the LP's formulation with the seed linking rows
    infeasible: bool
    rounds: int
    linked: NDArray[np.bool_]  # pairs whose linking row was in the last LP
    bound: float  # LP bound of the strong formulation; -inf unless every cut was added
    y: NDArray[np.float64]  # LP values of y


def _seed_links(d: CoreData, near: int) -> NDArray[np.bool_]:
    """Pairs whose linking rows start in the LP: zero-demand points', each point's ``near`` cheapest."""
    k = d.rows.size
    # Zero-demand points are not linked by capacity rows: keep their linking rows.
    keep = d.demand[d.rows] <= 0
    # Seed cuts: each point's ``near`` cheapest pairs (pairs are sorted by demand point).
    ptr = np.searchsorted(d.rows, np.arange(d.n_demand + 1))
    order = np.lexsort((d.costs, d.rows))
    rank = np.arange(k) - ptr[d.rows[order]]
    keep[order[rank < near]] = True
    return keep


def _cut_loop(d: CoreData, keep: NDArray[np.bool_], deadline: float, *, seed: int,
              log: bool) -> _Relaxation:
    """LP relaxation with the ``keep`` linking rows, violated ``x <= y`` rows added until none."""
    k = d.rows.size
    model = formulate(d, link=keep)
    h = highs_instance(model, integer=False, seed=seed, log=log)
    y0 = model.y.start
    rounds = 0
    cut_pairs: list[NDArray[np.int64]] = [np.flatnonzero(keep)]
    lp_bound = -np.inf
    while time.perf_counter() < deadline:
        res = run_highs(h, time_limit=max(0.0, deadline - time.perf_counter()))
        rounds += 1
        if res.status is not SolveStatus.OPTIMAL or res.values is None:
            if res.status is SolveStatus.INFEASIBLE:
                return _Relaxation(model, True, rounds, keep, -np.inf, np.zeros(d.n_groups))
            break
        v = res.values
        viol = np.flatnonzero(v[:k] > v[y0 + d.group[d.cols]] + _VIOL)
        if viol.size == 0:
            lp_bound = res.objective
            break
        nv = viol.size
        starts = np.arange(0, 2 * nv, 2)
        idx = np.empty(2 * nv, dtype=np.int32)
        idx[0::2], idx[1::2] = viol, y0 + d.group[d.cols[viol]]
        vals = np.tile([1.0, -1.0], nv)
        h.addRows(nv, np.full(nv, -np.inf), np.zeros(nv), 2 * nv, starts.astype(np.int32), idx,
                  vals)
        cut_pairs.append(viol)
    y_lp = np.asarray(h.getSolution().col_value)[model.y] if rounds else np.zeros(d.n_groups)
    linked = np.zeros(k, dtype=bool)
    linked[np.concatenate(cut_pairs)] = True
    return _Relaxation(model, False, rounds, linked, lp_bound, y_lp)


def _mip(model: MipModel, hint: NDArray[np.float64] | None, h_cost: float, lp_bound: float,
         deadline: float, *, seed: int, gap: float, log: bool
         ) -> tuple[SolveStatus, NDArray[np.float64] | None, float, float]:
    """MIP with the heuristic plan ``hint`` (cost ``h_cost``) as start: status, plan, cost, bound."""
    res = run_highs(highs_instance(model, integer=True, seed=seed, log=log),
                    time_limit=max(0.0, deadline - time.perf_counter()), gap=gap, hint=hint)
    bound = max(res.bound, lp_bound)
    if res.status is SolveStatus.INFEASIBLE:
        return SolveStatus.INFEASIBLE, None, float("nan"), float("nan")
    values, objective = res.values, res.objective
    if hint is not None and (values is None or h_cost < objective):
        values, objective = hint, h_cost
    if values is None:
        status = SolveStatus.NO_SOLUTION
    elif res.status is SolveStatus.OPTIMAL or relative_gap(objective, bound) <= gap:
        status = SolveStatus.OPTIMAL
    else:
        status = SolveStatus.FEASIBLE
    if status is SolveStatus.OPTIMAL:
        bound = min(bound, objective)
    return status, values, objective, bound


def _solve_core(
    d: CoreData, *, time_limit: float, seed: int, gap: float, log: bool = False, near: int = 0,
    start_plan: tuple[float, NDArray[np.float64], NDArray[np.bool_]] | None = None,
    lower: float = -np.inf,
) -> tuple[CapacitatedResult, NDArray[np.bool_]]:
    """Cut loop, LP rounding and MIP; also returns the mask of linked pairs."""
    start = time.perf_counter()
    deadline = start + float(time_limit)
    keep = _seed_links(d, near)
    relax = _cut_loop(d, keep, deadline, seed=seed, log=log)
    if relax.infeasible:
        return CapacitatedResult(SolveStatus.INFEASIBLE, relax.model, None, float("nan"),
                                 float("nan"), float("nan"), relax.rounds, 0), keep
    lp_ok = bool(np.isfinite(relax.bound)) or bool(np.isfinite(lower))
    lp_bound = max(relax.bound, float(lower))
    linked = relax.linked
    model = formulate(d, link=linked)
    h_cost, h_x, h_open = _heuristic(d, relax.y, start + 0.5 * float(time_limit))
    if start_plan is not None and (h_x is None or start_plan[0] < h_cost):
        h_cost, h_x, h_open = start_plan
    hint = None
    if h_x is not None:
        hint = np.zeros(model.obj.size)
        hint[model.x] = h_x
        hint[model.y] = np.bincount(d.group, weights=h_open, minlength=d.n_groups) > 0
    n_cuts = int(linked.sum())
    if h_x is not None and lp_ok and relative_gap(h_cost, lp_bound) <= gap:
        return CapacitatedResult(SolveStatus.OPTIMAL, model, hint, h_cost, lp_bound, h_cost,
                                 relax.rounds, n_cuts), linked
    status, values, objective, bound = _mip(model, hint, h_cost, lp_bound, deadline, seed=seed,
                                            gap=gap, log=log)
    heuristic = h_cost if h_x is not None or status is SolveStatus.INFEASIBLE else float("nan")
    return CapacitatedResult(status, model, values, objective, bound, heuristic, relax.rounds,
                             n_cuts), linked


def _solve_tree(d: CoreData, *, time_limit: float, gap: float) -> CapacitatedResult | None:
    """Lagrangian branch and bound (:mod:`layout.core.cap_bb`); ``None`` if it found no plan."""
    start = time.perf_counter()
    tree = branch_and_bound(
        d, start + float(time_limit), transport, gap=gap,
        improve=lambda yb, _closed: _from_average(d, yb, time.perf_counter()
                                                  + 0.1 * float(time_limit)))
    return None if tree.x is None else _tree_result(d, tree)


def _tree_result(d: CoreData, tree: TreeResult) -> CapacitatedResult:
    """The tree's plan and bound as a :class:`CapacitatedResult` (``rounds`` = nodes)."""
    assert tree.x is not None
    model = formulate(d, link=np.zeros(d.rows.size, dtype=bool))
    values = np.zeros(model.obj.size)
    values[model.x] = tree.x
    values[model.y] = np.bincount(d.group, weights=tree.open_, minlength=d.n_groups) > 0
    status = SolveStatus.OPTIMAL if tree.proven else SolveStatus.FEASIBLE
    return CapacitatedResult(status, model, values, tree.upper, tree.bound, float("nan"),
                             tree.nodes, 0)


def solve_capacitated(
    d: CoreData, *, time_limit: float, seed: int, gap: float, log: bool = False, near: int = 0,
    lagrange_share: float = 0.25, stall_window: int = 0, small: int = 10_000,
    method: str = "auto",
) -> CapacitatedResult:
    """Solve plain capacitated split-demand facility location exactly (see module docstring).

    Instances of more than ``small`` pairs (or any, with ``method="tree"``) and no closed costs
    go to the Lagrangian branch and bound of :mod:`layout.core.cap_bb` (``rounds`` = its nodes,
    ``cuts`` = 0); when it finds no plan the path below runs with the time left.

    Otherwise a Lagrangian phase (:mod:`layout.core.cap_lagrange`, at most ``lagrange_share`` of the
    time) gives a bound, a plan and facilities fixed open/closed in every cheaper plan; the cut
    loop and MIP then run on the reduced instance (pairs of fixed-closed facilities dropped),
    whose optimum is the optimum of ``d``.

    Parameters
    ----------
    d : CoreData
        An instance for which :func:`is_plain_capacitated` holds.
    time_limit : float
        Seconds for the whole solve.
    seed, gap, log
        As in :meth:`layout.core.FacilityLocation.solve` (``log`` default ``False``).
    near : int
        Linking rows of each point's ``near`` cheapest pairs put in the first LP (default 0).
    lagrange_share : float
        Most share of ``time_limit`` for the Lagrangian phase (default 0.25; 0 skips it). The
        phase stops earlier once its plan is within ``gap`` of its bound.
    stall_window : int
        Also stop the phase when the bound rose by less than 1e-6 (relative) over the last
        ``stall_window`` iterations (default 0: no such stop).
    small : int
        Instances of at most this many pairs skip the Lagrangian phase (the cut loop and MIP
        alone prove those faster; default 10,000 pairs, e.g. OR-Library cap41-cap134).
    method : {"auto", "tree", "cuts"}
        ``"tree"``: the Lagrangian branch and bound whatever the size; ``"cuts"``: never;
        ``"auto"`` (default): the tree above ``small`` pairs.

    Returns
    -------
    CapacitatedResult

    """
    start = time.perf_counter()
    use_tree = method == "tree" or (method == "auto" and d.rows.size > small)
    if use_tree and not d.closed_cost.any() and d.capacity is not None and (
            float(np.sum(d.capacity)) >= float(d.demand.sum())):
        res = _solve_tree(d, time_limit=time_limit, gap=gap)
        if res is not None:
            return res
    if lagrange_share <= 0 or d.closed_cost.any() or d.capacity is None:
        return _solve_core(d, time_limit=time_limit, seed=seed, gap=gap, log=log, near=near)[0]
    phase_end = start + lagrange_share * float(time_limit)
    if d.rows.size <= small:
        if method != "auto":
            return _solve_core(d, time_limit=time_limit, seed=seed, gap=gap, log=log,
                               near=near)[0]
        # Root of the tree only: its bound, plan and fixings, then the MIP on what is left.
        root = branch_and_bound(
            d, phase_end, transport, gap=gap, max_nodes=1,
            improve=lambda yb, _closed: _from_average(d, yb, phase_end))
        if root.proven:
            return _tree_result(d, root)
        fix = _Fixed(root.root_closed, root.root_opened, root.upper, root.x, root.open_,
                      root.bound)
    else:
        lr = lagrangian(d, phase_end, transport,
                        improve=lambda yb: _from_average(
                            d, yb, start + 1.6 * lagrange_share * float(time_limit)),
                        gap=gap, stall_window=stall_window)
        fix = _Fixed(lr.fixed_closed, lr.fixed_open, lr.upper, lr.x, lr.open_, lr.bound)
    if fix.x is None:
        return _solve_core(d, time_limit=max(0.0, start + time_limit - time.perf_counter()),
                           seed=seed, gap=gap, log=log, near=near)[0]
    return _solve_reduced(d, fix, time_limit=max(0.0, start + time_limit - time.perf_counter()),
                          seed=seed, gap=gap, log=log, near=near)


@dataclass(frozen=True)
class _Fixed:
    """Facilities fixed closed / open against a plan (cost, shares, open set) and a bound."""

    closed: NDArray[np.bool_]
    opened: NDArray[np.bool_]
    upper: float
    x: NDArray[np.float64] | None
    open_: NDArray[np.bool_]
    bound: float


def _solve_reduced(d: CoreData, fix: _Fixed, *, time_limit: float, seed: int, gap: float,
                   log: bool, near: int) -> CapacitatedResult:
    """Cut loop and MIP on ``d`` without the pairs of fixed-closed facilities, from ``fix``."""
    assert fix.x is not None
    keep = ~fix.closed[d.cols]
    red = replace(d, rows=d.rows[keep], cols=d.cols[keep], costs=d.costs[keep],
                  group_open=fix.opened.copy(), group_closed=fix.closed.copy())
    res, linked_red = _solve_core(
        red, time_limit=time_limit, seed=seed, gap=gap, log=log, near=near,
        start_plan=(fix.upper, fix.x[keep], fix.open_), lower=fix.bound)
    linked = np.zeros(d.rows.size, dtype=bool)
    linked[np.flatnonzero(keep)[linked_red]] = True
    model = formulate(d, link=linked)
    values = None
    if res.values is not None:
        values = np.zeros(model.obj.size)
        values[model.x][keep] = res.values[res.model.x]
        values[model.y] = res.values[res.model.y]
    bound = max(res.bound, fix.bound) if np.isfinite(res.bound) else fix.bound
    status = res.status
    if values is not None and status is SolveStatus.FEASIBLE and (
            relative_gap(res.objective, bound) <= gap):
        status = SolveStatus.OPTIMAL
    if status is SolveStatus.OPTIMAL and values is not None:
        bound = min(bound, res.objective)
    return CapacitatedResult(status, model, values, res.objective, bound,
                             res.heuristic_objective, res.rounds, res.cuts)
