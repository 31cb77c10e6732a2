"""Lagrangian branch and bound on the open/closed decisions of capacitated split-demand location.

After Görtz & Klose (2012), "A simple but usually fast branch-and-bound algorithm for the
capacitated facility location problem": every node fixes some facilities open or closed; its
bound is the Lagrangian dual of :mod:`layout.core.cap_dual` (demand rows relaxed, one continuous
knapsack per facility, the ``y`` problem with the total-capacity row), raised by subgradient
steps from the parent's multipliers. At each node:

1. ascent; prune when the bound reaches the incumbent (less the gap tolerance);
2. price the relaxation's open set by a transportation LP (new incumbent?);
3. fix free facilities whose forced-open (forced-closed) bound exceeds the incumbent closed
   (open), then a short ascent again if anything was fixed;
4. branch on the free facility whose average relaxed ``y`` is closest to 1/2 (open child
   first); nodes are taken best bound first.

A node with every facility fixed is solved exactly by one transportation LP. Pruning and fixing
only remove plans costing at least the incumbent less the tolerance, so the incumbent is optimal
within the gap once no node is left; otherwise the smallest open bound is the proven bound.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from layout.core.cap_dual import Knapsacks, Node, ascent, fixings
from layout.core.inputs import CoreData

Transport = Callable[[CoreData, NDArray[np.bool_]], tuple[float, NDArray[np.float64] | None]]


@dataclass(frozen=True)
class TreeResult:
    """Outcome of :func:`branch_and_bound`.

    Attributes
    ----------
    upper : float
        Cost of the best plan (``inf`` if none).
    open_ : ndarray of bool
        Its open facilities.
    x : ndarray or None
        Its pair shares (pairs of ``d``).
    bound : float
        Proven lower bound (``upper`` when the tree was exhausted).
    proven : bool
        Whether the tree was exhausted (``upper`` optimal within the gap).
    nodes : int
    iterations : int
        Subgradient iterations over all nodes.
    root_closed, root_opened : ndarray of bool
        Facilities fixed at the root: every plan cheaper than ``upper`` (less the tolerance)
        closes / opens them.

    """

    upper: float
    open_: NDArray[np.bool_]
    x: NDArray[np.float64] | None
    bound: float
    proven: bool
    nodes: int
    iterations: int
    root_closed: NDArray[np.bool_]
    root_opened: NDArray[np.bool_]


class _Incumbent:
    """Best plan so far and the open sets already priced."""

    def __init__(self, d: CoreData, transport_fn: Transport) -> None:
        self.d, self.transport_fn = d, transport_fn
        self.cap = np.asarray(d.capacity, dtype=float)
        self.need = float(d.demand.sum())
        self.upper = float("inf")
        self.open_ = np.zeros(d.n_facilities, dtype=bool)
        self.x: NDArray[np.float64] | None = None
        self.seen: set[bytes] = set()

    def offer(self, cost: float, x: NDArray[np.float64] | None, open_: NDArray[np.bool_]) -> None:
        if x is not None and cost < self.upper:
            self.upper, self.x, self.open_ = cost, x, open_.copy()

    def price(self, open_: NDArray[np.bool_]) -> None:
        """Transportation LP of ``open_`` unless already priced or short of capacity."""
        key = np.packbits(open_).tobytes()
        if key in self.seen or self.cap[open_].sum() < self.need * (1 - 1e-12):
            return
        self.seen.add(key)
        self.offer(*self.transport_fn(self.d, open_), open_)


def _branch_var(node: Node, ybar: NDArray[np.float64]) -> int:
    free = np.flatnonzero(~(node.closed | node.opened))
    return int(free[np.argmin(np.abs(ybar[free] - 0.5))])


def branch_and_bound(
    d: CoreData, deadline: float, transport_fn: Transport, *, gap: float,
    start: tuple[float, NDArray[np.float64] | None, NDArray[np.bool_]] | None = None,
    improve: Callable[[NDArray[np.float64], NDArray[np.bool_]],
                      tuple[float, NDArray[np.float64] | None, NDArray[np.bool_]]] | None = None,
    root_iters: int = 3000, node_iters: int = 80, node_pi: float = 0.5, patience: int = 10,
    max_nodes: int | None = None,
) -> TreeResult:
    """Solve a plain capacitated instance (no closed costs) by Lagrangian branch and bound.

    Parameters
    ----------
    d : CoreData
        A plain capacitated split-demand instance with zero closed costs.
    deadline : float
        ``time.perf_counter()`` value at which the search stops.
    transport_fn : callable
        ``transport_fn(d, open_) -> (cost, shares)``, as :func:`layout.core.capacitated.transport`.
    gap : float
        Relative tolerance: nodes whose bound is within it of the incumbent are pruned.
    start : tuple, optional
        A known plan ``(cost, shares, open)``.
    improve : callable, optional
        ``improve(ybar, fixed_closed) -> (cost, shares, open)``: a heuristic plan from the root's
        primal estimate, called once after the root ascent.
    root_iters, node_iters : int
        Most subgradient iterations at the root / at any other node.
    node_pi, patience : float, int
        First step factor below the root (2 at the root); iterations without a better bound
        before the factor is halved (twice that at the root).
    max_nodes : int, optional
        Stop after this many nodes (default: no limit; 1 = root bound, plan and fixings only).

    Returns
    -------
    TreeResult

    """
    m = d.n_facilities
    inc = _Incumbent(d, transport_fn)
    if start is not None:
        inc.offer(*start)
    need = inc.need
    sub = Knapsacks(d)
    lam0 = np.full(d.n_demand, np.inf)
    np.minimum.at(lam0, d.rows, d.costs)
    lam0[~np.isfinite(lam0)] = 0.0
    root = Node(np.zeros(m, dtype=bool), np.zeros(m, dtype=bool), lam0, -np.inf)
    root_closed, root_opened = root.closed.copy(), root.opened.copy()
    heap: list[tuple[float, int, Node]] = [(-np.inf, 0, root)]
    count, iterations, nodes = 1, 0, 0
    while heap and time.perf_counter() < deadline and (max_nodes is None or nodes < max_nodes):
        _, _, node = heapq.heappop(heap)
        tol = gap * max(1.0, abs(inc.upper)) if np.isfinite(inc.upper) else 0.0
        if node.bound >= inc.upper - tol:
            continue
        nodes += 1
        is_root = nodes == 1
        children = _process(node, sub, need, inc, gap, is_root=is_root, deadline=deadline,
                            iters=root_iters if is_root else node_iters,
                            pi=2.0 if is_root else node_pi,
                            patience=2 * patience if is_root else patience,
                            improve=improve if is_root else None)
        iterations += children[1]
        for child in children[0]:
            heapq.heappush(heap, (child.bound, count, child))
            count += 1
        if is_root:
            root_closed, root_opened = root.closed.copy(), root.opened.copy()
            if root_closed.any():  # drop their pairs: cheaper knapsacks below
                sub = Knapsacks(d, keep=~root_closed)
    tol = gap * max(1.0, abs(inc.upper)) if np.isfinite(inc.upper) else 0.0
    left = [b for b, _, _n in heap if b < inc.upper - tol]
    proven = not left and np.isfinite(inc.upper)
    bound = inc.upper if proven else min([*left, inc.upper])
    return TreeResult(inc.upper, inc.open_, inc.x, float(bound), bool(proven), nodes, iterations,
                      root_closed, root_opened)


def _process(node: Node, sub: Knapsacks, need: float, inc: _Incumbent, gap: float, *,
             is_root: bool, iters: int, pi: float, patience: int, deadline: float,
             improve: Callable[[NDArray[np.float64], NDArray[np.bool_]],
                               tuple[float, NDArray[np.float64] | None, NDArray[np.bool_]]] | None
             ) -> tuple[list[Node], int, NDArray[np.bool_] | None]:
    """Bound, price, fix and branch one node: its children, iterations, root closings."""
    free_count = int((~(node.closed | node.opened)).sum())
    if free_count == 0:
        inc.price(node.opened)
        return [], 0, None
    total = 0
    root_closed = None
    for rep in range(3):
        tol = gap * max(1.0, abs(inc.upper)) if np.isfinite(inc.upper) else 0.0
        res = ascent(sub, need, node, inc.upper, iters=iters if rep == 0 else iters // 3,
                     pi=pi if rep == 0 else min(pi, 0.25), patience=patience, tol=tol,
                     deadline=deadline)
        total += res.iterations
        node.lam, node.bound = res.lam, max(node.bound, res.bound)
        if node.bound >= inc.upper - tol:
            return [], total, root_closed
        inc.price(res.y_best > 0)
        if improve is not None and rep == 0:
            inc.offer(*improve(res.ybar, node.closed))
        tol = gap * max(1.0, abs(inc.upper)) if np.isfinite(inc.upper) else 0.0
        if node.bound >= inc.upper - tol or not np.isfinite(inc.upper):
            if node.bound >= inc.upper - tol:
                return [], total, root_closed
            break
        close, open_ = fixings(sub, need, node, node.lam, inc.upper, tol)
        if (close & open_).any():
            return [], total, root_closed
        if not close.any() and not open_.any():
            break
        node.closed = node.closed | close
        node.opened = node.opened | open_
        if is_root:
            root_closed = node.closed.copy()
        if not (~(node.closed | node.opened)).any():
            inc.price(node.opened)
            return [], total, root_closed
    j = _branch_var(node, res.ybar)
    one = Node(node.closed.copy(), node.opened.copy(), node.lam, node.bound, node.depth + 1)
    zero = Node(node.closed.copy(), node.opened.copy(), node.lam, node.bound, node.depth + 1)
    one.opened[j] = True
    zero.closed[j] = True
    return [one, zero], total, root_closed
