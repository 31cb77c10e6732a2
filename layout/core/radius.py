"""Exact p-median / uncapacitated facility location by the radius (covering) formulation.

Used by :func:`layout.core.pmedian.solve_simple` for p-median instances (``p`` given).

Formulation (Elloumi 2010; García, Labbé & Marín 2011). For client ``i`` let
``D_i^0 < D_i^1 < ...`` be the distinct costs of its permitted pairs. Variable ``z_i^k >= 0``
is the share of client ``i`` served at cost ``D_i^k`` or more; with facilities ``y``:

``min sum_j f_j y_j + sum_i (D_i^0 + sum_k (D_i^k - D_i^{k-1}) z_i^k)``
``s.t. z_i^k + sum_{j : c_ij < D_i^k} y_j >= 1,   sum_j y_j = p,   y binary.``

One row per client and distance level, its columns only the facilities nearer than the level;
no assignment variables. Its LP bound equals the classic one.

**Levels are added lazily.** With only a subset ``S_i`` of a client's levels (coefficients taken
between consecutive kept levels) the model charges client ``i`` the largest kept level not above
its true cost: never more than the true cost, so every restricted optimum (LP or MIP, and every
solver bound) is a lower bound of the full problem. A level is added where, at the current LP or
MIP solution, it would raise the restricted value (its coverage is below its next kept level's);
at an integer solution this is exactly where the charged cost is below the true cost. When no
level is violated the restricted value of the solution is the full one.

Method (each step exact):

1. **Upper bound**: greedy + interchange (:mod:`layout.core.interchange`), and a second
   interchange from the rounded LP solution.
2. **LP with level generation**: initial levels are each client's levels up to its cost in the
   heuristic plan and the one after; violated levels are added (dual simplex, warm) until none.
   The LP value is then the full LP bound (rounded up when every cost is an integer). With
   ``p`` given, a plan and the tree, the same LP is instead solved by Benders cuts over the
   facilities (:mod:`layout.core.radius_benders`, 2-3x faster); its ``y`` then seeds the
   radius model of step 4 (always rebuilt without the fixed-closed facilities).
3. **Reduced-cost fixing**: a facility whose LP reduced cost lifts the bound above the best plan
   can be fixed (closed at 0, open at 1): every plan it excludes costs at least the best plan.
4. **Branch and bound** (:mod:`layout.core.radius_bb`, default) on the same LP: level branching,
   reduced-cost fixing at every node, levels generated at every node. With ``tree=False`` (or
   without an LP or plan) instead a **MIP** (HiGHS, ``highspy``) on the same rows with the
   fixings and the best plan as start; its integer solution is checked for violated levels,
   which are added and the MIP solved again. (The support MIP of step 3 runs only then.)
"""


from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from layout.core.inputs import CoreData
from layout.core.interchange import local_search
from layout.core.radius_bb import branch_and_bound
from layout.core.radius_benders import benders_root
from layout.core.radius_model import RadiusResult, _Model, _pad, _plan_cost, _solve_lp
from layout.core.radius_steps import (
    _final_mip,
    _fix_by_reduced_cost,
    _lp_rounding_start,
    _perturbed_starts,
    _shrink,
    _support_mip,
)
from layout.core.status import SolveStatus, relative_gap

if TYPE_CHECKING:
    from layout.core.pmedian import _Sorted

__all__ = ["RadiusResult", "_Model", "solve_radius"]


@dataclass
class _Run:
    """State shared by the steps of :func:`solve_radius`.

    Attributes
    ----------
    d : CoreData
        The instance.
    s : layout.core.pmedian._Sorted
        Its pairs sorted; replaced by the pairs without the fixed-closed facilities when step 4
        builds a smaller model (plan costs are then taken on those pairs).
    dense : ndarray of float, shape (n, m), or None
        Dense costs for the interchange heuristic.
    net_fixed : ndarray of float, shape (m,)
        Fixed minus closed cost of each facility's group.
    base : float
        Sum of closed costs (the objective's constant).
    integral : bool
        Whether every cost is an integer (bounds are then rounded up).
    deadline : float
        ``time.perf_counter()`` value at which to stop.
    gap, seed, log, heuristic_share
        As in :func:`solve_radius`.
    model : _Model
        The restricted radius model (replaced in step 4 by a smaller one).
    best_open : ndarray of bool, shape (m,)
        Best plan so far (empty: none yet).
    ub : float
        Its cost (``inf`` without one).
    heur : float
        Cost of the first interchange plan (``nan`` without one).
    tol : float
        Violation tolerance of a level.
    lb : float
        Best lower bound from the LP.
    rounds : int
        LP and MIP solves so far.
    y : ndarray of float, shape (m,)
        Facility values of the last optimal LP.
    lp_done : bool
        Whether the LP was solved with no level violated.
    rc : ndarray of float, shape (m,), or None
        Facility reduced costs of the root LP when it was solved by Benders cuts
        (:mod:`layout.core.radius_benders`; ``model`` is then not solved yet).
    lp_val : float
        That LP's value.

    """

    d: CoreData
    s: _Sorted
    dense: NDArray[np.float64] | None
    net_fixed: NDArray[np.float64]
    base: float
    integral: bool
    deadline: float
    gap: float
    seed: int
    log: bool
    heuristic_share: float
    model: _Model
    best_open: NDArray[np.bool_]
    ub: float
    heur: float
    tol: float = 0.0
    lb: float = -np.inf
    rounds: int = 0
    y: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    lp_done: bool = False
    rc: NDArray[np.float64] | None = None
    lp_val: float = float("nan")

    def lift(self, lb: float) -> float:
        """``lb`` rounded up to an integer when every cost is one (``lb`` itself otherwise)."""
        if self.integral and np.isfinite(lb):
            return float(np.ceil(lb - 1e-6 * max(1.0, abs(lb))))
        return lb

    def consider(self, is_open: NDArray[np.bool_], polish: bool) -> None:
        """Keep the plan ``is_open`` (after an interchange when ``polish``) if it is better."""
        if polish and self.dense is not None:
            is_open = local_search(self.dense, self.net_fixed, self.d.p, start=is_open,
                                   time_budget=max(0.0, self.deadline - time.perf_counter())).open
        c = _plan_cost(self.s, self.net_fixed, self.base, is_open)
        ub = self.ub
        better = c < ub - 1e-9 * max(1.0, abs(ub)) if np.isfinite(ub) else np.isfinite(c)
        if better:
            self.best_open, self.ub = is_open.copy(), c

    def closed(self) -> bool:
        """Whether the best plan is within ``gap`` of the LP bound."""
        return relative_gap(self.ub, self.lb) <= self.gap

    def gap_open(self) -> bool:
        """Whether the gap is above ``gap`` (not the negation of :meth:`closed`: ``nan`` is neither)."""
        return relative_gap(self.ub, self.lb) > self.gap

    def optimal(self) -> RadiusResult:
        """The best plan as proven optimal by the LP bound (no facility fixed)."""
        return RadiusResult(SolveStatus.OPTIMAL, self.best_open, self.ub, min(self.lb, self.ub),
                            self.heur, self.rounds, self.model.n_rows, 0)

    def infeasible(self, n_fixed: int) -> RadiusResult:
        """The result of an infeasible instance."""
        return RadiusResult(SolveStatus.INFEASIBLE, np.zeros(self.d.n_facilities, dtype=bool),
                            float("nan"), float("nan"), self.heur, self.rounds,
                            self.model.n_rows, n_fixed)


def solve_radius(
    d: CoreData, s: _Sorted, *, time_limit: float, gap: float, seed: int, log: bool = False,
    dense: NDArray[np.float64] | None = None, heuristic_share: float = 0.25, tree: bool = True,
    threads: int = 1,
) -> RadiusResult:
    """Solve a p-median / UFLP instance exactly by the radius formulation (module docstring).

    Parameters
    ----------
    d : CoreData
        An instance for which :func:`layout.core.pmedian.is_simple` holds.
    s : layout.core.pmedian._Sorted
        Its pairs sorted by client and cost.
    time_limit, gap, seed, log
        As in :meth:`layout.core.FacilityLocation.solve`.
    dense : ndarray, shape (n, m), optional
        Dense costs (``inf`` where not permitted) for the interchange heuristic; without it
        the search starts from the LP.
    heuristic_share : float
        Most share of ``time_limit`` for the first interchange.
    tree : bool
        Step 4 by the branch and bound of :mod:`layout.core.radius_bb` (default) rather than
        HiGHS' MIP on the radius rows.
    threads : int
        Searchers of the branch and bound, each on its own LP copy in its own thread
        (:mod:`layout.core.radius_par`; default 1). The plan does not depend on the timing.

    Returns
    -------
    RadiusResult

    """
    run = _start(d, s, time_limit=time_limit, gap=gap, seed=seed, log=log, dense=dense,
                 heuristic_share=heuristic_share)
    benders = tree and d.p is not None and run.best_open.size > 0
    if _benders_lp(run) if benders else _lp_with_levels(run):
        return run.infeasible(0)
    if run.best_open.size > 0 and np.isfinite(run.ub) and run.closed():
        return run.optimal()
    if run.lp_done and d.p is not None:
        _lp_rounding_start(run, d.p)
        if run.closed():
            return run.optimal()
    if run.lp_done and d.p is not None and dense is not None and run.gap_open():
        _perturbed_starts(run, d.p)
        if run.closed():
            return run.optimal()
    # Step 3: reduced-cost fixing against the best plan.
    n_fixed = 0
    close = np.zeros(d.n_facilities, dtype=bool)
    openf = np.zeros(d.n_facilities, dtype=bool)
    if run.lp_done and np.isfinite(run.ub):
        if run.rc is not None:
            rc, lp_val = run.rc, run.lp_val
        else:
            rc = np.asarray(run.model.h.getSolution().col_dual)[:d.n_facilities]
            lp_val = float(run.model.h.getInfo().objective_function_value)
        if d.p is not None and run.gap_open() and not tree:
            _support_mip(run, rc, lp_val)
            if run.closed():
                return run.optimal()
        close, openf = _fix_by_reduced_cost(run, rc, lp_val)
        n_fixed = int(close.sum() + openf.sum())
    # Step 4: MIP with level generation, on the instance without the fixed-closed facilities.
    # A smaller model when worth it (else the fixings are bounds); after a Benders root always,
    # as the radius model is not solved yet.
    if close.sum() >= 0.25 * d.n_facilities or (run.rc is not None and run.lp_done):
        _shrink(run, close, openf)
    if run.lp_done and run.best_open.size > 0 and tree:
        return _tree(run, close, openf, n_fixed, threads)
    return _final_mip(run, n_fixed)


def _tree(run: _Run, close: NDArray[np.bool_], openf: NDArray[np.bool_],
          n_fixed: int, threads: int = 1) -> RadiusResult:
    """Step 4 by :func:`layout.core.radius_bb.branch_and_bound` on the LP model.

    Parameters
    ----------
    run : _Run
        The state after the LP steps (continuous model, a best plan).
    close, openf : ndarray of bool, shape (m,)
        Facilities fixed closed / open by reduced cost.
    n_fixed : int
        Their number.
    threads : int
        Searchers of the tree (:func:`layout.core.radius_bb.branch_and_bound` ``workers``).

    Returns
    -------
    RadiusResult

    """
    lo = openf.astype(np.float64)
    hi = (~close).astype(np.float64)
    res = branch_and_bound(run, lo, hi, workers=max(1, int(threads)))
    run.rounds += res.lp_solves
    status = SolveStatus.OPTIMAL if res.proven else SolveStatus.FEASIBLE
    bound = min(max(run.lb, res.bound), run.ub)
    return RadiusResult(status, run.best_open, run.ub, bound, run.heur, run.rounds,
                        run.model.n_rows, n_fixed, res.nodes)


def _start(d: CoreData, s: _Sorted, *, time_limit: float, gap: float, seed: int, log: bool,
           dense: NDArray[np.float64] | None, heuristic_share: float) -> _Run:
    """First interchange plan (step 1) and the model with its initial levels.

    Parameters
    ----------
    d, s, time_limit, gap, seed, log, dense, heuristic_share
        As in :func:`solve_radius`.

    Returns
    -------
    _Run
        The state before the LP; initial levels are each client's levels up to its cost in the
        best plan, and the next one (without a plan, a few per client).

    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit)
    m = d.n_facilities
    net_fixed = np.bincount(d.group, weights=d.fixed_cost - d.closed_cost,
                            minlength=m).astype(np.float64)[d.group]
    base = float(d.closed_cost.sum())
    integral = bool(np.all(d.costs == np.round(d.costs))
                    and np.all(net_fixed == np.round(net_fixed)))
    best_open: NDArray[np.bool_] = np.zeros(0, dtype=bool)  # empty: no plan yet
    ub = np.inf
    heur = float("nan")
    if dense is not None:
        h = local_search(dense, net_fixed, d.p, time_budget=heuristic_share * float(time_limit))
        if h.open.any() or d.p == 0:
            c = _plan_cost(s, net_fixed, base, h.open)
            if np.isfinite(c):
                best_open, ub, heur = h.open, c, c
    model = _Model(s, m, net_fixed, d.p, base, seed, log)
    if best_open.size > 0:
        _pad(model, best_open, 2)
    else:
        upto = np.minimum(s.count, 2 + int(np.ceil(m / max(d.p or 1, 1))))
        model.add(np.flatnonzero(model.level & (s.rank <= upto[s.rows])),
                  np.zeros(0, dtype=np.int64))
    scale = max(1.0, abs(ub) if np.isfinite(ub) else float(np.abs(d.costs).max(initial=1.0)))
    return _Run(d=d, s=s, dense=dense, net_fixed=net_fixed, base=base, integral=integral,
                deadline=deadline, gap=gap, seed=seed, log=log, heuristic_share=heuristic_share,
                model=model, best_open=best_open, ub=ub, heur=heur, tol=1e-9 * scale,
                y=np.zeros(m))


def _lp_with_levels(run: _Run) -> bool:
    """Step 2: solve the LP, adding violated levels until none (or the deadline).

    Parameters
    ----------
    run : _Run
        Updated: ``lb``, ``y``, ``lp_done``, ``rounds`` and the model's rows.

    Returns
    -------
    bool
        Whether the LP is infeasible.

    """
    model, m = run.model, run.d.n_facilities
    first = True
    while time.perf_counter() < run.deadline:
        res = _solve_lp(model, run.deadline, cold=first)
        first = False
        run.rounds += 1
        if res.status is SolveStatus.INFEASIBLE:
            return True
        if res.status is not SolveStatus.OPTIMAL or res.values is None:
            break
        run.y = res.values[:m]
        run.lb = max(run.lb, run.lift(res.objective))
        q, hard = model.violated(run.y, run.tol)
        if q.size == 0 and hard.size == 0:
            run.lp_done = True
            break
        model.add(q, hard)
    return False


def _benders_lp(run: _Run) -> bool:
    """Step 2 by Benders cuts over the facilities (:mod:`layout.core.radius_benders`).

    Parameters
    ----------
    run : _Run
        Updated: ``lb``, ``y``, ``lp_done``, ``rounds``, ``rc`` and ``lp_val``.

    Returns
    -------
    bool
        Whether the LP is infeasible.

    """
    res = benders_root(run, run.best_open.astype(np.float64))
    run.rounds += res.rounds
    if res.status is SolveStatus.INFEASIBLE:
        return True
    if np.isfinite(res.value):
        run.lb = max(run.lb, run.lift(res.value))
    run.y = res.y
    run.lp_done = res.status is SolveStatus.OPTIMAL
    run.rc, run.lp_val = res.rc, res.value
    return False
