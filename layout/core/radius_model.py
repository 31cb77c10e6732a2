"""The restricted radius model of :mod:`layout.core.radius` (one ``highspy`` LP grown by level rows).

See :mod:`layout.core.radius` for the formulation; :class:`_Model` holds the LP, adds level rows
(differenced, Elloumi 2010), finds violated levels and builds MIP starts; :func:`_solve_lp`
solves it (cold LPs by interior point).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from layout.core.backends import highs_lp, run_highs
from layout.core.status import SolveStatus

if TYPE_CHECKING:
    from layout.core.pmedian import _Sorted

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
