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


@dataclass(frozen=True)
class LagrangeResult:
    """Outcome of :func:`lagrangian`.

    Attributes
    ----------
    bound : float
        Best Lagrangian lower bound (full objective, closed costs included).
    upper : float
        Cost of the best plan found (``inf`` if none).
    open_ : ndarray of bool
        Open set of that plan.
    x : ndarray of float or None
        Pair shares of that plan.
    fix_open, fix_closed : ndarray of bool
        Facilities that every plan cheaper than ``upper`` opens / closes.
    iterations : int
        Subgradient iterations.

    """

    bound: float
    upper: float
    open_: NDArray[np.bool_]
    x: NDArray[np.float64] | None
    fix_open: NDArray[np.bool_]
    fix_closed: NDArray[np.bool_]
    iterations: int


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


def lagrangian(
    d: CoreData, deadline: float,
    transport_fn: Callable[[CoreData, NDArray[np.bool_]], tuple[float, NDArray[np.float64] | None]],
    *, max_iter: int = 5000,
    improve: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64] | None,
                                                   NDArray[np.bool_]]] | None = None,
) -> LagrangeResult:
    """Subgradient optimisation of the Lagrangian bound with transportation-LP plans.

    ``improve``, if given, maps the running average of the relaxed ``y`` (a primal estimate)
    to a plan ``(cost, shares, open)``; it is called once before fixing.
    """
    m, k = d.n_facilities, d.rows.size
    cap = np.asarray(d.capacity, dtype=float)
    dem = d.demand
    need = float(dem.sum())
    f = d.fixed_cost - d.closed_cost
    const = float(d.closed_cost.sum())
    by_fac = np.argsort(d.cols, kind="stable")
    cols_s = d.cols[by_fac]
    rows_s = d.rows[by_fac]
    c_s = d.costs[by_fac]
    d_s = dem[rows_s]
    fac_start = np.searchsorted(cols_s, np.arange(m))
    def sub(lam: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                               NDArray[np.float64]]:
        """Reduced costs, knapsack shares (pairs in facility order) and ``g`` for ``lam``."""
        rc = c_s - lam[rows_s]
        neg = rc < 0
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(neg, np.where(d_s > 0, rc / d_s, -np.inf), np.inf)
        order = np.lexsort((ratio, cols_s))  # cols_s is sorted: stays grouped by facility
        dd = np.where(neg[order], d_s[order], 0.0)
        cum = np.cumsum(dd)
        base = np.concatenate([[0.0], cum])[fac_start]
        before = cum - dd - base[cols_s]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(dd > 0, (cap[cols_s] - before) / dd, 1.0)
        x = np.empty(k)
        x[order] = np.where(neg[order], np.clip(share, 0.0, 1.0), 0.0)
        return rc, x, f + np.bincount(cols_s, weights=rc * x, minlength=m)

    lam = np.full(d.n_demand, np.inf)
    np.minimum.at(lam, d.rows, d.costs)
    lam[~np.isfinite(lam)] = 0.0
    best_l, best_lam = -np.inf, lam.copy()
    upper, best_open, best_x = float("inf"), np.zeros(m, dtype=bool), None
    seen: set[bytes] = set()
    pi, stall, it = 2.0, 0, 0
    ybar = np.zeros(m)
    while it < max_iter and time.perf_counter() < deadline and pi > 1e-4:
        it += 1
        _, x, g = sub(lam)
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
        if np.isfinite(upper) and upper - best_l <= 1e-9 * max(1.0, abs(upper)):
            break
        s = np.ones(d.n_demand) - np.bincount(rows_s, weights=x * y[cols_s],
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
    fix_open = np.zeros(m, dtype=bool)
    fix_closed = np.zeros(m, dtype=bool)
    if np.isfinite(best_l) and np.isfinite(upper):
        _, _, g = sub(best_lam)
        one, zero = _fix_bounds(g, cap, need)
        base_l = float(best_lam.sum()) + const
        margin = 1e-9 * max(1.0, abs(upper))
        fix_closed = base_l + one > upper + margin
        fix_open = base_l + zero > upper + margin
        fix_closed &= ~best_open
        fix_open &= best_open
    return LagrangeResult(best_l, upper, best_open, best_x, fix_open, fix_closed, it)
