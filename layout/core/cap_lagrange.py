"""Lagrangian relaxation of capacitated split-demand facility location (Beasley 1988 style).

Relaxing the assignment rows ``sum_j x[i, j] = 1`` with multipliers ``lam[i]`` leaves, for each
facility ``j``, a continuous knapsack: ``v[j] = min sum_i (c[i, j] - lam[i]) x[i, j]`` over
``0 <= x <= 1``, ``sum_i d[i] x[i, j] <= cap[j]`` (filled greedily by reduced cost per unit of
demand, only pairs of negative reduced cost). With ``g[j] = f[j] + v[j]`` the bound is

    L(lam) = sum_i lam[i] + sum_j closed[j] + min { g @ y : cap @ y >= sum(d), 0 <= y <= 1 },

the last term relaxed further to the stronger of a continuous knapsack (the total-capacity row
is a valid inequality of the problem, so it may be kept) and ``sum(y) >= K`` over binary ``y``
with ``K`` the fewest facilities whose capacities can cover the demand (also valid: any plan
opens at least ``K``); both are solved exactly by sorting. ``L(lam)`` is a lower bound for every
``lam``; subgradient steps raise it and each new open set is priced by a transportation LP.

Fixing (exact). For a facility ``j`` let ``L1[j]`` (``L0[j]``) be ``L(lam)`` with ``y[j] = 1``
(``y[j] = 0``) added to the knapsack. Any plan with ``j`` open is feasible for the relaxation
with ``y[j] = 1``, so it costs at least ``L1[j]``. If ``L1[j] >= UB`` (cost of a plan already
found), no plan with ``j`` open is cheaper than that plan, so ``j`` may be closed in the search
for a cheaper one; likewise ``L0[j] >= UB`` lets ``j`` be opened. Fixings from the same
``lam`` remain valid together: each only removes plans that cost at least ``UB``, and the plan
costing ``UB`` keeps all of them (it is itself feasible for its own restriction, since its cost
``UB`` is at least ``L1[j]`` for each of its open ``j`` and ``L0[j]`` for each closed ``j``;
a fixing is made only on a strict ``>`` below, so it never contradicts that plan). The optimum
of the full problem is therefore the optimum of the reduced problem.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from layout.core.inputs import CoreData
from layout.core.lagrange import LagrangeResult
from layout.core.status import relative_gap


@dataclass(frozen=True)
class CapacitatedLagrangeResult(LagrangeResult):
    """Outcome of :func:`lagrangian`: the bound and fixings of the base class, plus a plan.

    Attributes
    ----------
    bound : float
        Best Lagrangian lower bound (full objective, closed costs included).
    fixed_closed, fixed_open : ndarray of bool
        Facilities that every plan cheaper than ``upper`` closes / opens.
    iterations : int
        Subgradient iterations.
    upper : float
        Cost of the best plan found (``inf`` if none).
    open_ : ndarray of bool
        Open set of that plan.
    x : ndarray of float or None
        Pair shares of that plan.

    """

    upper: float
    open_: NDArray[np.bool_]
    x: NDArray[np.float64] | None


def _knapsack(g: NDArray[np.float64], cap: NDArray[np.float64], need: float
              ) -> tuple[float, NDArray[np.float64]]:
    """``min g @ y`` s.t. ``cap @ y >= need``, ``0 <= y <= 1`` (``inf`` if infeasible)."""
    y = (g < 0).astype(float)
    rest = need - float(cap @ y)
    if rest > 0:
        cand = np.flatnonzero((g >= 0) & (cap > 0))
        cand = cand[np.argsort(g[cand] / cap[cand], kind="stable")]
        cum = np.cumsum(cap[cand])
        k = int(np.searchsorted(cum, rest))
        if k >= cand.size:
            return float("inf"), y
        y[cand[:k]] = 1.0
        y[cand[k]] = (rest - (cum[k - 1] if k else 0.0)) / cap[cand[k]]
    return float(g @ y), y


def _min_count(cap: NDArray[np.float64], need: float) -> int:
    """Fewest facilities whose capacities can cover ``need`` (every plan opens at least this)."""
    if need <= 0:
        return 0
    cum = np.cumsum(np.sort(cap)[::-1])
    return int(np.searchsorted(cum, need * (1 - 1e-12))) + 1


def _cardinal(g: NDArray[np.float64], count: int) -> tuple[float, NDArray[np.float64]]:
    """``min g @ y`` over binary ``y`` with ``sum(y) >= count``."""
    y = (g < 0).astype(float)
    short = count - int(y.sum())
    if short > 0:
        rest = np.flatnonzero(g >= 0)
        if short > rest.size:
            return float("inf"), y
        y[rest[np.argsort(g[rest], kind="stable")[:short]]] = 1.0
    return float(g @ y), y


def _relaxed(g: NDArray[np.float64], cap: NDArray[np.float64], need: float
             ) -> tuple[float, NDArray[np.float64]]:
    """Stronger of two relaxations of the ``y`` problem: capacity knapsack LP, cardinality."""
    a = _knapsack(g, cap, need)
    b = _cardinal(g, _min_count(cap, need))
    return a if a[0] >= b[0] else b


def _fix_bounds(g: NDArray[np.float64], cap: NDArray[np.float64], need: float
                ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Relaxed ``y`` value with each ``y[j]`` forced to 1 (first) and to 0 (second)."""
    m = g.size
    one, zero = np.empty(m), np.empty(m)
    mask = np.ones(m, dtype=bool)
    for j in range(m):
        mask[j] = False
        rest_g, rest_c = g[mask], cap[mask]
        one[j] = g[j] + _relaxed(rest_g, rest_c, need - cap[j])[0]
        zero[j] = _relaxed(rest_g, rest_c, need)[0]
        mask[j] = True
    return one, zero


class _Knapsacks:
    """The per-facility continuous knapsacks of ``L(lam)`` (pairs kept in facility order)."""

    def __init__(self, d: CoreData) -> None:
        self.m, self.k = d.n_facilities, d.rows.size
        self.cap = np.asarray(d.capacity, dtype=float)
        self.f = d.fixed_cost - d.closed_cost
        by_fac = np.argsort(d.cols, kind="stable")
        self.cols_s = d.cols[by_fac]
        self.rows_s = d.rows[by_fac]
        self.c_s = d.costs[by_fac]
        self.d_s = d.demand[self.rows_s]
        self.fac_start = np.searchsorted(self.cols_s, np.arange(self.m))

    def __call__(self, lam: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Knapsack shares (pairs in facility order) and ``g`` for ``lam``."""
        cols_s, d_s, cap = self.cols_s, self.d_s, self.cap
        rc = self.c_s - lam[self.rows_s]
        neg = rc < 0
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(neg, np.where(d_s > 0, rc / d_s, -np.inf), np.inf)
        order = np.lexsort((ratio, cols_s))  # cols_s is sorted: stays grouped by facility
        dd = np.where(neg[order], d_s[order], 0.0)
        cum = np.cumsum(dd)
        base = np.concatenate([[0.0], cum])[self.fac_start]
        before = cum - dd - base[cols_s]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(dd > 0, (cap[cols_s] - before) / dd, 1.0)
        x = np.empty(self.k)
        x[order] = np.where(neg[order], np.clip(share, 0.0, 1.0), 0.0)
        return x, self.f + np.bincount(cols_s, weights=rc * x, minlength=self.m)


def _fixings(sub: _Knapsacks, lam: NDArray[np.float64], const: float, upper: float,
             best_open: NDArray[np.bool_], need: float
             ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Facilities fixed closed / open against a plan of cost ``upper`` (see module docstring)."""
    one, zero = _fix_bounds(sub(lam)[1], sub.cap, need)
    base_l = float(lam.sum()) + const
    margin = 1e-9 * max(1.0, abs(upper))
    return (base_l + one > upper + margin) & ~best_open, (base_l + zero > upper + margin) & best_open


# One subgradient loop whose step size, incumbent and primal average share state: kept whole.
def lagrangian(
    d: CoreData, deadline: float,
    transport_fn: Callable[[CoreData, NDArray[np.bool_]], tuple[float, NDArray[np.float64] | None]],
    *, max_iter: int = 5000,
    improve: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64] | None,
                                                   NDArray[np.bool_]]] | None = None,
    gap: float = 1e-9, stall_window: int = 0, stall_tol: float = 1e-6,
) -> CapacitatedLagrangeResult:
    """Subgradient optimisation of the Lagrangian bound with transportation-LP plans.

    Parameters
    ----------
    d : CoreData
        A capacitated split-demand instance (see :func:`layout.core.capacitated.is_plain_capacitated`).
    deadline : float
        ``time.perf_counter()`` value at which the subgradient loop stops.
    transport_fn : callable
        ``transport_fn(d, open_) -> (cost, shares)``: the cheapest assignment to an open set
        (cost ``inf`` and shares ``None`` if infeasible), as
        :func:`layout.core.capacitated.transport`.
    max_iter : int
        Most subgradient iterations (default 5000).
    improve : callable, optional
        Maps the running average of the relaxed ``y`` (a primal estimate) to a plan
        ``(cost, shares, open)``; called once before fixing. Default: not called.
    gap : float
        The loop stops once the plan found is within this relative gap of the bound (the
        requested gap of the solve; default 1e-9).
    stall_window, stall_tol : int, float
        Early stop on easy instances: the loop also stops when the bound rose by less than
        ``stall_tol`` (relative) over the last ``stall_window`` iterations (default 0: never).

    Returns
    -------
    CapacitatedLagrangeResult

    """
    m = d.n_facilities
    sub = _Knapsacks(d)
    cap = sub.cap
    need = float(d.demand.sum())
    const = float(d.closed_cost.sum())
    lam = np.full(d.n_demand, np.inf)
    np.minimum.at(lam, d.rows, d.costs)
    lam[~np.isfinite(lam)] = 0.0
    best_l, best_lam = -np.inf, lam.copy()
    upper, best_open, best_x = float("inf"), np.zeros(m, dtype=bool), None
    seen: set[bytes] = set()
    pi, stall, it = 2.0, 0, 0
    ybar = np.zeros(m)
    history: list[float] = []
    while it < max_iter and time.perf_counter() < deadline and pi > 1e-4:
        it += 1
        if stall_window and len(history) > stall_window and np.isfinite(history[-stall_window]) \
                and best_l - history[-stall_window] <= stall_tol * max(1.0, abs(best_l)):
            break
        history.append(best_l)
        x, g = sub(lam)
        kval, y = _relaxed(g, cap, need)
        if not np.isfinite(kval):
            break  # total capacity below demand: infeasible, left to the MIP to report
        low = float(lam.sum()) + kval + const
        if low > best_l + 1e-9 * max(1.0, abs(low)):
            best_l, best_lam, stall = low, lam.copy(), 0
        else:
            stall += 1
            if stall >= 30:
                pi, stall, lam = pi / 2, 0, best_lam.copy()
                continue
        ybar = 0.9 * ybar + 0.1 * y
        open_ = y > 0
        key = np.packbits(open_).tobytes()
        if key not in seen:
            seen.add(key)
            cost, xt = transport_fn(d, open_)
            cost += float(d.closed_cost[~open_].sum())
            if cost < upper:
                upper, best_open, best_x = cost, open_, xt
        if np.isfinite(upper) and relative_gap(upper, best_l, floor=1.0) <= max(gap, 1e-9):
            break
        s = np.ones(d.n_demand) - np.bincount(sub.rows_s, weights=x * y[sub.cols_s],
                                              minlength=d.n_demand)
        norm = float(s @ s)
        if norm <= 1e-12:
            break
        target = upper if np.isfinite(upper) else 1.05 * abs(low) + 1.0
        lam = lam + pi * max(target - low, 1e-9 * abs(target)) / norm * s
    if improve is not None and np.isfinite(best_l) and upper - best_l > 1e-9 * abs(upper):
        cost, xt, open_ = improve(ybar)
        cost += float(d.closed_cost[~open_].sum())
        if xt is not None and cost < upper:
            upper, best_open, best_x = cost, open_, xt
    fix_closed, fix_open = np.zeros(m, dtype=bool), np.zeros(m, dtype=bool)
    if np.isfinite(best_l) and np.isfinite(upper):
        fix_closed, fix_open = _fixings(sub, best_lam, const, upper, best_open, need)
    return CapacitatedLagrangeResult(bound=best_l, fixed_closed=fix_closed, fixed_open=fix_open,
                                     iterations=it, upper=upper, open_=best_open, x=best_x)
