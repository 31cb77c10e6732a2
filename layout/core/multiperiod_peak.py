"""Two optional parts of the multi-period model: a high-demand check and idle added capacity.

Both are plain-array additions to :mod:`layout.core.multiperiod_model` (the model object is
:class:`layout.core.multiperiod.MultiPeriodLocation`).

High demand (``peak_demand``, shape (T, n), e.g. the P90 of a forecast)
    Each facility's catchment, at the high demand, must fit in its permanent capacity plus the
    most temporary capacity it may add: for every period t and facility j,

    * ``sum_i peak[t, i] x[t, i, j] <= cap[j] y + block[j] b[t, j] + temp_max[j] y + o[t, j]``;
    * with ``temp_share``: ``sum_i peak[t, i] x[t, i, j] <= (1 + temp_share[j]) (cap[j] y +
      block[j] b[t, j]) + o[t, j]``,

    where ``o[t, j] >= 0`` is the high demand the facility could not take even with temporary
    capacity, charged ``peak_cost[t, j]`` per unit. The assignment is the one of the planning
    demand (a row keeps its facility when demand runs high), so the check is a sufficient one:
    a plan with ``o = 0`` serves the high demand with temporary capacity alone.

Idle added capacity (``idle_cost``, shape (m,))
    Capacity added (blocks) that stands unused in the last period costs ``idle_cost[j]`` per
    unit: the residual value of a building that outlives the horizon is only worth something if
    it is used. The used added capacity ``e[j]`` is at most the added capacity,
    ``e[j] <= block[j] b[T-1, j]``, and at most the last period's load beyond the capacity the
    facility had, ``e[j] <= sum_i d[T-1, i] x[T-1, i, j] - cap[j] z[j]``, where the binary
    ``z[j]`` is 1 once capacity is added (``b[T-1, j] <= max_blocks[j] z[j]``); the objective
    gains ``idle_cost[j] (block[j] b[T-1, j] - e[j])``. A facility that added capacity and
    ends below even its own capacity pays for all its empty seats (``e`` goes below zero, down
    to ``-cap[j]``): its blocks served a passing peak only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from layout.core.formulation import Rows
    from layout.core.multiperiod_model import Layout, MultiPeriodData

_TOL = 1e-6


def peak_facilities(d: MultiPeriodData) -> NDArray[np.int64]:
    """Facilities with an overflow variable ``o`` (all, when there is a high demand)."""
    if d.peak_demand is None or d.capacity is None:
        return np.zeros(0, dtype=np.int64)
    return np.arange(d.n_facilities, dtype=np.int64)


def idle_facilities(d: MultiPeriodData, b_fac: NDArray[np.int64]) -> NDArray[np.int64]:
    """Facilities with a used-added-capacity variable ``e`` (may add capacity, idle cost)."""
    if d.idle_cost is None or d.capacity is None:
        return np.zeros(0, dtype=np.int64)
    return b_fac[d.idle_cost[b_fac] > 0].astype(np.int64)


def add_objective(d: MultiPeriodData, lay: Layout, obj: NDArray[np.float64]) -> None:
    """Coefficients of ``o`` and ``e``, and the idle cost on the last period's blocks."""
    if lay.o_fac.size and d.peak_cost is not None:
        obj[lay.o] = d.peak_cost[:, lay.o_fac].ravel()
    if lay.e_fac.size and d.idle_cost is not None:
        cost = d.idle_cost[lay.e_fac]
        obj[lay.e] = -cost
        b_pos = np.searchsorted(lay.b_fac, lay.e_fac)
        last = lay.b.start + (d.n_periods - 1) * lay.b_fac.size
        obj[last + b_pos] += cost * d.expansion_block[lay.e_fac]


def add_rows(d: MultiPeriodData, lay: Layout, rows: Rows, t: int, xs: NDArray[np.int64],
             y_fac: NDArray[np.int64], bs: NDArray[np.int64]) -> None:
    """Rows of period ``t``: high-demand capacity and (last period) used added capacity.

    ``xs``, ``y_fac`` and ``bs`` are the period's ``x`` variables (per pair), ``y`` variable of
    each facility and ``b`` variables (per facility of ``lay.b_fac``).
    """
    if lay.o_fac.size and d.peak_demand is not None and d.capacity is not None:
        m = d.n_facilities
        os_ = lay.o.start + t * m + np.arange(m)
        load = (d.cols, xs, d.peak_demand[t, d.rows])
        blk = d.expansion_block[lay.b_fac]
        cap = d.capacity
        rows.add(m, -np.inf, 0.0, [load, (np.arange(m), y_fac, -(cap + d.temp_max)),
                                   (lay.b_fac, bs, -blk), (np.arange(m), os_, -1.0)])
        if d.temp_share is not None:
            f = 1.0 + d.temp_share
            rows.add(m, -np.inf, 0.0, [load, (np.arange(m), y_fac, -f * cap),
                                       (lay.b_fac, bs, -f[lay.b_fac] * blk),
                                       (np.arange(m), os_, -1.0)])
    if lay.e_fac.size and t == d.n_periods - 1:
        ne = lay.e_fac.size
        loc = np.arange(ne)
        es = lay.e.start + loc
        b_pos = np.searchsorted(lay.b_fac, lay.e_fac)
        rows.add(ne, -np.inf, 0.0, [(loc, es, 1.0),
                                    (loc, bs[b_pos], -d.expansion_block[lay.e_fac])])
        zs = lay.z.start + loc
        local = np.full(d.n_facilities, -1)
        local[lay.e_fac] = loc
        sel = local[d.cols] >= 0
        cap = d.capacity if d.capacity is not None else np.zeros(d.n_facilities)
        terms: list[tuple[Any, Any, Any]] = [
            (loc, es, 1.0), (local[d.cols[sel]], xs[sel], -d.demand[t, d.rows[sel]]),
            (loc, zs, cap[lay.e_fac])]
        rows.add(ne, -np.inf, 0.0, terms)
        rows.add(ne, -np.inf, 0.0, [(loc, bs[b_pos], 1.0),
                                    (loc, zs, -d.max_blocks[lay.e_fac].astype(float))])


def peak_blocks(d: MultiPeriodData, cap: NDArray[np.float64], peak_load: NDArray[np.float64],
                b_fac: NDArray[np.int64]) -> NDArray[np.float64]:
    """Cumulative blocks each period needs so the high demand fits with temporary capacity.

    Shape (T, len(b_fac)); at most ``max_blocks`` (the rest is overflow).
    """
    blk = d.expansion_block[b_fac]
    load = peak_load[:, b_fac]
    perm = load - cap[b_fac] - d.temp_max[b_fac]
    if d.temp_share is not None:
        perm = np.maximum(perm, load / (1.0 + d.temp_share[b_fac]) - cap[b_fac])
    need = np.ceil(np.maximum(0.0, perm) / blk - _TOL)
    return np.minimum(need, d.max_blocks[b_fac].astype(float))


def overflow_of(d: MultiPeriodData, open_f: NDArray[np.bool_], blocks: NDArray[np.float64],
                peak_load: NDArray[np.float64]) -> NDArray[np.float64]:
    """High demand each facility cannot take (T, m) with its permanent and temporary capacity.

    ``open_f`` (T, m) open facilities, ``blocks`` (T, m) cumulative blocks, ``peak_load`` (T, m)
    the load at the high demand.
    """
    if d.capacity is None:
        return np.zeros_like(peak_load)
    perm = d.capacity * open_f + d.expansion_block * blocks
    allowed = perm + d.temp_max * open_f
    if d.temp_share is not None:
        allowed = np.minimum(allowed, (1.0 + d.temp_share) * perm)
    return np.maximum(0.0, peak_load - allowed)


def fill(d: MultiPeriodData, lay: Layout, v: NDArray[np.float64], open_f: NDArray[np.bool_],
         load: NDArray[np.float64], peak_load: NDArray[np.float64] | None) -> None:
    """Set ``o`` and ``e`` of the solution vector ``v`` from its ``b`` and loads (in place).

    ``open_f`` (T, m) open facilities, ``load`` (T, m) planning-demand load, ``peak_load`` the
    same at the high demand.
    """
    T, m = d.n_periods, d.n_facilities
    blocks = np.zeros((T, m))
    blocks[:, lay.b_fac] = v[lay.b].reshape(T, -1)
    if lay.o_fac.size and peak_load is not None:
        v[lay.o] = overflow_of(d, open_f, blocks, peak_load)[:, lay.o_fac].ravel()
    if lay.e_fac.size:
        used, grew = used_added(d, lay.e_fac, blocks[-1], load[-1])
        v[lay.e] = used
        v[lay.z] = grew


def used_added(d: MultiPeriodData, fac: NDArray[np.int64], blocks: NDArray[np.float64],
               load: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Used added capacity ``e`` and ``z`` (capacity added) of facilities ``fac`` at the end.

    ``blocks`` and ``load`` are the last period's, shape (m,).
    """
    added = d.expansion_block[fac] * blocks[fac]
    grew = (blocks[fac] > 0.5).astype(np.float64)
    cap = d.capacity[fac] if d.capacity is not None else np.zeros(fac.size)
    return np.minimum(added, load[fac] - cap * grew), grew

def peak_load_of(d: MultiPeriodData, x: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Load (T, m) at the high demand of pair shares ``x`` (T, K); ``None`` without one."""
    if d.peak_demand is None:
        return None
    return np.vstack([np.bincount(d.cols, weights=x[t] * d.peak_demand[t, d.rows],
                                  minlength=d.n_facilities) for t in range(d.n_periods)])
