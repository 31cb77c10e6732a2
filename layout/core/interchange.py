"""Greedy-add + interchange (Teitz–Bart vertex substitution) heuristic, vectorised with numpy.

For uncapacitated facility location and p-median on a dense ``(n, m)`` cost matrix (``inf`` where
a pair is not permitted) with a net fixed cost per facility:

1. greedy add: open, one at a time, the facility that lowers the total cost most (exactly ``p``
   of them with ``p``; without ``p`` until no addition lowers the cost);
2. local search, best improvement each step: every swap (close ``r``, open ``j``) and, without
   ``p``, every single addition and removal is evaluated at once from each client's nearest and
   second-nearest open facility (Whitaker's fast interchange): a swap's change is
   ``sum_i min(d1_i, c_ij) - d1_i`` plus, over the clients of ``r``,
   ``min(d2_i, c_ij) - min(d1_i, c_ij)``, plus the fixed-cost difference. One step costs
   O(n m) array work. It stops at a local optimum (no move lowers the cost) or a time budget.

Examples
--------
>>> import numpy as np
>>> c = np.array([[0.0, 5, 9], [5, 0, 4], [9, 4, 0], [8, 3, 1.0]])
>>> sol = local_search(c, np.zeros(3), p=1)
>>> sol.open.tolist(), sol.objective
([False, True, False], 12.0)

"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray


@dataclass(frozen=True)
class HeuristicSolution:
    """Outcome of :func:`local_search`.

    Attributes
    ----------
    open : ndarray of bool, shape (m,)
    objective : float
        Total cost (``inf`` when some client has no permitted open facility).
    moves : int
        Improving moves made by the local search.
    local_optimum : bool
        Whether the search stopped because no move improves (not because of the time budget).

    """

    open: NDArray[np.bool_]
    objective: float
    moves: int
    local_optimum: bool


def _nearest_two(c: NDArray[np.float64], open_idx: NDArray[np.int64]
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Nearest and second-nearest open cost and the nearest open facility of every client."""
    sub = c[:, open_idx]
    if open_idx.size == 1:
        d1 = sub[:, 0]
        return d1, np.full_like(d1, np.inf), np.full(d1.size, open_idx[0])
    part = np.argpartition(sub, 1, axis=1)[:, :2]
    two = np.take_along_axis(sub, part, axis=1)
    first = np.where(two[:, 0] <= two[:, 1], 0, 1)
    rows = np.arange(sub.shape[0])
    d1 = two[rows, first]
    d2 = two[rows, 1 - first]
    # Ties: lowest facility index among equally near ones, for determinism.
    a1 = open_idx[np.argmax(sub == d1[:, None], axis=1)]
    return d1, d2, a1


def _greedy_add(c: NDArray[np.float64], fixed: NDArray[np.float64], p: int | None,
                big: float) -> NDArray[np.bool_]:
    """Open facilities one at a time, each the one that lowers the cost most (step 1)."""
    n, m = c.shape
    is_open = np.zeros(m, dtype=bool)
    d1 = np.full(n, big * 2)
    target = p if p is not None else m
    for _ in range(target):
        tot = np.minimum(d1[:, None], c).sum(axis=0) + fixed
        tot[is_open] = np.inf
        j = int(np.argmin(tot))
        if p is None and is_open.any() and tot[j] >= d1.sum() - 1e-12 * abs(d1.sum()):
            break
        is_open[j] = True
        d1 = np.minimum(d1, c[:, j])
    return is_open


def local_search(
    cost: NDArray[np.float64],
    fixed: NDArray[np.float64],
    p: int | None = None,
    time_budget: float = np.inf,
    start: NDArray[np.bool_] | None = None,
) -> HeuristicSolution:
    """Greedy add then best-improvement interchange (see module docstring).

    Parameters
    ----------
    cost : ndarray, shape (n, m)
        Cost of serving client i from facility j; ``inf`` where not permitted.
    fixed : ndarray, shape (m,)
        Net fixed cost of opening each facility.
    p : int, optional
        Exact number of open facilities.
    time_budget : float
        Seconds after which the search stops with the best plan so far.
    start : ndarray of bool, shape (m,), optional
        Open set to start the local search from (skips greedy add; must have ``p`` members).

    Returns
    -------
    HeuristicSolution

    """
    t_end = time.perf_counter() + time_budget
    n, m = cost.shape
    finite = np.isfinite(cost)
    big = float(np.abs(cost[finite]).max(initial=0.0)) * (n + 1) + float(np.abs(fixed).sum()) + 1.0
    c = np.where(finite, cost, big)
    if start is not None:
        is_open = np.asarray(start, dtype=bool).copy()
    else:
        is_open = _greedy_add(c, fixed, p, big)
    moves = 0
    local_opt = False
    while time.perf_counter() < t_end and is_open.any():
        open_idx = np.flatnonzero(is_open)
        d1, d2, a1 = _nearest_two(c, open_idx)
        current = d1.sum() + fixed[is_open].sum()
        tol = 1e-9 * max(1.0, abs(current))
        mn1 = np.minimum(d1[:, None], c)  # (n, m) cost with j added
        add_gain = (d1[:, None] - mn1).sum(axis=0)  # saving of adding j
        extra = np.minimum(d2[:, None], c) - mn1  # extra cost on r's clients when r is removed
        owner = sp.csr_array((np.ones(n), (a1, np.arange(n))), shape=(m, n))
        loss = owner[open_idx] @ extra  # (open, m)
        swap = loss - add_gain[None, :] + fixed[None, :] - fixed[open_idx][:, None]
        swap[:, is_open] = np.inf
        best = float(swap.min()) if swap.size else np.inf
        kind = "swap"
        if p is None:
            add = fixed - add_gain
            add[is_open] = np.inf
            drop = np.bincount(a1, weights=d2 - d1, minlength=m)[open_idx] - fixed[open_idx]
            if open_idx.size <= 1:
                drop[:] = np.inf
            if add.min() < best:
                best, kind = float(add.min()), "add"
            if drop.size and drop.min() < best:
                best, kind = float(drop.min()), "drop"
        if not best < -tol:
            local_opt = True
            break
        if kind == "swap":
            r, col = np.unravel_index(int(np.argmin(swap)), swap.shape)
            is_open[open_idx[r]] = False
            is_open[col] = True
        elif kind == "add":
            is_open[int(np.argmin(add))] = True
        else:
            is_open[open_idx[int(np.argmin(drop))]] = False
        moves += 1
    open_idx = np.flatnonzero(is_open)
    d1 = cost[:, open_idx].min(axis=1) if open_idx.size else np.full(n, np.inf)
    obj = float(d1.sum() + fixed[is_open].sum())
    return HeuristicSolution(is_open, obj, moves, local_opt)
