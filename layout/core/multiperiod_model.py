"""Checked data, MIP formulation and warm start of the multi-period facility-location model.

The model object is :class:`layout.core.multiperiod.MultiPeriodLocation`; this module holds its
plain-array machinery (see that class for the meaning of every input).

Variables (period-major inside each family, ``t = 0..T-1``):

- ``x[t, k]`` in [0, 1] per period and permitted pair k = (i, j): share of row i's demand served
  by facility j in period t (binary when ``single_source``);
- ``y[t, g]`` binary per period and open/close decision g (one per link group, else one per
  facility);
- ``b[t, j]`` integer in 0..max_blocks[j]: cumulative permanent blocks built at facility j by
  period t (only facilities that may expand);
- ``s[t, j]`` >= 0: temporary seats at facility j in period t (only where ``temp_max > 0``);
- ``u[t, i]`` in [0, 1]: share of row i's demand left unserved in period t (only with
  ``unserved_cost``; binary when ``single_source``).

Constraints, every period t:

- assignment: ``sum_j x[t, i, j] + u[t, i] = 1``;
- linking (strong, per pair): ``x[t, k] <= y[t, g(j)]`` (skipped where the group is fixed open);
- capacity: ``sum_i d[t, i] x[t, i, j] <= cap[j] y[t, g(j)] + block[j] b[t, j] + s[t, j]``;
- temporary seats only at an open facility: ``s[t, j] <= temp_max[j] y[t, g(j)]``;
- blocks cumulative and built only while open: ``0 <= b[t, j] - b[t-1, j] <= max_blocks[j]
  y[t, g(j)]`` (``b[-1] = 0``);
- minimum load: ``sum_i d[t, i] x[t, i, j] >= min_load[j] y[t, g(j)]``;
- monotone schedules: a group holding an existing facility never reopens
  (``y[t] <= y[t-1]``), a group holding a candidate site never closes again
  (``y[t] >= y[t-1]``); a group holding both is constant;
- total capacity (valid cut): ``sum_j cap[j] y + block[j] b + s + sum_i d[t, i] u[t, i] >=
  sum_i d[t, i]``.

Objective: ``sum_t [fixed[t] y + pair_cost[t] x + temp_cost[t] s + unserved_cost[t] u]
+ sum_t capital_discount[t] expansion_cost (b[t] - b[t-1]) + sum_t closed_cost[t]
(y[t-1] - y[t])`` over existing facilities, with ``y[-1] = 1``; the last two are rewritten as
coefficients of ``b`` and ``y`` plus a constant offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from layout.core import multiperiod_peak as mpp
from layout.core.errors import CoreInputError
from layout.core.formulation import MipModel, Rows
from layout.core.inputs import vector

_TOL = 1e-6


@dataclass(frozen=True)
class MultiPeriodData:
    """Checked, normalised multi-period data (pairs sorted by row, then facility).

    Attributes
    ----------
    n_periods, n_demand, n_facilities : int
        Dimensions T, n, m.
    rows, cols : ndarray of int64, shape (K,)
        Row and facility of each permitted pair (shared by every period).
    pair_cost : ndarray of float, shape (T, K)
        Cost of serving all of the row's demand through the pair in each period.
    demand : ndarray of float, shape (T, n)
    existing : ndarray of bool, shape (m,)
    fixed_cost, temp_cost, closed_cost : ndarray of float, shape (T, m)
        Per period, as charged (``period_weight`` already applied where it applies).
    capacity : ndarray of float or None, shape (m,)
    expansion_block, expansion_cost : ndarray of float, shape (m,)
    max_blocks : ndarray of int64, shape (m,)
    capital_discount : ndarray of float, shape (T,)
    temp_max : ndarray of float, shape (m,)
    min_load : ndarray of float, shape (m,)
        Zero where exempt or not given.
    unserved_cost : ndarray of float or None, shape (T, n)
    single_source : bool
    group : ndarray of int64, shape (m,)
        Open/close decision of each facility.
    n_groups : int
    group_existing, group_site : ndarray of bool, shape (n_groups,)
        Whether the group holds an existing facility / a candidate site.
    y_lb, y_ub : ndarray of float, shape (T, n_groups)
        Bounds of each decision after forcing, fixing and monotone propagation.
    b_fix : ndarray of int64 or None, shape (T, m)
        Fixed cumulative blocks per period and facility (-1 free); ``None``: none fixed.
    temp_share : ndarray of float or None, shape (m,)
    peak_demand : ndarray of float or None, shape (T, n)
        High demand checked against capacity plus temporary capacity
        (:mod:`layout.core.multiperiod_peak`).
    peak_cost : ndarray of float or None, shape (T, m)
        Cost per unit of high demand a facility cannot take.
    idle_cost : ndarray of float or None, shape (m,)
        Cost per unit of added capacity unused in the last period (facilities without
        capacity of their own).

    """

    n_periods: int
    n_demand: int
    n_facilities: int
    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    pair_cost: NDArray[np.float64]
    demand: NDArray[np.float64]
    existing: NDArray[np.bool_]
    fixed_cost: NDArray[np.float64]
    temp_cost: NDArray[np.float64]
    closed_cost: NDArray[np.float64]
    capacity: NDArray[np.float64] | None
    expansion_block: NDArray[np.float64]
    expansion_cost: NDArray[np.float64]
    max_blocks: NDArray[np.int64]
    capital_discount: NDArray[np.float64]
    temp_max: NDArray[np.float64]
    min_load: NDArray[np.float64]
    unserved_cost: NDArray[np.float64] | None
    single_source: bool
    group: NDArray[np.int64]
    n_groups: int
    group_existing: NDArray[np.bool_]
    group_site: NDArray[np.bool_]
    y_lb: NDArray[np.float64]
    y_ub: NDArray[np.float64]
    b_fix: NDArray[np.int64] | None = None
    temp_share: NDArray[np.float64] | None = None
    peak_demand: NDArray[np.float64] | None = None
    peak_cost: NDArray[np.float64] | None = None
    idle_cost: NDArray[np.float64] | None = None



def _first(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    return tuple(int(v) for v in np.argwhere(mask)[0])


def per_period(
    name: str, value: ArrayLike | None, n_periods: int, size: int, *, default: float | None,
    weight: NDArray[np.float64] | None = None, nonneg: bool = True,
) -> NDArray[np.float64] | None:
    """``value`` as a checked (T, size) array.

    A scalar or 1-D ``value`` of shape (size,) is the same in every period and is multiplied by
    ``weight[t]`` when ``weight`` is given; a 2-D ``value`` of shape (T, size) is used as given.
    ``None`` gives ``default`` in every cell (``None`` if no default).
    """
    if value is None:
        return None if default is None else np.full((n_periods, size), float(default))
    arr = np.asarray(value)
    if arr.ndim == 2:
        if arr.shape != (n_periods, size):
            raise CoreInputError(f"{name}: expected shape ({size},) or ({n_periods}, {size}), "
                                 f"got {arr.shape}")
        try:
            num = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise CoreInputError(f"{name}: values must be numeric ({exc})") from exc
        bad = ~np.isfinite(num)
        if bad.any():
            t, i = _first(bad)
            raise CoreInputError(f"{name}[{t}, {i}] = {num[t, i]}: must be finite")
        if nonneg and (num < 0).any():
            t, i = _first(num < 0)
            raise CoreInputError(f"{name}[{t}, {i}] = {num[t, i]}: must be >= 0")
        return num
    if arr.ndim > 2:
        raise CoreInputError(f"{name}: expected shape ({size},) or ({n_periods}, {size}), "
                             f"got {arr.shape}")
    one = vector(name, arr, size, nonneg=nonneg)
    w = np.ones(n_periods) if weight is None else weight
    return w[:, None] * one[None, :]


def _filled(name: str, value: ArrayLike | None, n_periods: int, size: int, default: float, *,
            weight: NDArray[np.float64] | None = None, nonneg: bool = True,
            ) -> NDArray[np.float64]:
    """:func:`per_period` with a default (never ``None``)."""
    arr = per_period(name, value, n_periods, size, default=default, weight=weight, nonneg=nonneg)
    assert arr is not None
    return arr


def _pairs(n: int, m: int, rows: ArrayLike, cols: ArrayLike
           ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Checked pairs sorted by row then facility, and the sorting permutation."""
    r = np.asarray(rows, dtype=np.int64).ravel()
    c = np.asarray(cols, dtype=np.int64).ravel()
    if r.shape != c.shape:
        raise CoreInputError(f"rows, cols: lengths differ ({r.size}, {c.size})")
    for name, idx, size in (("rows", r, n), ("cols", c, m)):
        bad = (idx < 0) | (idx >= size)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise CoreInputError(f"{name}[{k}] = {idx[k]}: index outside 0..{size - 1}")
    order = np.lexsort((c, r)).astype(np.int64)
    r, c = r[order], c[order]
    dup = (np.diff(r) == 0) & (np.diff(c) == 0)
    if dup.any():
        k = int(np.flatnonzero(dup)[0])
        raise CoreInputError(f"pair ({r[k]}, {c[k]}) given more than once")
    return r, c, order


def _groups(link: NDArray[np.int64] | None, m: int) -> tuple[NDArray[np.int64], int]:
    if link is None:
        return np.arange(m, dtype=np.int64), m
    if (link < -1).any():
        i = int(np.flatnonzero(link < -1)[0])
        raise CoreInputError(f"link_group[{i}] = {link[i]}: must be >= -1")
    key = np.where(link >= 0, link, link.max(initial=0) + 1 + np.arange(m))
    _, inverse = np.unique(key, return_inverse=True)
    return inverse.astype(np.int64), int(inverse.max(initial=-1)) + 1


def _schedule_bounds(
    fix: NDArray[np.int64], group: NDArray[np.int64], n_groups: int,
    g_existing: NDArray[np.bool_], g_site: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bounds of ``y[t, g]`` from per-facility fixings, propagated along monotone schedules."""
    n_periods = fix.shape[0]
    lb = np.zeros((n_periods, n_groups))
    ub = np.ones((n_periods, n_groups))
    for t in range(n_periods):
        np.maximum.at(lb[t], group, (fix[t] == 1).astype(float))
        np.minimum.at(ub[t], group, np.where(fix[t] == 0, 0.0, 1.0))
    clash = lb > ub
    if clash.any():
        t, g = _first(clash)
        j = int(np.flatnonzero(group == g)[0])
        raise CoreInputError(f"fix_open / force_open: facility {j} (or its link group) is fixed "
                             f"both open and closed in period {t}")
    # Existing (never reopens): open later => open now; closed earlier => closed now.
    # Site (never closes again): open earlier => open now; closed later => closed now.
    later_lb = np.maximum.accumulate(lb[::-1], axis=0)[::-1]
    earlier_ub = np.minimum.accumulate(ub, axis=0)
    earlier_lb = np.maximum.accumulate(lb, axis=0)
    later_ub = np.minimum.accumulate(ub[::-1], axis=0)[::-1]
    lb = np.where(g_existing, later_lb, lb)
    ub = np.where(g_existing, earlier_ub, ub)
    lb = np.where(g_site, np.maximum(lb, earlier_lb), lb)
    ub = np.where(g_site, np.minimum(ub, later_ub), ub)
    clash = lb > ub
    if clash.any():
        t, g = _first(clash)
        j = int(np.flatnonzero(group == g)[0])
        raise CoreInputError(
            f"fix_open: facility {j} (or its link group) cannot follow the fixed schedule around "
            f"period {t}: an existing facility never reopens and a new site never closes again"
        )
    return lb, ub


def build(
    rows: ArrayLike, cols: ArrayLike, pair_cost: ArrayLike, demand: ArrayLike, m: int, *,
    existing: ArrayLike | None, fixed_cost: ArrayLike | None,
    period_weight: ArrayLike | None, capacity: ArrayLike | None,
    closed_cost: ArrayLike | None, force_open: ArrayLike | None,
    link_group: ArrayLike | None, min_load: ArrayLike | None,
    min_load_exempt: ArrayLike | None, expansion_block: ArrayLike | None,
    expansion_cost: ArrayLike | None, max_blocks: ArrayLike | None,
    capital_discount: ArrayLike | None, temp_cost: ArrayLike | None,
    temp_max: ArrayLike | None, unserved_cost: ArrayLike | None,
    single_source: bool, fix_open: ArrayLike | None,
    fix_blocks: ArrayLike | None = None, temp_share: ArrayLike | None = None,
    peak_demand: ArrayLike | None = None, peak_cost: ArrayLike | None = None,
    idle_cost: ArrayLike | None = None,
) -> MultiPeriodData:
    """Check every argument of :meth:`MultiPeriodLocation.from_pairs` and normalise it.

    Raises
    ------
    CoreInputError
        On a shape mismatch, a non-finite or negative value, a duplicate pair, a row without
        permitted facility and no ``unserved_cost``, expansion or temporary seats without
        ``capacity``, or fixings that no monotone schedule satisfies (``fix_blocks``: see
        :func:`_block_fixings`).

    """
    dem_arr, n_periods, n, m = _dimensions(demand, m)
    r, c, order = _pairs(n, m, rows, cols)
    costs = _pair_costs(pair_cost, n_periods, r.size, order)
    weight = vector("period_weight", period_weight, n_periods, default=1.0)
    unserved = _unserved(unserved_cost, n_periods, n, weight, r)
    exist = vector("existing", existing, m, default=False, dtype=np.bool_)
    fixed = _filled("fixed_cost", fixed_cost, n_periods, m, 0.0, weight=weight, nonneg=False)
    closed = _filled("closed_cost", closed_cost, n_periods, m, 0.0, nonneg=False)
    room = _room(capacity, expansion_block, max_blocks, expansion_cost, temp_max, temp_cost,
                 n_periods, m, weight)
    disc = vector("capital_discount", capital_discount, n_periods, default=1.0)
    ml = vector("min_load", min_load, m, default=0.0)
    exempt = vector("min_load_exempt", min_load_exempt, m, default=False, dtype=np.bool_)
    ml = np.where(exempt, 0.0, ml)
    link = vector("link_group", link_group, m, nonneg=False, dtype=np.int64)
    group, n_groups = _groups(link, m)
    g_existing = np.bincount(group, weights=exist, minlength=n_groups) > 0
    g_site = np.bincount(group, weights=~exist, minlength=n_groups) > 0
    fix = _fixings(fix_open, force_open, n_periods, m)
    y_lb, y_ub = _schedule_bounds(fix, group, n_groups, g_existing, g_site)
    b_fix = _block_fixings(fix_blocks, room, n_periods, m)
    peak = per_period("peak_demand", peak_demand, n_periods, n, default=None)
    if peak is not None and room.capacity is None:
        raise CoreInputError("peak_demand: the high-demand check needs capacity to be given")
    return MultiPeriodData(
        n_periods=n_periods, n_demand=n, n_facilities=m, rows=r, cols=c, pair_cost=costs,
        demand=dem_arr, existing=exist, fixed_cost=fixed, temp_cost=room.temp_cost,
        closed_cost=closed, capacity=room.capacity, expansion_block=room.block,
        expansion_cost=room.cost, max_blocks=room.max_blocks, capital_discount=disc,
        temp_max=room.temp_max, min_load=ml, unserved_cost=unserved,
        single_source=bool(single_source), group=group, n_groups=n_groups,
        group_existing=g_existing, group_site=g_site, y_lb=y_lb, y_ub=y_ub, b_fix=b_fix,
        temp_share=vector("temp_share", temp_share, m) if temp_share is not None else None,
        peak_demand=peak,
        peak_cost=(None if peak is None else
                   _filled("peak_cost", peak_cost, n_periods, m, 0.0, weight=weight)),
        idle_cost=vector("idle_cost", idle_cost, m) if idle_cost is not None else None,
    )


def _dimensions(demand: ArrayLike, m: int) -> tuple[NDArray[np.float64], int, int, int]:
    """Checked demand and the dimensions T, n, m.

    Parameters
    ----------
    demand : array_like, shape (T, n)
        Demand per period and row.
    m : int
        Number of facilities.

    Returns
    -------
    demand : ndarray of float, shape (T, n)
    n_periods, n_demand, n_facilities : int

    Raises
    ------
    CoreInputError
        If ``demand`` is not 2-D with at least one period or values, or ``m`` is negative.

    """
    dem = np.asarray(demand)
    if dem.ndim != 2:
        raise CoreInputError(f"demand: expected a 2-D array (periods, rows), got shape {dem.shape}")
    n_periods, n = dem.shape
    if n_periods < 1:
        raise CoreInputError("demand: needs at least one period")
    m = int(m)
    if m < 0:
        raise CoreInputError(f"n_facilities = {m}: must be >= 0")
    dem_arr = per_period("demand", dem, n_periods, n, default=None)
    assert dem_arr is not None
    return dem_arr, n_periods, n, m


def _pair_costs(pair_cost: ArrayLike, n_periods: int, n_pairs: int,
                order: NDArray[np.int64]) -> NDArray[np.float64]:
    """Checked ``(T, K)`` pair costs in the sorted pair order.

    Parameters
    ----------
    pair_cost : array_like, shape (T, K), or (K,) with one period
        Cost of each pair as given.
    n_periods, n_pairs : int
        T and K.
    order : ndarray of int64, shape (K,)
        Sorting permutation of the pairs (from :func:`_pairs`).

    Returns
    -------
    ndarray of float, shape (T, K)

    """
    pc = np.asarray(pair_cost)
    if pc.ndim == 1 and n_periods == 1:
        pc = pc[None, :]
    if pc.shape != (n_periods, n_pairs):
        raise CoreInputError(f"pair_cost: expected shape ({n_periods}, {n_pairs}), got {pc.shape}")
    costs = per_period("pair_cost", pc, n_periods, n_pairs, default=None, nonneg=False)
    assert costs is not None
    return costs[:, order]


def _unserved(unserved_cost: ArrayLike | None, n_periods: int, n: int,
              weight: NDArray[np.float64], rows: NDArray[np.int64]
              ) -> NDArray[np.float64] | None:
    """Checked ``(T, n)`` unserved cost; without it every row needs a permitted facility.

    Parameters
    ----------
    unserved_cost : array_like or None
        As given.
    n_periods, n : int
        T and the number of rows.
    weight : ndarray of float, shape (T,)
        Period weights (applied to a per-row cost).
    rows : ndarray of int64, shape (K,)
        Row of each pair.

    Returns
    -------
    ndarray of float, shape (T, n), or None

    """
    unserved = per_period("unserved_cost", unserved_cost, n_periods, n, default=None,
                          weight=weight)
    covered = np.bincount(rows, minlength=n) > 0
    if not covered.all() and unserved is None:
        i = int(np.flatnonzero(~covered)[0])
        raise CoreInputError(f"rows: row {i} has no permitted facility "
                             "(give unserved_cost to permit that)")
    return unserved


@dataclass(frozen=True)
class _Room:
    """Checked capacity, permanent expansion and temporary seats (see :class:`MultiPeriodData`)."""

    capacity: NDArray[np.float64] | None
    block: NDArray[np.float64]
    max_blocks: NDArray[np.int64]
    cost: NDArray[np.float64]
    temp_max: NDArray[np.float64]
    temp_cost: NDArray[np.float64]


def _room(capacity: ArrayLike | None, expansion_block: ArrayLike | None,
          max_blocks: ArrayLike | None, expansion_cost: ArrayLike | None,
          temp_max: ArrayLike | None, temp_cost: ArrayLike | None, n_periods: int, m: int,
          weight: NDArray[np.float64]) -> _Room:
    """Check capacity, expansion and temporary seats (``max_blocks`` zero without a block size).

    Parameters
    ----------
    capacity, expansion_block, max_blocks, expansion_cost, temp_max, temp_cost
        As given to :func:`build`.
    n_periods, m : int
        T and the number of facilities.
    weight : ndarray of float, shape (T,)
        Period weights (applied to a per-facility ``temp_cost``).

    Returns
    -------
    _Room

    Raises
    ------
    CoreInputError
        On a bad value, or expansion or temporary seats without ``capacity``.

    """
    cap = vector("capacity", capacity, m)
    block = vector("expansion_block", expansion_block, m, default=0.0)
    blocks = vector("max_blocks", max_blocks, m, default=0, dtype=np.int64)
    exp_cost = vector("expansion_cost", expansion_cost, m, default=0.0)
    blocks = np.where(block > 0, blocks, 0)
    t_max = vector("temp_max", temp_max, m, default=0.0)
    t_cost = _filled("temp_cost", temp_cost, n_periods, m, 0.0, weight=weight)
    if cap is None and ((blocks > 0).any() or (t_max > 0).any()):
        raise CoreInputError("expansion_block / max_blocks / temp_max: expansion and temporary "
                             "seats need capacity to be given")
    return _Room(cap, block, blocks, exp_cost, t_max, t_cost)


def _fixings(fix_open: ArrayLike | None, force_open: ArrayLike | None, n_periods: int,
             m: int) -> NDArray[np.int64]:
    """Per-period fixing of each facility: -1 free, 0 closed, 1 open (``force_open`` is 1).

    Parameters
    ----------
    fix_open : array_like or None, shape (m,) or (T, m)
        As given (values -1, 0, 1).
    force_open : array_like of bool or None, shape (m,)
        As given.
    n_periods, m : int
        T and the number of facilities.

    Returns
    -------
    ndarray of int64, shape (T, m)

    Raises
    ------
    CoreInputError
        On a bad shape or value, or a facility both forced open and fixed closed.

    """
    fix = np.full((n_periods, m), -1, dtype=np.int64)
    if fix_open is not None:
        f = np.asarray(fix_open)
        if f.ndim == 1:
            f = np.broadcast_to(f, (n_periods, m)) if f.shape == (m,) else f
        if f.shape != (n_periods, m):
            raise CoreInputError(f"fix_open: expected shape ({n_periods}, {m}), got {f.shape}")
        bad = ~np.isin(f, [-1, 0, 1])
        if bad.any():
            t, j = _first(bad)
            raise CoreInputError(f"fix_open[{t}, {j}] = {f[t, j]!r}: must be -1, 0 or 1")
        fix = f.astype(np.int64).copy()
    f_open = vector("force_open", force_open, m, default=False, dtype=np.bool_)
    clash = (fix == 0) & f_open[None, :]
    if clash.any():
        t, j = _first(clash)
        raise CoreInputError(f"fix_open[{t}, {j}] = 0 but force_open[{j}] is set")
    fix[:, f_open] = 1
    return fix


def _block_fixings(fix_blocks: ArrayLike | None, room: _Room, n_periods: int,
                   m: int) -> NDArray[np.int64] | None:
    """Checked fixed cumulative blocks per period and facility (-1 free), or ``None``.

    Parameters
    ----------
    fix_blocks : array_like of int or None, shape (T, m)
        As given: -1 free, else the cumulative blocks of facility j by period t.
    room : _Room
        Checked capacity and expansion (``max_blocks``).
    n_periods, m : int
        T and the number of facilities.

    Returns
    -------
    ndarray of int64, shape (T, m), or None

    Raises
    ------
    CoreInputError
        On a bad shape or value, more blocks than ``max_blocks`` (or any block without
        ``capacity``), or fixed values that decrease over the periods (blocks are never removed).

    """
    if fix_blocks is None:
        return None
    f = np.asarray(fix_blocks)
    if f.shape != (n_periods, m):
        raise CoreInputError(f"fix_blocks: expected shape ({n_periods}, {m}), got {f.shape}")
    try:
        num = f.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise CoreInputError(f"fix_blocks: values must be whole numbers ({exc})") from exc
    bad = ~np.isfinite(num) | (num != np.round(num)) | (num < -1)
    if bad.any():
        t, j = _first(bad)
        raise CoreInputError(f"fix_blocks[{t}, {j}] = {f[t, j]!r}: must be -1 (free) or a "
                             "whole number of blocks >= 0")
    fix = num.astype(np.int64)
    most = room.max_blocks if room.capacity is not None else np.zeros(m, dtype=np.int64)
    over = fix > most[None, :]
    if over.any():
        t, j = _first(over)
        raise CoreInputError(f"fix_blocks[{t}, {j}] = {fix[t, j]}: more than max_blocks[{j}] = "
                             f"{most[j]}" + ("" if room.capacity is not None
                                             else " (no capacity given)"))
    seen = np.maximum.accumulate(np.where(fix >= 0, fix, -1), axis=0)
    down = (fix >= 0) & (fix < seen)
    if down.any():
        t, j = _first(down)
        raise CoreInputError(f"fix_blocks[{t}, {j}] = {fix[t, j]}: fewer blocks than fixed in "
                             "an earlier period (blocks are cumulative, never removed)")
    return fix


@dataclass(frozen=True)
class Layout:
    """Positions of the variable families of the multi-period MIP (each period-major).

    Attributes
    ----------
    x, y, b, s, u : slice
        Pair shares (T*K), decisions (T*G), cumulative blocks (T*nb), temporary seats (T*ns),
        unserved shares (T*n or empty).
    o, e, z : slice
        High demand a facility cannot take (T*no), used added capacity in the last period (ne)
        and whether capacity was added by then (ne, binary)
        (:mod:`layout.core.multiperiod_peak`; empty when not asked for).
    b_fac, s_fac, o_fac, e_fac : ndarray of int64
        Facility of each per-period ``b`` / ``s`` / ``o`` variable and of each ``e``.

    """

    x: slice
    y: slice
    b: slice
    s: slice
    u: slice
    b_fac: NDArray[np.int64]
    s_fac: NDArray[np.int64]
    o: slice
    e: slice
    o_fac: NDArray[np.int64]
    e_fac: NDArray[np.int64]
    z: slice

    @property
    def n_var(self) -> int:
        """Number of variables."""
        return self.z.stop


def layout_of(d: MultiPeriodData) -> Layout:
    """Variable positions of ``d``'s MIP."""
    T, K = d.n_periods, d.rows.size
    b_fac = (np.flatnonzero(d.max_blocks > 0) if d.capacity is not None
             else np.zeros(0, dtype=np.int64)).astype(np.int64)
    s_fac = np.flatnonzero(d.temp_max > 0).astype(np.int64)
    nu = d.n_demand if d.unserved_cost is not None else 0
    x = slice(0, T * K)
    y = slice(x.stop, x.stop + T * d.n_groups)
    b = slice(y.stop, y.stop + T * b_fac.size)
    s = slice(b.stop, b.stop + T * s_fac.size)
    u = slice(s.stop, s.stop + T * nu)
    o_fac = mpp.peak_facilities(d)
    e_fac = mpp.idle_facilities(d, b_fac)
    o = slice(u.stop, u.stop + T * o_fac.size)
    e = slice(o.stop, o.stop + e_fac.size)
    z = slice(e.stop, e.stop + e_fac.size)
    return Layout(x, y, b, s, u, b_fac, s_fac, o, e, o_fac, e_fac, z)


def formulate(d: MultiPeriodData) -> tuple[MipModel, Layout]:
    """The MIP of ``d`` (see the module docstring) and its variable layout."""
    lay = layout_of(d)
    nu = d.n_demand if d.unserved_cost is not None else 0
    obj, offset = _objective(d, lay)
    lb, ub, integer = _variable_bounds(d, lay)
    rows = Rows()
    for t in range(d.n_periods):
        _period_rows(d, lay, rows, t)
    matrix = sp.csr_array(
        (np.concatenate(rows.v) if rows.v else np.zeros(0),
         (np.concatenate(rows.r) if rows.r else np.zeros(0, dtype=np.int64),
          np.concatenate(rows.c) if rows.c else np.zeros(0, dtype=np.int64))),
        shape=(rows.n, lay.n_var),
    )
    matrix.sum_duplicates()
    empty = np.zeros(0, dtype=np.int64)
    model = MipModel(
        obj=obj, var_lb=lb, var_ub=ub, integer=integer, offset=offset, matrix=matrix,
        row_lb=np.concatenate(rows.lb) if rows.lb else np.zeros(0),
        row_ub=np.concatenate(rows.ub) if rows.ub else np.zeros(0),
        x=lay.x, y=lay.y, b=lay.b, u=lay.u, b_facilities=lay.b_fac,
        u_demands=np.arange(nu, dtype=np.int64) if nu else empty,
    )
    return model, lay


def _objective(d: MultiPeriodData, lay: Layout) -> tuple[NDArray[np.float64], float]:
    """Objective coefficients and constant offset (see the module docstring).

    Parameters
    ----------
    d : MultiPeriodData
        The data.
    lay : Layout
        Its variable layout.

    Returns
    -------
    obj : ndarray of float, shape (n_var,)
    offset : float
        Closing cost of every existing facility in the first period.

    """
    T, G = d.n_periods, d.n_groups
    obj = np.zeros(lay.n_var)
    obj[lay.x] = d.pair_cost.ravel()
    ex = d.existing.astype(float)
    # closed[t] * (y[t-1] - y[t]) with y[-1] = 1: y[t] gets -closed[t] + closed[t+1].
    close_coef = -d.closed_cost * ex
    close_coef[:-1] += d.closed_cost[1:] * ex
    y_coef = np.stack([np.bincount(d.group, weights=d.fixed_cost[t] + close_coef[t],
                                   minlength=G) for t in range(T)]) if G else np.zeros((T, 0))
    obj[lay.y] = y_coef.ravel()
    offset = float((d.closed_cost[0] * ex).sum())
    cap_cost = d.capital_discount[:, None] * d.expansion_cost[None, lay.b_fac]
    b_coef = cap_cost.copy()
    b_coef[:-1] -= cap_cost[1:]
    obj[lay.b] = b_coef.ravel()
    obj[lay.s] = d.temp_cost[:, lay.s_fac].ravel()
    if d.unserved_cost is not None and d.n_demand:
        obj[lay.u] = d.unserved_cost.ravel()
    mpp.add_objective(d, lay, obj)
    return obj, offset


def _variable_bounds(d: MultiPeriodData, lay: Layout
                     ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Variable bounds and integrality.

    Parameters
    ----------
    d : MultiPeriodData
        The data.
    lay : Layout
        Its variable layout.

    Returns
    -------
    lb, ub : ndarray of float, shape (n_var,)
    integer : ndarray of bool, shape (n_var,)

    """
    n_var, T = lay.n_var, d.n_periods
    lb = np.zeros(n_var)
    ub = np.ones(n_var)
    lb[lay.y] = d.y_lb.ravel()
    ub[lay.y] = d.y_ub.ravel()
    ub[lay.x] = d.y_ub[:, d.group[d.cols]].ravel()
    ub[lay.b] = np.tile(d.max_blocks[lay.b_fac], T).astype(float)
    if d.b_fix is not None and lay.b_fac.size:
        fixed = d.b_fix[:, lay.b_fac].ravel()
        pos = np.arange(lay.b.start, lay.b.stop)[fixed >= 0]
        lb[pos] = ub[pos] = fixed[fixed >= 0]
    ub[lay.s] = np.tile(d.temp_max[lay.s_fac], T)
    ub[lay.o] = np.inf
    ub[lay.e] = np.inf
    if d.capacity is not None:  # used added capacity below zero: old seats idle as well
        lb[lay.e] = -d.capacity[lay.e_fac]
    integer = np.zeros(n_var, dtype=bool)
    integer[lay.y] = True
    integer[lay.b] = True
    integer[lay.z] = True
    if d.single_source:
        integer[lay.x] = True
        integer[lay.u] = True
    return lb, ub, integer


@dataclass(frozen=True)
class _Period:
    """Variable positions of one period (see :class:`Layout`).

    Attributes
    ----------
    t : int
        The period.
    xs, bs, ss, us : ndarray of int64
        Its ``x`` (per pair), ``b``, ``s`` and ``u`` variables.
    ys : int
        Position of its first ``y`` variable.
    y_fac : ndarray of int64, shape (m,)
        Its ``y`` variable of each facility.
    dem_pair : ndarray of float, shape (K,)
        Demand of each pair's row in the period.

    """

    t: int
    xs: NDArray[np.int64]
    ys: int
    bs: NDArray[np.int64]
    ss: NDArray[np.int64]
    us: NDArray[np.int64]
    y_fac: NDArray[np.int64]
    dem_pair: NDArray[np.float64]


def _period_rows(d: MultiPeriodData, lay: Layout, rows: Rows, t: int) -> None:
    """Append every constraint row of period ``t`` to ``rows`` (module docstring order).

    Parameters
    ----------
    d : MultiPeriodData
        The data.
    lay : Layout
        Its variable layout.
    rows : Rows
        Rows so far; extended.
    t : int
        The period.

    """
    n, K, G = d.n_demand, d.rows.size, d.n_groups
    nb, ns = lay.b_fac.size, lay.s_fac.size
    nu = n if d.unserved_cost is not None else 0
    ys = lay.y.start + t * G
    per = _Period(
        t=t, xs=lay.x.start + t * K + np.arange(K), ys=ys,
        bs=lay.b.start + t * nb + np.arange(nb), ss=lay.s.start + t * ns + np.arange(ns),
        us=lay.u.start + t * nu + np.arange(nu), y_fac=ys + d.group, dem_pair=d.demand[t, d.rows],
    )
    # Assignment.
    rows.add(n, 1.0, 1.0, [(d.rows, per.xs, 1.0), (np.arange(nu), per.us, 1.0)])
    # Linking x <= y (not where the group is fixed open).
    g_pair = d.group[d.cols]
    keep = np.flatnonzero(d.y_lb[t, g_pair] < 0.5)
    loc = np.arange(keep.size)
    rows.add(keep.size, -np.inf, 0.0,
             [(loc, per.xs[keep], 1.0), (loc, per.ys + g_pair[keep], -1.0)])
    if d.capacity is not None:
        _capacity_rows(d, lay, rows, per, d.capacity)
    if ns:
        loc = np.arange(ns)
        rows.add(ns, -np.inf, 0.0,
                 [(loc, per.ss, 1.0), (loc, per.y_fac[lay.s_fac], -d.temp_max[lay.s_fac])])
        if d.temp_share is not None and d.capacity is not None:
            # temporary seats at most temp_share of the permanent seats of the period
            share = d.temp_share[lay.s_fac]
            terms: list[tuple[Any, Any, Any]] = [
                (loc, per.ss, 1.0), (loc, per.y_fac[lay.s_fac], -share * d.capacity[lay.s_fac])]
            b_pos = np.full(d.n_facilities, -1)
            b_pos[lay.b_fac] = np.arange(nb)
            has_b = b_pos[lay.s_fac] >= 0
            terms.append((loc[has_b], per.bs[b_pos[lay.s_fac][has_b]],
                          -share[has_b] * d.expansion_block[lay.s_fac][has_b]))
            rows.add(ns, -np.inf, 0.0, terms)
    if nb:
        _block_rows(d, lay, rows, per)
    _min_load_rows(d, rows, per)
    mpp.add_rows(d, lay, rows, t, per.xs, per.y_fac, per.bs)
    if t > 0:
        # Monotone schedules: existing groups y[t] <= y[t-1]; site groups y[t] >= y[t-1].
        for mask, sign in ((d.group_existing, 1.0), (d.group_site, -1.0)):
            gs = np.flatnonzero(mask)
            loc = np.arange(gs.size)
            rows.add(gs.size, -np.inf, 0.0,
                     [(loc, per.ys + gs, sign), (loc, per.ys - G + gs, -sign)])


def _capacity_rows(d: MultiPeriodData, lay: Layout, rows: Rows, per: _Period,
                   cap: NDArray[np.float64]) -> None:
    """Capacity rows of one period and its total-capacity cut.

    Parameters
    ----------
    d : MultiPeriodData
        The data.
    lay : Layout
        Its variable layout.
    rows : Rows
        Rows so far; extended.
    per : _Period
        The period's variables.
    cap : ndarray of float, shape (m,)
        ``d.capacity``.

    """
    m = d.n_facilities
    nb, ns, nu = lay.b_fac.size, lay.s_fac.size, per.us.size
    rows.add(m, -np.inf, 0.0, [(d.cols, per.xs, per.dem_pair), (np.arange(m), per.y_fac, -cap),
                               (lay.b_fac, per.bs, -d.expansion_block[lay.b_fac]),
                               (lay.s_fac, per.ss, -1.0)])
    zero = np.zeros(m + nb + ns + nu, dtype=np.int64)
    rows.add(1, float(d.demand[per.t].sum()), np.inf, [
        (zero[:m], per.y_fac, cap), (zero[:nb], per.bs, d.expansion_block[lay.b_fac]),
        (zero[:ns], per.ss, 1.0), (zero[:nu], per.us, d.demand[per.t, :nu]),
    ])


def _block_rows(d: MultiPeriodData, lay: Layout, rows: Rows, per: _Period) -> None:
    """Rows of the cumulative blocks of one period: built only while open, never removed.

    Parameters
    ----------
    d : MultiPeriodData
        The data.
    lay : Layout
        Its variable layout.
    rows : Rows
        Rows so far; extended.
    per : _Period
        The period's variables.

    """
    nb = lay.b_fac.size
    loc = np.arange(nb)
    terms: list[tuple[Any, Any, Any]] = [(loc, per.bs, 1.0)]
    if per.t > 0:
        terms.append((loc, per.bs - nb, -1.0))
    # Built only while open: b[t] - b[t-1] <= max_blocks y[t]; and never removed.
    rows.add(nb, -np.inf, 0.0,
             [*terms, (loc, per.y_fac[lay.b_fac], -d.max_blocks[lay.b_fac].astype(float))])
    if per.t > 0:
        rows.add(nb, 0.0, np.inf, terms)


def _min_load_rows(d: MultiPeriodData, rows: Rows, per: _Period) -> None:
    """Minimum-load rows of one period (facilities with a positive minimum load).

    Parameters
    ----------
    d : MultiPeriodData
        The data.
    rows : Rows
        Rows so far; extended.
    per : _Period
        The period's variables.

    """
    ml = np.flatnonzero(d.min_load > 0)
    if not ml.size:
        return
    local = np.full(d.n_facilities, -1)
    local[ml] = np.arange(ml.size)
    sel = local[d.cols] >= 0
    rows.add(ml.size, 0.0, np.inf, [(local[d.cols[sel]], per.xs[sel], per.dem_pair[sel]),
                                    (np.arange(ml.size), per.y_fac[ml], -d.min_load[ml])])


def is_feasible(model: MipModel, v: NDArray[np.float64], tol: float = _TOL) -> bool:
    """Whether ``v`` satisfies every bound, row and integrality of ``model``."""
    if (v < model.var_lb - tol).any() or (v > model.var_ub + tol).any():
        return False
    if (np.abs(v[model.integer] - np.round(v[model.integer])) > tol).any():
        return False
    act = model.matrix @ v
    scale = tol * np.maximum(1.0, np.abs(act))
    return bool((act >= model.row_lb - scale).all() and (act <= model.row_ub + scale).all())


def seats_room(d: MultiPeriodData, lay: Layout) -> tuple[NDArray[np.float64],
                                                          NDArray[np.float64]]:
    """Seats of each facility today (``inf`` uncapacitated) and its room, shape (m,) each.

    The room counts every block and the temporary seats on top of the seats.
    """
    cap = d.capacity if d.capacity is not None else np.full(d.n_facilities, np.inf)
    room = cap.copy()
    room[lay.b_fac] += d.max_blocks[lay.b_fac] * d.expansion_block[lay.b_fac]
    room[lay.s_fac] += d.temp_max[lay.s_fac]
    return cap, room


def choice_load(d: MultiPeriodData, choice: NDArray[np.int64], t: int,
                demand: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """Demand each facility serves in period ``t`` when row i goes to pair ``choice[t, i]``.

    ``demand`` (T, n) replaces ``d.demand`` (e.g. the high demand ``d.peak_demand``).
    """
    served = choice[t] >= 0
    dem = d.demand if demand is None else demand
    return np.asarray(np.bincount(d.cols[choice[t, served]], weights=dem[t, served],
                                  minlength=d.n_facilities), dtype=np.float64)


def warm_start(d: MultiPeriodData, model: MipModel, lay: Layout,
               g_open: NDArray[np.bool_]) -> NDArray[np.float64] | None:
    """A full solution vector with (at most) groups ``g_open[t, g]`` open, or ``None``.

    ``g_open`` is first clipped to the fixings and made monotone (an existing group's running
    minimum, a site's running maximum). Each period, rows (fewest options first, then largest
    demand) go to the cheapest permitted open facility with a seat left, else to the cheapest
    with room left counting every block and temporary seat, else are left unserved where
    ``unserved_cost`` allows. A
    group with a facility below its minimum load in some period is then closed from that period
    on (an existing group) or up to it (a site) and the rows assigned again, until no minimum
    load is violated. Room above capacity is covered by temporary seats first and blocks for
    the rest, blocks made cumulative. The vector is returned only if it satisfies the model.
    """
    T, n, m = d.n_periods, d.n_demand, d.n_facilities
    y = np.clip(g_open.astype(float), d.y_lb, d.y_ub)
    y[:, d.group_existing] = np.minimum.accumulate(y[:, d.group_existing], axis=0)
    y[:, d.group_site] = np.maximum.accumulate(y[:, d.group_site], axis=0)
    if (y < d.y_lb).any() or (y > d.y_ub).any():
        return None
    cap, room = seats_room(d, lay)
    ptr = np.searchsorted(d.rows, np.arange(n + 1))
    n_opt = np.diff(ptr)
    order = [np.lexsort((-d.demand[t], n_opt)) for t in range(T)]
    nu = n if d.unserved_cost is not None else 0
    for _ in range(T * d.n_groups + 1):
        choice = np.full((T, n), -1, dtype=np.int64)
        load = np.zeros((T, m))
        for t in range(T):
            open_f = y[t, d.group] > 0.5
            for i in order[t]:
                ks = np.arange(ptr[i], ptr[i + 1])
                js = d.cols[ks]
                ok = open_f[js] & (load[t, js] + d.demand[t, i] <= cap[js] + _TOL)
                if not ok.any():  # no seat left: blocks and temporary seats
                    ok = open_f[js] & (load[t, js] + d.demand[t, i] <= room[js] + _TOL)
                if ok.any():
                    k = int(ks[ok][np.argmin(d.pair_cost[t, ks[ok]])])
                    choice[t, i] = k
                    load[t, d.cols[k]] += d.demand[t, i]
                elif not nu:
                    return None
        under = (y[:, d.group] > 0.5) & (load < d.min_load[None, :] - _TOL)
        if not under.any():
            break
        for t, j in np.argwhere(under):
            g = d.group[j]
            span = slice(t, T) if d.group_existing[g] else slice(0, t + 1)
            if (d.y_lb[span, g] > 0.5).any():
                return None  # fixed open below its minimum load
            y[span, g] = 0.0
    else:
        return None
    return plan_vector(d, model, lay, y, choice)


def plan_vector(d: MultiPeriodData, model: MipModel, lay: Layout, y: NDArray[np.float64],
                choice: NDArray[np.int64]) -> NDArray[np.float64] | None:
    """The solution vector of decisions ``y`` (T, G) and one pair per row and period.

    ``choice[t, i]`` is the pair serving row i in period t (-1: unserved). Seats above capacity
    are covered, facility by facility, the cheaper of two ways: temporary seats first and
    blocks for the rest, or blocks first (rounded up) and temporary seats for what is left;
    blocks are made cumulative. The vector is returned only if it satisfies every row, bound
    and integrality of ``model``.
    """
    T, n, K = d.n_periods, d.n_demand, d.rows.size
    nu = n if d.unserved_cost is not None else 0
    if not nu and (choice < 0).any():
        return None
    load = np.vstack([choice_load(d, choice, t) for t in range(T)])
    v = np.zeros(model.obj.size)
    v[lay.y] = y.ravel()
    tt, ii = np.nonzero(choice >= 0)
    v[lay.x.start + tt * K + choice[tt, ii]] = 1.0
    if nu:
        tt, ii = np.nonzero(choice < 0)
        v[lay.u.start + tt * nu + ii] = 1.0
    peak_load = (None if d.peak_demand is None else np.vstack(
        [choice_load(d, choice, t, d.peak_demand) for t in range(T)]))
    open_f = y[:, d.group] > 0.5
    temp_first = _with_seats(d, lay, v, load, peak_load, open_f, blocks_first=False)
    if lay.b_fac.size:
        blocks_first = _with_seats(d, lay, v, load, peak_load, open_f, blocks_first=True)
        better = (_facility_costs(model, lay, blocks_first, d.n_facilities)
                  < _facility_costs(model, lay, temp_first, d.n_facilities) - _TOL)
        if better.any():
            for part, fac in ((lay.b, lay.b_fac), (lay.s, lay.s_fac)):
                if fac.size:
                    a = temp_first[part].reshape(T, -1)
                    a[:, better[fac]] = blocks_first[part].reshape(T, -1)[:, better[fac]]
                    temp_first[part] = a.ravel()
            mpp.fill(d, lay, temp_first, open_f, load, peak_load)
    return temp_first if is_feasible(model, temp_first) else None


def _with_seats(d: MultiPeriodData, lay: Layout, v: NDArray[np.float64],
                load: NDArray[np.float64], peak_load: NDArray[np.float64] | None,
                open_f: NDArray[np.bool_], *, blocks_first: bool) -> NDArray[np.float64]:
    """``v`` with blocks, temporary seats and the high-demand terms for the loads (a copy).

    Seats above capacity come from temporary seats first (within each facility's most) and
    blocks for the rest, or (``blocks_first``) from whole blocks first and temporary seats for
    what is left under the last block.
    """
    T, m = d.n_periods, d.n_facilities
    v = v.copy()
    cap, _ = seats_room(d, lay)
    tmp_room = np.zeros(m)
    if not blocks_first:
        tmp_room[lay.s_fac] = d.temp_max[lay.s_fac]
    excess = np.maximum(0.0, load - cap) if d.capacity is not None else np.zeros((T, m))
    if lay.b_fac.size:
        blk = d.expansion_block[lay.b_fac]
        need = np.ceil(np.maximum(0.0, excess[:, lay.b_fac] - tmp_room[lay.b_fac]) / blk - _TOL)
        if blocks_first:  # never more than the room allows
            need = np.minimum(need, d.max_blocks[lay.b_fac])
        if d.temp_share is not None:  # temporary seats within a share of the permanent ones
            sh = d.temp_share[lay.b_fac]
            c_b = cap[lay.b_fac]
            need = np.maximum(need, np.ceil(
                (load[:, lay.b_fac] - (1.0 + sh) * c_b) / ((1.0 + sh) * blk) - _TOL))
        if peak_load is not None:  # the high demand with temporary seats at most
            need = np.maximum(need, mpp.peak_blocks(d, cap, peak_load, lay.b_fac))
        cum = np.maximum.accumulate(np.maximum(need, 0.0), axis=0)
        if d.b_fix is not None:  # blocks fixed in a period are what they are fixed to
            fixed = d.b_fix[:, lay.b_fac]
            cum = np.where(fixed >= 0, fixed, np.maximum.accumulate(
                np.maximum(cum, np.where(fixed >= 0, fixed, 0)), axis=0))
        v[lay.b] = cum.ravel()
        excess[:, lay.b_fac] = np.maximum(0.0, excess[:, lay.b_fac] - cum * blk)
    if lay.s_fac.size:
        v[lay.s] = excess[:, lay.s_fac].ravel()
    mpp.fill(d, lay, v, open_f, load, peak_load)
    return v


def _facility_costs(model: MipModel, lay: Layout, v: NDArray[np.float64],
                    m: int) -> NDArray[np.float64]:
    """Cost of each facility's blocks, temporary seats and high-demand terms in ``v``, (m,)."""
    out = np.zeros(m)
    for part, fac in ((lay.b, lay.b_fac), (lay.s, lay.s_fac), (lay.o, lay.o_fac),
                      (lay.e, lay.e_fac), (lay.z, lay.e_fac)):
        if fac.size:
            c = (model.obj[part] * v[part]).reshape(-1, fac.size).sum(axis=0)
            np.add.at(out, fac, c)
    return out
