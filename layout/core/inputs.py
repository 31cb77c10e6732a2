"""Validation and normalisation of facility-location input into sparse candidate pairs.

Everything the core accepts (a dense cost matrix, a sparse one, an ``allowed`` mask or explicit
pairs) is reduced to one :class:`CoreData`: the permitted (demand, facility) pairs with their
costs, plus one checked array per facility or demand attribute. Invalid input raises
:class:`~layout.core.errors.CoreInputError` naming the argument and index.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, overload

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from layout.core.errors import CoreInputError


@dataclass(frozen=True)
class Extensions:
    """Optional arguments of :class:`layout.core.FacilityLocation` beyond plain facility location.

    Every one defaults to ``None``, meaning the feature is not used; the meaning of each is in
    the docstring of :class:`layout.core.FacilityLocation`.

    Attributes
    ----------
    closed_cost : array_like, shape (m,), optional
        Default: no cost for a closed facility.
    force_open, force_closed : bool array_like, shape (m,), optional
        Default: nothing forced.
    link_group : int array_like, shape (m,), optional
        Default: no facility linked to another.
    min_load : array_like, shape (m,), optional
        Default: no minimum load.
    min_load_exempt : bool array_like, shape (m,), optional
        Default: no facility exempt.
    expansion_block, expansion_cost, max_blocks : array_like, shape (m,), optional
        Default: no expansion (blocks of 0 seats, costing 0, at most 0 of them).
    unserved_cost : array_like, shape (n,), optional
        Default: all demand must be served.

    """

    closed_cost: ArrayLike | None = None
    force_open: ArrayLike | None = None
    force_closed: ArrayLike | None = None
    link_group: ArrayLike | None = None
    min_load: ArrayLike | None = None
    min_load_exempt: ArrayLike | None = None
    expansion_block: ArrayLike | None = None
    expansion_cost: ArrayLike | None = None
    max_blocks: ArrayLike | None = None
    unserved_cost: ArrayLike | None = None


#: Extension keyword arguments accepted by :class:`layout.core.FacilityLocation`.
EXTENSIONS = tuple(f.name for f in fields(Extensions))


@dataclass(frozen=True)
class CoreData:
    """Checked, normalised problem data (pairs sorted by demand, then facility).

    Attributes
    ----------
    n_demand, n_facilities : int
        Problem dimensions.
    rows, cols : ndarray of int64
        Demand and facility index of each permitted pair.
    costs : ndarray of float
        Cost of serving all of demand ``rows[k]`` from facility ``cols[k]``.
    demand : ndarray of float
        Demand weight per demand point (used by capacities and loads).
    fixed_cost, closed_cost : ndarray of float
        Per facility; cost if open, cost if closed (zeros when not given).
    capacity : ndarray of float or None
        Per facility capacity; ``None`` means uncapacitated.
    p : int or None
        Exact number of open facilities, if required.
    single_source : bool
        Whether each demand point goes wholly to one facility.
    group : ndarray of int64
        Index of the open/close decision of each facility (link groups share one).
    n_groups : int
        Number of open/close decisions.
    group_open, group_closed : ndarray of bool
        Per group: forced open / forced closed.
    min_load : ndarray of float
        Per facility minimum load if open (0 where exempt or not given).
    expansion_block, expansion_cost : ndarray of float
        Per facility seats per block and cost per block.
    max_blocks : ndarray of int64
        Per facility maximum number of blocks (0 = cannot expand).
    unserved_cost : ndarray of float or None
        Per demand cost of leaving it unserved; ``None`` means all demand must be served.

    """

    n_demand: int
    n_facilities: int
    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    costs: NDArray[np.float64]
    demand: NDArray[np.float64]
    fixed_cost: NDArray[np.float64]
    closed_cost: NDArray[np.float64]
    capacity: NDArray[np.float64] | None
    p: int | None
    single_source: bool
    group: NDArray[np.int64]
    n_groups: int
    group_open: NDArray[np.bool_]
    group_closed: NDArray[np.bool_]
    min_load: NDArray[np.float64]
    expansion_block: NDArray[np.float64]
    expansion_cost: NDArray[np.float64]
    max_blocks: NDArray[np.int64]
    unserved_cost: NDArray[np.float64] | None


def _first_bad(mask: NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


@overload
def vector(name: str, value: ArrayLike, size: int, *, default: float | None = None,
           nonneg: bool = True, dtype: type = np.float64) -> NDArray[Any]: ...
@overload
def vector(name: str, value: ArrayLike | None, size: int, *, default: float,
           nonneg: bool = True, dtype: type = np.float64) -> NDArray[Any]: ...
@overload
def vector(name: str, value: ArrayLike | None, size: int, *, default: None = None,
           nonneg: bool = True, dtype: type = np.float64) -> NDArray[Any] | None: ...
def vector(
    name: str, value: ArrayLike | None, size: int, *, default: float | None = None,
    nonneg: bool = True, dtype: type = np.float64,
) -> NDArray[Any] | None:
    """Return ``value`` as a checked 1-D array of ``size`` (scalars broadcast).

    Parameters
    ----------
    name : str
        Argument name for error messages.
    value : array_like or None
        The input; ``None`` gives ``default`` broadcast (or ``None`` if no default).
    size : int
        Required length.
    default : float, optional
        Fill value used when ``value`` is ``None``.
    nonneg : bool
        Whether negative entries are rejected.
    dtype : type
        ``np.float64``, ``np.int64`` or ``np.bool_``.

    Returns
    -------
    ndarray or None

    """
    if value is None:
        return None if default is None else np.full(size, default, dtype=dtype)
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(size, arr.item())
    if arr.ndim != 1 or arr.shape[0] != size:
        raise CoreInputError(f"{name}: expected shape ({size},), got {arr.shape}")
    if dtype is np.bool_:
        if arr.dtype != np.bool_:
            bad = ~np.isin(arr, [0, 1])
            if bad.any():
                i = _first_bad(bad)
                raise CoreInputError(f"{name}[{i}] = {arr[i]!r}: must be boolean")
        return arr.astype(np.bool_)
    try:
        num = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise CoreInputError(f"{name}: values must be numeric ({exc})") from exc
    bad = ~np.isfinite(num)
    if bad.any():
        i = _first_bad(bad)
        raise CoreInputError(f"{name}[{i}] = {num[i]}: must be finite")
    if nonneg and (num < 0).any():
        i = _first_bad(num < 0)
        raise CoreInputError(f"{name}[{i}] = {num[i]}: must be >= 0")
    if dtype is np.int64:
        if (num != np.round(num)).any():
            i = _first_bad(num != np.round(num))
            raise CoreInputError(f"{name}[{i}] = {num[i]}: must be an integer")
        return num.astype(np.int64)
    return num


def pairs_from_matrix(
    cost: ArrayLike | sp.spmatrix | sp.sparray, allowed: ArrayLike | sp.spmatrix | sp.sparray | None,
) -> tuple[int, int, NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Extract permitted pairs from a cost matrix and optional ``allowed`` mask.

    A sparse ``cost`` without ``allowed`` permits exactly its stored entries; with ``allowed``,
    every allowed pair must be a stored entry of the sparse ``cost``. A dense ``cost`` with
    ``allowed`` is only read at allowed pairs (others may be ``inf``/``NaN``).

    Returns
    -------
    n, m, rows, cols, costs

    """
    if sp.issparse(cost):
        c = sp.csr_array(cost, dtype=np.float64)
        c.sum_duplicates()
        n, m = c.shape
        if allowed is None:
            coo = c.tocoo()
            return n, m, coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
        rows, cols = _allowed_pairs(allowed, (n, m))
        pattern = sp.csr_array((np.ones_like(c.data), c.indices, c.indptr), shape=c.shape)
        present = np.asarray(pattern[rows, cols]).ravel() > 0
        if not present.all():
            k = _first_bad(~present)
            raise CoreInputError(
                f"cost[{rows[k]}, {cols[k]}]: pair is allowed but has no stored cost in the sparse matrix"
            )
        return n, m, rows, cols, np.asarray(c[rows, cols], dtype=np.float64).ravel()
    arr = np.asarray(cost, dtype=np.float64)
    if arr.ndim != 2:
        raise CoreInputError(f"cost: expected a 2-D matrix, got shape {arr.shape}")
    n, m = arr.shape
    if allowed is None:
        rows, cols = (a.ravel().astype(np.int64) for a in np.indices((n, m)))
    else:
        rows, cols = _allowed_pairs(allowed, (n, m))
    return n, m, rows, cols, arr[rows, cols]


def _allowed_pairs(allowed: Any, shape: tuple[int, int]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    a_shape = tuple(np.shape(allowed)) if not sp.issparse(allowed) else tuple(allowed.shape)
    if a_shape != shape:
        raise CoreInputError(f"allowed: expected shape {shape}, got {a_shape}")
    if sp.issparse(allowed):
        a = sp.coo_array(allowed)
        a.sum_duplicates()
        keep = a.data != 0
        r, c = a.row[keep], a.col[keep]
    else:
        arr = np.asarray(allowed)
        if arr.dtype != np.bool_:
            raise CoreInputError(f"allowed: expected a boolean mask, got dtype {arr.dtype}")
        r, c = np.nonzero(arr)
    return r.astype(np.int64), c.astype(np.int64)


def _groups(link_group: NDArray[np.int64] | None, m: int) -> tuple[NDArray[np.int64], int]:
    if link_group is None:
        return np.arange(m, dtype=np.int64), m
    if (link_group < -1).any():
        i = _first_bad(link_group < -1)
        raise CoreInputError(f"link_group[{i}] = {link_group[i]}: must be >= -1")
    # Facilities without a group get a private key beyond every real group id.
    key = np.where(link_group >= 0, link_group, link_group.max(initial=0) + 1 + np.arange(m))
    _, inverse = np.unique(key, return_inverse=True)
    return inverse.astype(np.int64), int(inverse.max(initial=-1)) + 1


def _sorted_pairs(
    n: int, m: int, rows: ArrayLike, cols: ArrayLike, costs: ArrayLike,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Checked pairs sorted by demand, then facility (indices in range, finite costs, no repeat)."""
    r = np.asarray(rows, dtype=np.int64).ravel()
    c = np.asarray(cols, dtype=np.int64).ravel()
    v = np.asarray(costs, dtype=np.float64).ravel()
    if not r.shape == c.shape == v.shape:
        raise CoreInputError(
            f"rows, cols, costs: lengths differ ({r.size}, {c.size}, {v.size})"
        )
    for name, idx, size in (("rows", r, n), ("cols", c, m)):
        bad = (idx < 0) | (idx >= size)
        if bad.any():
            k = _first_bad(bad)
            raise CoreInputError(f"{name}[{k}] = {idx[k]}: index outside 0..{size - 1}")
    bad = ~np.isfinite(v)
    if bad.any():
        k = _first_bad(bad)
        raise CoreInputError(f"cost[{r[k]}, {c[k]}] = {v[k]}: must be finite")
    order = np.lexsort((c, r))
    r, c, v = r[order], c[order], v[order]
    dup = (np.diff(r) == 0) & (np.diff(c) == 0)
    if dup.any():
        k = _first_bad(dup)
        raise CoreInputError(f"pair ({r[k]}, {c[k]}) given more than once")
    return r, c, v


def build(
    n: int, m: int, rows: ArrayLike, cols: ArrayLike, costs: ArrayLike, demand: ArrayLike, *,
    fixed_cost: ArrayLike | None, capacity: ArrayLike | None, p: int | None,
    single_source: bool, extensions: Extensions | None = None,
) -> CoreData:
    """Check every argument and return the normalised :class:`CoreData`.

    ``extensions`` defaults to none used (``Extensions()``).

    Raises
    ------
    CoreInputError
        On any shape mismatch, non-finite or negative value, duplicate pair, ``p`` outside
        ``0..n_facilities``, conflicting forcing, expansion without capacity, or a demand point
        with no permitted facility and no ``unserved_cost``.

    """
    ext = Extensions() if extensions is None else extensions
    r, c, v = _sorted_pairs(n, m, rows, cols, costs)
    dem = vector("demand", demand, n)
    unserved = vector("unserved_cost", ext.unserved_cost, n)
    covered = np.bincount(r, minlength=n) > 0
    if not covered.all() and unserved is None:
        i = _first_bad(~covered)
        raise CoreInputError(
            f"allowed: demand {i} has no allowed facility (give unserved_cost to permit that)"
        )
    if p is not None:
        if int(p) != p or not 0 <= p <= m:
            raise CoreInputError(f"p = {p}: must be an integer in 0..n_facilities ({m})")
        p = int(p)
    cap = vector("capacity", capacity, m)
    link = vector("link_group", ext.link_group, m, nonneg=False, dtype=np.int64)
    group, n_groups = _groups(link, m)
    f_open = vector("force_open", ext.force_open, m, default=False, dtype=np.bool_)
    f_closed = vector("force_closed", ext.force_closed, m, default=False, dtype=np.bool_)
    g_open = np.bincount(group, weights=f_open, minlength=n_groups) > 0
    g_closed = np.bincount(group, weights=f_closed, minlength=n_groups) > 0
    if (g_open & g_closed).any():
        j = _first_bad(g_open[group] & g_closed[group])
        raise CoreInputError(
            f"force_open / force_closed: facility {j} (or its link group) is forced both open and closed"
        )
    min_load = vector("min_load", ext.min_load, m, default=0.0)
    exempt = vector("min_load_exempt", ext.min_load_exempt, m, default=False, dtype=np.bool_)
    min_load = np.where(exempt, 0.0, min_load)
    block = vector("expansion_block", ext.expansion_block, m, default=0.0)
    blocks = vector("max_blocks", ext.max_blocks, m, default=0, dtype=np.int64)
    exp_cost = vector("expansion_cost", ext.expansion_cost, m, default=0.0, nonneg=False)
    if ((blocks > 0) & (block > 0)).any() and cap is None:
        raise CoreInputError("expansion_block / max_blocks: expansion needs capacity to be given")
    blocks = np.where(block > 0, blocks, 0)
    return CoreData(
        n_demand=n, n_facilities=m, rows=r, cols=c, costs=v, demand=dem,
        fixed_cost=vector("fixed_cost", fixed_cost, m, default=0.0, nonneg=False),
        closed_cost=vector("closed_cost", ext.closed_cost, m, default=0.0, nonneg=False),
        capacity=cap, p=p, single_source=bool(single_source), group=group, n_groups=n_groups,
        group_open=g_open, group_closed=g_closed, min_load=min_load, expansion_block=block,
        expansion_cost=exp_cost, max_blocks=blocks, unserved_cost=unserved,
    )
