"""Why demand is unserved: every unserved demand row gets a reason in plain words.

Two causes are told apart:

* **no school within the cap** — no facility of the level (of the permitted kind) lies within the
  band's longest allowed journey: the reason gives the nearest school of the level and its
  journey (``nearest allowed school 52 min away (cap 30 min)``); where that straight-line
  journey is within the cap, the pair was removed by the user's road network (no route, or a
  route over the cap) and the reason says the demand is unreachable on the road network;
* **capacity short** — schools are within reach but full even after their allowed expansion:
  the reason gives the seats missing among the unserved rows competing for the same schools
  (``capacity short by 310 seats``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from layout.plan.candidates import nearest

_LEVEL_ZH = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "senior": "高中",
             "vocational": "中职"}


def diagnose_unserved(
    dem: pd.DataFrame, pairs: pd.DataFrame, facilities: pd.DataFrame, circ: float,
    status: str, spare_seats: pd.Series,
) -> pd.Series:
    """Reason per unserved demand row (index of ``dem`` rows whose ``col`` is -1).

    Parameters
    ----------
    dem : DataFrame
        Demand rows with ``col`` (-1 = unserved), grade_band, level, students, x, y, speed,
        max_cap.
    pairs : DataFrame
        Permitted pairs (row, col).
    facilities : DataFrame
        Facilities with level, x, y, fac_id, name.
    circ : float
        Circuity factor of the county.
    status : str
        Solver status; ``no_solution`` explains every row by the time limit.
    spare_seats : Series
        Seats still free per facility after the plan, counting allowed expansion.

    """
    un = dem.index[dem["col"] < 0]
    reasons = pd.Series("", index=un, dtype=object)
    if len(un) == 0:
        return reasons
    if status in ("no_solution", "infeasible"):
        reasons[:] = f"求解器未在时限内找到方案 (solver status {status}: no plan within the time limit)"
        return reasons
    has_pair = np.bincount(pairs["row"].to_numpy(), minlength=len(dem)) > 0
    no_pair = un[~has_pair[un]]
    # Candidate sites are only ever allowed as hosts; existing schools always are.
    allowed = ~facilities["is_site"].astype(bool)
    if "host" in facilities:
        allowed = allowed | facilities["host"].astype(bool)
    for level, rows in dem.loc[no_pair].groupby("level"):
        f = facilities[(facilities["level"] == level) & allowed]
        zh = _LEVEL_ZH.get(str(level), str(level))
        if f.empty:
            reasons[rows.index] = f"县内无{zh} (no {level} school in the county)"
            continue
        idx, dist = nearest(rows[["x", "y"]].to_numpy(), f[["x", "y"]].to_numpy())
        mins = dist * circ / rows["speed"].to_numpy()
        names = f["fac_id"].to_numpy()[idx]
        # Straight-line journey within the cap yet no permitted pair: only a road network
        # (route missing or much longer than the straight line) removes such a pair.
        reasons[rows.index] = [
            f"道路网络上 {c:.0f} 分钟内无法到达任何{zh} (最近学校 {n} 直线 {m:.0f} 分钟) "
            f"(unreachable: no route on the road network within the cap of {c:.0f} min; "
            f"nearest school {n} is {m:.0f} min in a straight line)"
            if m <= c + 1e-9 else
            f"最近可用学校 {n} 距离 {m:.0f} 分钟, 超过上限 {c:.0f} 分钟 "
            f"(nearest allowed school {m:.0f} min away, cap {c:.0f} min)"
            for n, m, c in zip(names, mins, rows["max_cap"].to_numpy(), strict=True)
        ]
    short = un[has_pair[un]]
    if len(short):
        # Rows competing for the same schools share the shortfall.
        sub = pairs[pairs["row"].isin(short)]
        pos = pd.Index(short).get_indexer(sub["row"])
        inc = sp.csr_array((np.ones(len(sub)), (pos, sub["col"].to_numpy())),
                           shape=(len(short), len(facilities)))
        overlap = ((inc @ inc.T) > 0).astype(float)
        wanted = overlap @ dem.loc[short, "students"].to_numpy()
        spare = np.maximum(0.0, spare_seats.to_numpy(dtype=float))
        reach = ((overlap @ inc) > 0).astype(float)
        seats = np.maximum(0.0, wanted - reach @ spare)
        n_sch = np.diff(inc.indptr)
        reasons[short] = [
            f"范围内 {k} 所学校扩建后仍缺 {s:.0f} 个学位 "
            f"(capacity short by {s:.0f} seats at the {k} schools within the cap)"
            for k, s in zip(n_sch, seats, strict=True)
        ]
    return reasons
