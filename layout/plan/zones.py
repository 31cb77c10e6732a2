"""Junior-school zones: designated central towns, or proposed by clustering where none exist.

Junior middle schools concentrate "in central towns or zones". A county's hosts are its
county-seat townships and its designated central towns (``townships.is_central_town``). A county
with no designated central town gets proposed zones: its villages are clustered with k-means
(weighted by junior pupils, fixed seed) into ``ceil(junior pupils / zone_size_students)``
clusters (at most 4, like designated central towns), and the township of the junior-hosting
school nearest to each cluster centre becomes a proposed zone centre. The plan says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from layout.plan.candidates import nearest


@dataclass(frozen=True)
class Zones:
    """Junior host townships of one county and how they were chosen."""

    townships: frozenset[str]
    proposed: bool
    note: str


def junior_zones(
    county_code: str, townships: pd.DataFrame, villages_xy: np.ndarray, junior_students: np.ndarray,
    village_townships: np.ndarray, schools_xy: np.ndarray, school_townships: np.ndarray,
    *, zone_size: int = 1500, seed: int = 0,
) -> Zones:
    """Return the junior host townships of one county.

    Parameters
    ----------
    county_code : str
        County being planned.
    townships : DataFrame
        Townships of the county (township_code, is_county_seat, is_central_town).
    villages_xy, junior_students, village_townships : ndarray
        Projected village points, junior pupils per village, township per village.
    schools_xy, school_townships : ndarray
        Projected points and townships of the county's junior-hosting schools and sites.
    zone_size : int
        Junior pupils per proposed zone.
    seed : int
        k-means seed.

    """
    seat = set(townships.loc[townships["is_county_seat"].astype(bool), "township_code"])
    central = set(townships.loc[townships["is_central_town"].astype(bool), "township_code"])
    if central:
        return Zones(frozenset(seat | central), False, "")
    total = float(junior_students.sum())
    k = int(min(4, max(1, np.ceil(total / zone_size)), len(villages_xy)))
    if k == 0 or total <= 0:
        return Zones(frozenset(seat), False, "")
    from sklearn.cluster import KMeans  # scikit-learn: imported when needed
    km = KMeans(n_clusters=k, n_init=10, random_state=seed)
    km.fit(villages_xy, sample_weight=np.maximum(junior_students, 1e-9))
    centres = km.cluster_centers_
    if len(schools_xy):
        idx, _ = nearest(centres, schools_xy)
        picked = set(school_townships[idx])
    else:
        idx, _ = nearest(centres, villages_xy)
        picked = set(village_townships[idx])
    names = ", ".join(sorted(picked - seat))
    note = (
        f"{county_code}: 未指定中心镇, 按村落聚类(k-means, k={k})建议初中片区中心: "
        f"{names or '县城'} (no designated central town: junior zones proposed by clustering)"
    )
    return Zones(frozenset(seat | picked), True, note)
