"""Reasons a planner asks for beyond the action itself.

* A kept kindergarten or primary school under 30 % of its seats names the rule that keeps it
  (the township keeps one public kindergarten; pupils with no other school within the journey
  cap; closing would cost more than keeping) and its surplus seats, to be put to other use.
* A new or expanded school within reach of another school's building that is closed or has
  many idle seats says so: a village kindergarten moves into an idle village school only where all its pupils still
  reach it within the cap (:mod:`layout.plan.village_sites`), so converting that building is to
  be assessed before building (闲置校舍改建).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from layout.plan.model import CountyModel

LOW_UTILIZATION = 0.3
"""Kept kindergartens and primary schools below this share of their seats say why."""

REUSE_RADIUS_M = 2000.0
"""A closed or half-empty building this close to a new school is named in its reason."""

_LOW_LEVELS = ("kindergarten", "primary")


def sole_pupils(cm: CountyModel, dem: pd.DataFrame) -> np.ndarray:
    """Pupils per facility whose row has no other school within its journey cap."""
    rule = cm.pairs[~cm.pairs["transition"]] if "transition" in cm.pairs else cm.pairs
    n_opts = np.bincount(rule["row"].to_numpy(), minlength=len(dem))
    served = dem[(dem["col"] >= 0)]
    only = n_opts[served.index.to_numpy()] == 1
    return np.bincount(served["col"].to_numpy()[only],
                       weights=served["students"].to_numpy()[only],
                       minlength=len(cm.facilities))


def low_utilization_reasons(fac: pd.DataFrame, sole: np.ndarray) -> pd.Series:
    """Reason text for kept kindergartens and primaries under :data:`LOW_UTILIZATION` ("" else)."""
    util = fac["utilization"].to_numpy(dtype=float)
    low = (fac["open"].to_numpy(dtype=bool) & ~fac["is_site"].to_numpy(dtype=bool)
           & fac["level"].isin(_LOW_LEVELS).to_numpy() & (np.nan_to_num(util, nan=1.0)
                                                          < LOW_UTILIZATION))
    idle = np.maximum(0.0, fac["capacity_after"].to_numpy() - fac["load"].to_numpy())
    forced = fac["force_open"].to_numpy(dtype=bool)
    why = np.select(
        [forced, sole > 0],
        ["乡镇保留一所公办幼儿园 (the township keeps one public kindergarten)",
         "{sole:.0f} 名学生在通学上限内无其他学校 ({sole:.0f} pupils have no other school "
         "within the journey cap)"],
        "保留比撤并成本低: 撤并后的交通与寄宿费用更高 (closing would cost more: the pupils' "
        "transport and boarding)")
    out = pd.Series("", index=fac.index, dtype=object)
    for i in np.flatnonzero(low):
        out.iat[i] = (why[i].format(sole=sole[i]) + f"; 学位使用率 {util[i]:.0%}, 富余 "
                      f"{idle[i]:.0f} 学位, 建议改作他用 (utilisation {util[i]:.0%}: "
                      f"{idle[i]:.0f} surplus seats to put to other use)")
    return out


def reuse_reasons(fac: pd.DataFrame) -> pd.Series:
    """Per school that builds seats (new or expanded): another school's idle building nearby.

    The nearest existing building of another school within :data:`REUSE_RADIUS_M` that is
    closed or has at least half its seats free ("" where none).
    """
    out = pd.Series("", index=fac.index, dtype=object)
    new = fac["open"].to_numpy(dtype=bool) & (fac["is_site"].to_numpy(dtype=bool)
                                              | (fac["seats_added"].to_numpy() > 0))
    if "converted_from" in fac:  # already in an idle building (its note says which)
        new &= fac["converted_from"].fillna("").astype(str).to_numpy() == ""
    existing = ~fac["is_site"].to_numpy(dtype=bool)
    spare = np.maximum(0.0, fac["capacity_after"].to_numpy() - fac["load"].to_numpy())
    idle_building = existing & (~fac["open"].to_numpy(dtype=bool)
                                | (spare >= 0.5 * fac["capacity"].to_numpy()))
    if not new.any() or not idle_building.any():
        return out
    xy = fac[["x", "y"]].to_numpy(dtype=float)
    ids = fac["fac_id"].astype(str).to_numpy()
    cand, grow = np.flatnonzero(idle_building), np.flatnonzero(new)
    # a school's own other levels share its point: look a few neighbours deep for another's
    k = min(4, cand.size)
    dist, idx = cKDTree(xy[cand]).query(xy[grow], k=k, distance_upper_bound=REUSE_RADIUS_M)
    dist, idx = dist.reshape(grow.size, k), idx.reshape(grow.size, k)
    other = (idx < cand.size) & (ids[cand[np.minimum(idx, cand.size - 1)]]
                                 != ids[grow][:, None])
    first = other.argmax(axis=1)
    for g in np.flatnonzero(other.any(axis=1)):
        i, k, d = grow[g], cand[idx[g, first[g]]], float(dist[g, first[g]])
        state = ("已撤并" if not fac["open"].iat[k] else
                 f"空余 {spare[k]:.0f} 学位")
        out.iat[i] = (f"附近 {d / 1000:.1f} km 有闲置校舍 {fac['fac_id'].iat[k]} "
                      f"({fac['level'].iat[k]}, {state}): 建议先评估改建 (an idle building "
                      f"{d / 1000:.1f} km away: assess converting it before building)")
    return out
