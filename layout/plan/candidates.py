"""Candidate (demand, school) pairs from spatial radius queries, never a dense all-pairs matrix.

Each demand point gets its own search radius: the longest journey its grade band allows,
turned into a straight-line distance with the point's speed and circuity. A scikit-learn
:class:`~sklearn.neighbors.BallTree` over the schools answers all radius queries at once.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def radius_pairs(
    demand_xy: NDArray[np.float64], facility_xy: NDArray[np.float64], radius_m: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """All pairs with straight-line distance within each demand point's radius.

    Parameters
    ----------
    demand_xy, facility_xy : ndarray, shape (n, 2) / (m, 2)
        Projected coordinates (metres).
    radius_m : ndarray, shape (n,)
        Search radius per demand point.

    Returns
    -------
    rows, cols, dist_m : ndarray
        Demand index, facility index and distance of each pair, sorted by demand then facility.

    Examples
    --------
    >>> d = np.array([[0.0, 0.0], [10.0, 0.0]]); f = np.array([[1.0, 0.0], [50.0, 0.0]])
    >>> radius_pairs(d, f, np.array([5.0, 100.0]))[1].tolist()
    [0, 0, 1]

    """
    n = demand_xy.shape[0]
    if n == 0 or facility_xy.shape[0] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0)
    from sklearn.neighbors import BallTree  # scikit-learn: imported when needed
    tree = BallTree(facility_xy)
    ind, dist = tree.query_radius(demand_xy, r=radius_m, return_distance=True, sort_results=True)
    counts = np.fromiter((a.size for a in ind), dtype=np.int64, count=n)
    rows = np.repeat(np.arange(n, dtype=np.int64), counts)
    cols = np.concatenate(ind).astype(np.int64) if counts.sum() else np.zeros(0, dtype=np.int64)
    dists = np.concatenate(dist).astype(float) if counts.sum() else np.zeros(0)
    order = np.lexsort((cols, rows))
    return rows[order], cols[order], dists[order]


def nearest(
    demand_xy: NDArray[np.float64], facility_xy: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Nearest facility index and straight-line distance per demand point (``-1``/inf if none)."""
    n = demand_xy.shape[0]
    if facility_xy.shape[0] == 0:
        return np.full(n, -1, dtype=np.int64), np.full(n, np.inf)
    from sklearn.neighbors import BallTree
    dist, ind = BallTree(facility_xy).query(demand_xy, k=1)
    return ind[:, 0].astype(np.int64), dist[:, 0]
