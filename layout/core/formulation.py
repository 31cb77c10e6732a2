"""Mixed-integer formulation of facility location as sparse arrays.

Variables (in this order):

- ``x[k]`` in [0, 1] for each permitted pair k = (i, j): share of demand i served by facility j
  (binary when ``single_source``);
- ``y[g]`` binary per open/close decision (one per link group, else one per facility);
- ``b[j]`` integer in 0..max_blocks[j] for facilities that may expand: blocks added;
- ``u[i]`` in [0, 1] per demand point when ``unserved_cost`` is given: share left unserved
  (binary when ``single_source``).

Constraints (the strong formulation, whose LP bound is tight on facility location):

- assignment: ``sum_j x[i, j] + u[i] = 1`` for every demand point i;
- linking: ``x[i, j] <= y[g(j)]`` for every pair (skipped where the group is forced open);
- capacity: ``sum_i d[i] x[i, j] <= cap[j] y[g(j)] + block[j] b[j]``;
- expansion only if open: ``b[j] <= max_blocks[j] y[g(j)]``;
- minimum load: ``sum_i d[i] x[i, j] >= min_load[j] y[g(j)]``;
- p-median: ``sum_j y[g(j)] = p`` (p counts facilities, so a linked pair counts twice);
- total capacity (a valid cut): ``sum_j cap[j] y[g(j)] + block[j] b[j] + sum_i d[i] u[i] >= sum_i d[i]``.

Objective: ``sum c x + sum_j (fixed[j] - closed[j]) y[g(j)] + sum expansion_cost b
+ sum unserved_cost u + sum closed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from layout.core.inputs import CoreData


@dataclass(frozen=True)
class MipModel:
    """A MIP as arrays: ``min obj @ v + offset`` s.t. ``row_lb <= A v <= row_ub``, bounds, integrality.

    Attributes
    ----------
    obj, var_lb, var_ub : ndarray of float
        Objective coefficient and bounds per variable.
    integer : ndarray of bool
        Integrality per variable.
    offset : float
        Constant objective term.
    matrix : scipy.sparse.csr_array
        Constraint matrix.
    row_lb, row_ub : ndarray of float
        Constraint bounds.
    x, y, b, u : slice
        Positions of each variable family.
    b_facilities, u_demands : ndarray of int64
        Facility index of each ``b`` variable and demand index of each ``u`` variable.

    """

    obj: NDArray[np.float64]
    var_lb: NDArray[np.float64]
    var_ub: NDArray[np.float64]
    integer: NDArray[np.bool_]
    offset: float
    matrix: sp.csr_array
    row_lb: NDArray[np.float64]
    row_ub: NDArray[np.float64]
    x: slice
    y: slice
    b: slice
    u: slice
    b_facilities: NDArray[np.int64]
    u_demands: NDArray[np.int64]


class Rows:
    """Accumulates constraint rows as COO triplets (shared by every formulation of the core)."""

    def __init__(self) -> None:
        self.r: list[NDArray[np.int64]] = []
        self.c: list[NDArray[np.int64]] = []
        self.v: list[NDArray[np.float64]] = []
        self.lb: list[NDArray[np.float64]] = []
        self.ub: list[NDArray[np.float64]] = []
        self.n = 0

    def add(self, n_rows: int, lb: float | NDArray[np.float64], ub: float | NDArray[np.float64],
            terms: list[tuple[ArrayLike, ArrayLike, ArrayLike]]) -> None:
        """Add ``n_rows`` rows; ``terms`` are (local row, variable, coefficient) array-likes.

        Rows and variables are converted to int64, coefficients to float64 (a scalar
        coefficient applies to every entry of its term).
        """
        for r, c, v in terms:
            self.r.append(np.asarray(r, dtype=np.int64) + self.n)
            self.c.append(np.asarray(c, dtype=np.int64))
            self.v.append(np.broadcast_to(np.asarray(v, dtype=np.float64), np.shape(r)))
        self.lb.append(np.broadcast_to(np.asarray(lb, dtype=np.float64), (n_rows,)))
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=np.float64), (n_rows,)))
        self.n += n_rows


def _variables(d: CoreData, x: slice, y: slice, b: slice, u: slice, b_fac: NDArray[np.int64]
               ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
                          NDArray[np.bool_]]:
    """Objective coefficients, lower and upper bounds and integrality of every variable."""
    n_var = u.stop
    obj = np.zeros(n_var)
    obj[x] = d.costs
    obj[y] = np.bincount(d.group, weights=d.fixed_cost - d.closed_cost, minlength=d.n_groups)
    obj[b] = d.expansion_cost[b_fac]
    if u.stop > u.start:
        obj[u] = d.unserved_cost
    lb = np.zeros(n_var)
    ub = np.ones(n_var)
    lb[y] = d.group_open.astype(float)
    ub[y] = (~d.group_closed).astype(float)
    ub[x] = np.where(d.group_closed[d.group[d.cols]], 0.0, 1.0)
    ub[b] = d.max_blocks[b_fac]
    integer = np.zeros(n_var, dtype=bool)
    integer[y] = True
    integer[b] = True
    if d.single_source:
        integer[x] = True
        integer[u] = True
    return obj, lb, ub, integer


def formulate(d: CoreData, link: NDArray[np.bool_] | None = None) -> MipModel:
    """Build the MIP of :class:`~layout.core.inputs.CoreData` (see module docstring).

    ``link`` (bool per pair) keeps only those linking rows ``x <= y`` (default: all); the rest
    may be added later as cuts (see :mod:`layout.core.capacitated`).
    """
    n, m, k = d.n_demand, d.n_facilities, d.rows.size
    g_of_pair = d.group[d.cols]
    cap_given = d.capacity is not None
    b_fac = np.flatnonzero(d.max_blocks > 0) if cap_given else np.zeros(0, dtype=np.int64)
    u_dem = np.arange(n) if d.unserved_cost is not None else np.zeros(0, dtype=np.int64)
    nx, ng, nb, nu = k, d.n_groups, b_fac.size, u_dem.size
    x = slice(0, nx)
    y = slice(nx, nx + ng)
    b = slice(y.stop, y.stop + nb)
    u = slice(b.stop, b.stop + nu)
    n_var = u.stop

    obj, lb, ub, integer = _variables(d, x, y, b, u, b_fac)

    rows = Rows()
    pair = np.arange(k)
    # Assignment.
    rows.add(n, 1.0, 1.0, [(d.rows, pair, 1.0), (u_dem, u.start + np.arange(nu), 1.0)])
    # Linking x <= y (not needed where the group is forced open).
    keep_link = ~d.group_open[g_of_pair]
    if link is not None:
        keep_link &= link
    link_idx = np.flatnonzero(keep_link)
    loc = np.arange(link_idx.size)
    rows.add(link_idx.size, -np.inf, 0.0,
             [(loc, link_idx, 1.0), (loc, y.start + g_of_pair[link_idx], -1.0)])
    fac = np.arange(m)
    dem_pair = d.demand[d.rows]
    y_of_fac = y.start + d.group
    if cap_given:
        cap = np.asarray(d.capacity)
        b_var = b.start + np.arange(nb)
        rows.add(m, -np.inf, 0.0, [(d.cols, pair, dem_pair), (fac, y_of_fac, -cap),
                                   (b_fac, b_var, -d.expansion_block[b_fac])])
        loc = np.arange(nb)
        rows.add(nb, -np.inf, 0.0, [(loc, b_var, 1.0), (loc, y_of_fac[b_fac], -d.max_blocks[b_fac])])
        zero = np.zeros(m + nb + nu, dtype=np.int64)
        rows.add(1, d.demand.sum(), np.inf, [
            (zero[:m], y_of_fac, cap), (zero[:nb], b_var, d.expansion_block[b_fac]),
            (zero[:nu], u.start + np.arange(nu), d.demand[u_dem]),
        ])
    ml = np.flatnonzero(d.min_load > 0)
    if ml.size:
        local = np.full(m, -1)
        local[ml] = np.arange(ml.size)
        sel = local[d.cols] >= 0
        rows.add(ml.size, 0.0, np.inf, [(local[d.cols[sel]], pair[sel], dem_pair[sel]),
                                        (np.arange(ml.size), y_of_fac[ml], -d.min_load[ml])])
    if d.p is not None:
        rows.add(1, float(d.p), float(d.p), [(np.zeros(m, dtype=np.int64), y_of_fac, 1.0)])

    matrix = sp.csr_array(
        (np.concatenate(rows.v), (np.concatenate(rows.r), np.concatenate(rows.c))),
        shape=(rows.n, n_var),
    )
    matrix.sum_duplicates()
    return MipModel(
        obj=obj, var_lb=lb, var_ub=ub, integer=integer, offset=float(d.closed_cost.sum()),
        matrix=matrix, row_lb=np.concatenate(rows.lb), row_ub=np.concatenate(rows.ub),
        x=x, y=y, b=b, u=u, b_facilities=b_fac.astype(np.int64), u_demands=u_dem.astype(np.int64),
    )
