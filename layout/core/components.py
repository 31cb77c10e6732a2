"""Independent parts of a facility-location instance (connected components of its pair graph).

Demand points and facilities are the nodes; every permitted pair, and every two facilities of
one link group, are edges. Parts that share no edge never interact (no constraint or cost
couples them), so each may be solved on its own: smaller models solve much faster.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import connected_components


def pair_components(
    rows: ArrayLike,
    cols: ArrayLike,
    n_demand: int,
    n_facilities: int,
    link_group: ArrayLike | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Component label of every demand point and facility.

    Parameters
    ----------
    rows, cols : array_like of int
        Demand and facility index of each permitted pair.
    n_demand, n_facilities : int
        Numbers of demand points and facilities.
    link_group : array_like of int, shape (n_facilities,), optional
        Facilities sharing a group id >= 0 are in the same component.

    Returns
    -------
    demand_label, facility_label : ndarray of int64
        Labels numbered 0, 1, ... in order of first appearance (demand points first, then
        facilities), so they do not depend on the graph library's numbering.

    Examples
    --------
    >>> d, f = pair_components([0, 1, 2], [0, 0, 2], 3, 3)
    >>> d.tolist(), f.tolist()
    ([0, 0, 1], [0, 2, 1])

    """
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    n, m = int(n_demand), int(n_facilities)
    a, b = [r], [n + c]
    if link_group is not None:
        link = np.asarray(link_group, dtype=np.int64)
        lf = np.flatnonzero(link >= 0)
        lf = lf[np.argsort(link[lf], kind="stable")]
        same = np.flatnonzero(np.diff(link[lf]) == 0)
        a.append(n + lf[same])
        b.append(n + lf[same + 1])
    i, j = np.concatenate(a), np.concatenate(b)
    graph = sp.coo_array((np.ones(i.size), (i, j)), shape=(n + m, n + m))
    _, label = connected_components(graph, directed=False)
    _, first, inverse = np.unique(label, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    label = rank[inverse]
    return label[:n], label[n:]
