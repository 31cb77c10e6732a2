"""Lagrangian dual of capacitated split-demand facility location with some facilities fixed.

Relaxing the assignment rows ``sum_j x[i, j] = 1`` with multipliers ``lam[i]`` (Beasley 1988,
Görtz & Klose 2012) leaves one continuous knapsack per facility,
``v[j] = min sum_i (c[i, j] - lam[i]) x[i, j]`` over ``0 <= x <= 1``,
``sum_i d[i] x[i, j] <= cap[j]`` (greedy by reduced cost per unit of demand), and with
``g[j] = f[j] + v[j]`` a problem in ``y`` alone:

    L(lam) = sum(lam) + sum_{j fixed open} g[j] + min { g @ y : y free, cap @ y >= rest }

where ``rest`` is the demand not covered by the fixed-open facilities. The last minimum is
relaxed to the stronger of its LP (a continuous knapsack) and the cardinality bound (at least
the fewest free facilities whose capacities cover ``rest``), both exact by sorting (the
cardinality bound is the 0-1 knapsack itself when capacities are equal). ``L(lam)`` is a lower
bound of every plan that opens the fixed-open and closes the fixed-closed facilities, for
every ``lam``; :func:`ascent` raises it by subgradient steps (Held & Karp step with Polyak
target, halved after a stall).

Fixing: :func:`fixings` evaluates the relaxation with each free ``y[j]`` forced to 1 and to 0
(see :mod:`layout.core.cap_lagrange` for why fixings against a plan of cost ``UB`` are exact).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from layout.core.cap_lagrange import _fix_bounds, _relaxed
from layout.core.inputs import CoreData


class Knapsacks:
    """The per-facility continuous knapsacks, only over pairs of negative reduced cost.

    Parameters
    ----------
    d : CoreData
        A plain capacitated instance (no closed costs, no link groups).
    keep : ndarray of bool, shape (m,), optional
        Facilities whose pairs are kept (default all); the others get ``g = inf``.

    """

    def __init__(self, d: CoreData, keep: NDArray[np.bool_] | None = None) -> None:
        self.m, self.n = d.n_facilities, d.n_demand
        self.cap = np.asarray(d.capacity, dtype=float)
        self.f = np.asarray(d.fixed_cost, dtype=float)
        sel = np.ones(d.rows.size, dtype=bool) if keep is None else keep[d.cols]
        idx = np.flatnonzero(sel)
        order = idx[np.argsort(d.cols[idx], kind="stable")]
        self.pair = order  # position of each kept pair in ``d``'s pair arrays
        self.cols = d.cols[order]
        self.rows = d.rows[order]
        self.c = d.costs[order]
        self.dem = d.demand[self.rows]
        self.key_type = np.int16 if self.m < 2**15 else np.int64
        self.dead = np.ones(self.m, dtype=bool) if keep is None else ~keep
        if keep is None:
            self.dead[:] = False

    def __call__(self, lam: NDArray[np.float64]
                 ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
        """``g`` for ``lam``, and the knapsack solution: kept-pair indices and their shares."""
        rc = self.c - lam[self.rows]
        idx = np.flatnonzero(rc < 0)
        r, dd, cc = rc[idx], self.dem[idx], self.cols[idx]
        with np.errstate(divide="ignore"):
            ratio = np.where(dd > 0, r / np.where(dd > 0, dd, 1.0), -np.inf)
        # By facility, then ratio: ratio order first, then a stable (radix) sort on facility.
        by_ratio = np.argsort(ratio)
        order = by_ratio[np.argsort(cc[by_ratio].astype(self.key_type), kind="stable")]
        idx, r, dd, cc = idx[order], r[order], dd[order], cc[order]
        cum = np.cumsum(dd)
        first = np.ones(cc.size, dtype=bool)
        first[1:] = cc[1:] != cc[:-1]
        start = np.maximum.accumulate(np.where(first, np.arange(cc.size), 0))
        before = cum - dd - (cum[start] - dd[start]) if cc.size else cum
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(dd > 0, (self.cap[cc] - before) / np.where(dd > 0, dd, 1.0), 1.0)
        share = np.clip(share, 0.0, 1.0)
        g = self.f + np.bincount(cc, weights=r * share, minlength=self.m)
        g[self.dead] = np.inf
        return (np.asarray(g, dtype=np.float64), np.asarray(idx, dtype=np.int64),
                np.asarray(share, dtype=np.float64))


@dataclass
class Node:
    """Fixed facilities of a branch-and-bound node and its best multipliers and bound."""

    closed: NDArray[np.bool_]
    opened: NDArray[np.bool_]
    lam: NDArray[np.float64]
    bound: float
    depth: int = 0


@dataclass
class Ascent:
    """Outcome of :func:`ascent`.

    Attributes
    ----------
    bound : float
        Best ``L(lam)`` (``inf`` if the node has no feasible plan).
    lam : ndarray
        Its multipliers.
    ybar : ndarray
        Average relaxed ``y`` of the later iterations (a primal estimate, for branching).
    y_best : ndarray
        Relaxed ``y`` at the best multipliers.
    iterations : int

    """

    bound: float
    lam: NDArray[np.float64]
    ybar: NDArray[np.float64]
    y_best: NDArray[np.float64]
    iterations: int


def relaxed_y(g: NDArray[np.float64], cap: NDArray[np.float64], need: float, node: Node
              ) -> tuple[float, NDArray[np.float64]]:
    """The ``y`` part of ``L(lam)`` at ``node`` (value without ``sum(lam)``) and its ``y``."""
    free = ~(node.closed | node.opened)
    rest = need - float(cap[node.opened].sum())
    val, yf = _relaxed(g[free], cap[free], rest)
    y = node.opened.astype(float)
    y[free] = yf
    return float(g[node.opened].sum()) + val, y


def ascent(sub: Knapsacks, need: float, node: Node, upper: float, *, iters: int, pi: float,
           patience: int, tol: float, deadline: float = np.inf) -> Ascent:
    """Subgradient ascent of ``L(lam)`` at ``node`` from ``node.lam``.

    Stops after ``iters`` iterations, when the step factor falls below 1e-3, when the bound
    reaches ``upper - tol`` (the node is pruned), or at ``deadline`` (``time.perf_counter()``).
    """
    lam = node.lam.copy()
    best_l, best_lam = -np.inf, lam.copy()
    ybar = np.zeros(sub.m)
    y_best = ybar
    stall = 0
    it = 0
    while it < iters and pi > 1e-3 and (it % 16 or time.perf_counter() < deadline):
        it += 1
        g, idx, share = sub(lam)
        val, y = relaxed_y(g, sub.cap, need, node)
        if not np.isfinite(val):
            return Ascent(np.inf, lam, y, y, it)
        low = float(lam.sum()) + val
        if low > best_l + 1e-12 * abs(low):
            best_l, best_lam, y_best, stall = low, lam.copy(), y, 0
        else:
            stall += 1
            if stall >= patience:
                pi, stall = pi / 2, 0
                lam = best_lam.copy()
                continue
        ybar = y if it == 1 else 0.9 * ybar + 0.1 * y
        if best_l >= upper - tol:
            break
        s = 1.0 - np.bincount(sub.rows[idx], weights=share * y[sub.cols[idx]], minlength=sub.n)
        norm = float(s @ s)
        if norm <= 1e-12:
            break
        target = upper if np.isfinite(upper) else 1.02 * abs(low) + 1.0
        lam = lam + pi * max(target - low, 1e-9 * abs(target)) / norm * s
    return Ascent(best_l, best_lam, ybar, y_best, it)


def fixings(sub: Knapsacks, need: float, node: Node, lam: NDArray[np.float64], upper: float,
            margin: float) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Free facilities that every plan of ``node`` cheaper than ``upper - margin`` closes / opens."""
    g = sub(lam)[0]
    free = np.flatnonzero(~(node.closed | node.opened))
    close = np.zeros(sub.m, dtype=bool)
    open_ = np.zeros(sub.m, dtype=bool)
    if free.size == 0:
        return close, open_
    rest = need - float(sub.cap[node.opened].sum())
    one, zero = _fix_bounds(g[free], sub.cap[free], rest)
    base = float(lam.sum()) + float(g[node.opened].sum())
    close[free] = base + one > upper - margin
    open_[free] = base + zero > upper - margin
    return close, open_
