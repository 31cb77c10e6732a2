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
   The LP value is then the full LP bound (rounded up when every cost is an integer).
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

from layout.core.backends import highs_lp, run_highs
from layout.core.inputs import CoreData
from layout.core.interchange import local_search
from layout.core.radius_bb import branch_and_bound
from layout.core.status import SolveStatus, relative_gap

if TYPE_CHECKING:
    from layout.core.pmedian import _Sorted

_EPS = 1e-7
_IPM_ROWS = 3000  # cold LPs of at least this many rows: interior point (see _solve_lp)


@dataclass
class RadiusResult:
    """Outcome of :func:`solve_radius`.

    Attributes
    ----------
    status : SolveStatus
    open : ndarray of bool, shape (m,)
    objective, bound : float
    heuristic_objective : float
        Cost of the first interchange plan (``nan`` without one).
    rounds : int
        LP and MIP solves.
    levels : int
        Distance-level rows in the last model.
    fixed : int
        Facilities fixed by reduced cost.
    nodes : int
        Branch-and-bound nodes of :mod:`layout.core.radius_bb` (-1: not used).

    """

    status: SolveStatus
    open: NDArray[np.bool_]
    objective: float
    bound: float
    heuristic_objective: float
    rounds: int
    levels: int
    fixed: int
    nodes: int = -1


class _Model:
    """The restricted radius model in one ``highspy`` instance, grown by level rows."""

    def __init__(self, s, m: int, net_fixed: NDArray[np.float64], p: int | None,
                 base: float, seed: int, log: bool) -> None:
        import scipy.sparse as sp

        self.s, self.m, self.p = s, m, p
        npairs = s.rows.size
        self.start = s.start
        # Level starts: first sorted position of each distinct cost after the client's nearest.
        self.level = np.zeros(npairs, dtype=bool)
        self.level[1:] = (s.rank[1:] > 0) & (s.costs[1:] > s.costs[:-1])
        self.in_s = np.zeros(npairs, dtype=bool)
        self.zcol = np.full(npairs, -1, dtype=np.int64)
        self.coef = np.zeros(0)
        self.zpos = np.zeros(0, dtype=np.int64)
        self.hard = np.zeros(s.count.size, dtype=bool)
        self._anchor_cache: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None
        self.n_rows = 0
        base_d0 = float(s.costs[s.start[:-1][s.count > 0]].sum())
        a = sp.csc_array((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))), shape=(1, m))
        rl = np.array([float(p)]) if p is not None else np.array([-np.inf])
        ru = np.array([float(p)]) if p is not None else np.array([np.inf])
        self.h = highs_lp(net_fixed.astype(np.float64), np.zeros(m), np.ones(m), a, rl, ru,
                          offset=base + base_d0, seed=seed, log=log)
        self.h.setOptionValue("presolve", "off")

    def add(self, pos: NDArray[np.int64], hard_clients: NDArray[np.int64]) -> int:
        """Add the level rows at sorted positions ``pos`` and hard rows of ``hard_clients``."""
        s, h = self.s, self.h
        pos = np.unique(pos[~self.in_s[pos]])
        hard_clients = hard_clients[~self.hard[hard_clients]]
        if pos.size:
            k0 = self.zpos.size
            self.in_s[pos] = True
            self._anchor_cache = None
            self.zcol[pos] = self.m + k0 + np.arange(pos.size)
            self.zpos = np.concatenate([self.zpos, pos])
            nz = pos.size
            h.addVars(nz, np.zeros(nz), np.full(nz, np.inf))
            self.coef = np.concatenate([self.coef, np.zeros(nz)])
            self._recost()
            self._level_rows(pos)
        if hard_clients.size:
            self.hard[hard_clients] = True
            st = self.start[hard_clients]
            self._rows(st, s.count[hard_clients], None)
        return int(pos.size + hard_clients.size)

    def _level_rows(self, new: NDArray[np.int64]) -> None:
        """Differenced rows of the new kept levels ``new`` and of the kept levels right after them.

        Level ``k`` with previous kept level ``k'`` of its client gets
        ``z^k - z^{k'} + sum_{D^{k'} <= c_ij < D^k} y_j >= 0`` (the first kept level:
        ``z^k + sum_{c_ij < D^k} y_j >= 1``). Summed along a client's kept levels they give its
        covering rows, and for any ``y`` the least ``z`` agree, so the LP is the same with a
        fraction of the nonzeros. A kept level whose previous one is new gets its row again with
        the new one; its old row stays (valid, implied by the new two).
        """
        s = self.s
        kept = np.flatnonzero(self.in_s)
        rows = s.rows[kept]
        first = np.ones(kept.size, dtype=bool)
        first[1:] = rows[1:] != rows[:-1]
        prev = np.empty_like(kept)
        prev[1:] = kept[:-1]
        prev[first] = -1
        is_new = np.zeros(s.rows.size, dtype=bool)
        is_new[new] = True
        need = is_new[kept] | ((prev >= 0) & is_new[np.maximum(prev, 0)])
        b, pv = kept[need], prev[need]
        a = np.where(pv >= 0, pv, self.start[s.rows[b]])
        zp = np.where(pv >= 0, self.zcol[np.maximum(pv, 0)], -1)
        length = b - a
        has = zp >= 0
        extra = 1 + has.astype(np.int64)
        lens = length + extra
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
        total = int(length.sum())
        off = np.arange(total) - np.repeat(np.cumsum(length) - length, length)
        idx = np.empty(int(lens.sum()), dtype=np.int32)
        vals = np.ones(idx.size)
        idx[np.repeat(starts + extra, length) + off] = s.cols[np.repeat(a, length) + off]
        idx[starts] = self.zcol[b]
        idx[starts[has] + 1] = zp[has]
        vals[starts[has] + 1] = -1.0
        nr = b.size
        self.h.addRows(nr, np.where(has, 0.0, 1.0), np.full(nr, np.inf), idx.size,
                       starts.astype(np.int32), idx, vals)
        self.n_rows += nr

    def _rows(self, st: NDArray[np.int64], length: NDArray[np.int64],
              zc: NDArray[np.int64] | None) -> None:
        s = self.s
        total = int(length.sum())
        seg = np.repeat(np.arange(st.size), length)
        off = np.arange(total) - np.repeat(np.cumsum(length) - length, length)
        ycols = s.cols[np.repeat(st, length) + off]
        extra = 0 if zc is None else 1
        lens = length + extra
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int32)
        idx = np.empty(total + extra * st.size, dtype=np.int32)
        vals = np.ones(idx.size)
        place = np.repeat(starts, length) + extra + off
        idx[place] = ycols
        if zc is not None:
            idx[starts] = zc
        del seg
        nr = st.size
        self.h.addRows(nr, np.ones(nr), np.full(nr, np.inf), idx.size, starts, idx, vals)
        self.n_rows += nr

    def _recost(self) -> None:
        """Coefficient of each kept level: its cost minus the previous kept level's (or D^0)."""
        s = self.s
        order = np.argsort(self.zpos, kind="stable")
        pos = self.zpos[order]
        prev = np.empty_like(pos)
        prev[1:] = pos[:-1]
        first = np.ones(pos.size, dtype=bool)
        first[1:] = s.rows[pos[1:]] != s.rows[pos[:-1]]
        prev[first] = self.start[s.rows[pos[first]]]
        new = np.empty(pos.size)
        new[order] = s.costs[pos] - s.costs[prev]
        changed = np.flatnonzero(new != self.coef)
        if changed.size:
            self.h.changeColsCost(changed.size, (self.m + changed).astype(np.int32),
                                  new[changed])
        self.coef = new

    def violated(self, y: NDArray[np.float64], tol: float) -> tuple[NDArray[np.int64],
                                                                     NDArray[np.int64]]:
        """Levels (sorted positions) raising the restricted value at ``y``; uncovered clients."""
        s = self.s
        yv = y[s.cols]
        excl = np.cumsum(yv) - yv  # coverage before each position, from the first client
        first = self.start[:-1]
        last = np.maximum(self.start[1:] - 1, first)
        base = excl[np.minimum(first, excl.size - 1)] if excl.size else excl
        total = np.where(s.count > 0, excl[last] + yv[last] - base, 0.0) if excl.size else base
        hard = np.flatnonzero((total < 1 - 1e-6) & ~self.hard & (s.count > 0))
        before = excl - np.repeat(base, s.count)  # coverage strictly nearer than each position
        q = np.flatnonzero(self.level & (before < 1 - 1e-9) & ~self.in_s)
        if q.size == 0:
            return q, hard
        anchors, kept = self._anchors()
        p1 = anchors[np.searchsorted(anchors, q) - 1]  # previous kept level or first position
        big = s.rows.size
        at = np.searchsorted(kept, q, side="right")
        n2 = np.where(at < kept.size, kept[np.minimum(at, max(kept.size - 1, 0))], big) \
            if kept.size else np.full(q.size, big)
        same = n2 < big
        same[same] = s.rows[n2[same]] == s.rows[q[same]]
        cov2 = np.where(same, np.maximum(0.0, 1.0 - before[np.minimum(n2, big - 1)]), 0.0)
        viol = (s.costs[q] - s.costs[p1]) * ((1.0 - before[q]) - cov2)
        return q[viol > tol], hard

    def _anchors(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Sorted positions of kept levels and clients' first pairs, and of kept levels alone."""
        if self._anchor_cache is None:
            kept = np.flatnonzero(self.in_s)
            anchors = np.union1d(kept, self.start[:-1][self.s.count > 0])
            self._anchor_cache = (anchors, kept)
        return self._anchor_cache

    def hint(self, is_open: NDArray[np.bool_]) -> NDArray[np.float64]:
        """Full variable vector of the open set ``is_open`` (``z`` = 1 where not yet covered)."""
        s = self.s
        yv = is_open[s.cols].astype(np.float64)
        cs = np.cumsum(yv)
        before = cs - yv - (cs - yv)[self.start[s.rows]]
        z = (before[self.zpos] < 0.5).astype(np.float64)
        return np.concatenate([is_open.astype(np.float64), z])


def _pad(model: _Model, best_open: NDArray[np.bool_], extra: int) -> None:
    """Add levels up to each client's cost in ``best_open`` (or farthest kept level), ``extra`` beyond.

    Fewer MIP solutions are then undercounted by missing levels (fewer MIP restarts).
    """
    s = model.s
    thr = s.nearest_open(best_open)[1]
    if model.zpos.size:
        np.maximum.at(thr, s.rows[model.zpos], s.costs[model.zpos])
    lev = model.level
    below = lev & (s.costs <= thr[s.rows])
    above = np.flatnonzero(lev & (s.costs > thr[s.rows]))
    k = np.arange(above.size) - np.searchsorted(s.rows[above], s.rows[above])
    model.add(np.concatenate([np.flatnonzero(below), above[k < extra]]),
              np.zeros(0, dtype=np.int64))


def _plan_cost(s: _Sorted, net_fixed: NDArray[np.float64], base: float,
               is_open: NDArray[np.bool_]) -> float:
    _, cost = s.nearest_open(is_open)
    return float(cost.sum() + net_fixed[is_open].sum() + base)


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

    Returns
    -------
    RadiusResult

    """
    run = _start(d, s, time_limit=time_limit, gap=gap, seed=seed, log=log, dense=dense,
                 heuristic_share=heuristic_share)
    if _lp_with_levels(run):
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
        sol = run.model.h.getSolution()
        rc = np.asarray(sol.col_dual)[:d.n_facilities]
        lp_val = float(run.model.h.getInfo().objective_function_value)
        if d.p is not None and run.gap_open() and not tree:
            _support_mip(run, rc, lp_val)
            if run.closed():
                return run.optimal()
        close, openf = _fix_by_reduced_cost(run, rc, lp_val)
        n_fixed = int(close.sum() + openf.sum())
    # Step 4: MIP with level generation, on the instance without the fixed-closed facilities.
    if close.sum() >= 0.25 * d.n_facilities:  # worth a smaller model (else the fixings are bounds)
        _shrink(run, close, openf)
    if run.lp_done and run.best_open.size > 0 and tree:
        return _tree(run, close, openf, n_fixed)
    return _final_mip(run, n_fixed)


def _tree(run: _Run, close: NDArray[np.bool_], openf: NDArray[np.bool_],
          n_fixed: int) -> RadiusResult:
    """Step 4 by :func:`layout.core.radius_bb.branch_and_bound` on the LP model.

    Parameters
    ----------
    run : _Run
        The state after the LP steps (continuous model, a best plan).
    close, openf : ndarray of bool, shape (m,)
        Facilities fixed closed / open by reduced cost.
    n_fixed : int
        Their number.

    Returns
    -------
    RadiusResult

    """
    lo = openf.astype(np.float64)
    hi = (~close).astype(np.float64)
    res = branch_and_bound(run, lo, hi)
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


def _solve_lp(model: _Model, deadline: float, *, cold: bool):
    """Solve the model's LP; a ``cold`` one (no basis yet) by interior point and crossover.

    On the radius LPs of pmed36/38 (8,000-11,000 rows) the interior point method with crossover
    takes about half the time of the dual simplex from the slack basis; later solves (rows
    added, bounds changed) are warm dual simplex.
    """
    h = model.h
    if cold and h.getNumRow() >= _IPM_ROWS:
        h.setOptionValue("solver", "ipm")
    try:
        return run_highs(h, time_limit=max(0.0, deadline - time.perf_counter()))
    finally:
        h.setOptionValue("solver", "choose")


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
    few) and searches again; at most 30 tries, stopping once the gap is closed.

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
    while time.perf_counter() < t_ms and tries < 30 and run.gap_open():
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

    It is seeded with every level up to the farthest one the full LP needed and one beyond,
    then violated levels are added until none (or the deadline).

    Parameters
    ----------
    run : _Run
        ``s`` and ``model`` are replaced; ``rounds`` is updated.
    close, openf : ndarray of bool, shape (m,)
        Facilities fixed closed / open.

    """
    from layout.core.pmedian import _Sorted

    d, m = run.d, run.d.n_facilities
    reach = np.full(d.n_demand, -np.inf)
    np.maximum.at(reach, run.model.s.rows[run.model.zpos], run.model.s.costs[run.model.zpos])
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
    init = model.level & ((s.rank <= upto[s.rows]) | (s.costs <= reach[s.rows]))
    beyond = model.level & (s.costs > reach[s.rows])
    first_beyond = np.zeros_like(beyond)
    cl_b = s.rows[beyond]
    if cl_b.size:
        _, fb = np.unique(cl_b, return_index=True)
        first_beyond[np.flatnonzero(beyond)[fb]] = True
    model.add(np.flatnonzero(init | first_beyond), np.zeros(0, dtype=np.int64))
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
