"""Why demand is unserved: every unserved demand row gets a reason in plain words.

Two causes are told apart:

* **no school within the cap** — no facility of the level (of the permitted kind) lies within the
  band's longest allowed journey: the reason gives the nearest school of the level and its
  journey (``nearest allowed school 52 min away (cap 30 min)``); where that straight-line
  journey is within the cap, the pair was removed by the user's road network (no route, or a
  route over the cap) and the reason says the demand is unreachable on the road network;
* **capacity short** — schools are within reach but full even after their allowed expansion:
  the reason gives the seats missing among the unserved rows competing for the same schools
  (``capacity short by 310 seats``); where no seat is missing, the reason says the schools
  within reach stay closed (below their minimum size) or were left unused by the solver;
* **too few children for a village school** — kindergarten / grades 1-3 rows beyond every
  school's cap whose reachable uncovered demand is below ``village_sites.*.min_children``: the
  reason recommends a school bus or transport subsidy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from layout.plan.candidates import nearest
from schoolsystem.vocabulary import LEVEL_LABELS_ZH


def diagnose_unserved(
    dem: pd.DataFrame, pairs: pd.DataFrame, facilities: pd.DataFrame, circ: float,
    status: str, spare_seats: pd.Series, is_open: np.ndarray | None = None,
) -> pd.Series:
    """Reason per unserved demand row (index of ``dem`` rows whose ``col`` is -1).

    Parameters
    ----------
    dem : DataFrame
        Demand rows with ``col`` (-1 = unserved), grade_band, level, students, x, y, speed,
        max_cap and optionally ``reach_cap`` (the band's stretch for existing schools).
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
    is_open : ndarray of bool, optional
        Facilities open in the plan; tells "schools closed" from "seats left free" where no
        seat is missing (the reason never says "short by 0 seats").

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
    if len(no_pair):
        reasons[no_pair] = _no_school_within_reach(dem.loc[no_pair], facilities, circ)
    short = un[has_pair[un]]
    if len(short):
        reasons[short] = _capacity_short(dem, short, pairs, facilities, spare_seats, is_open)
    return reasons


def _count(value: float) -> str:
    """Pupils for a reason: whole when whole, else one decimal (9.7 never prints as 10)."""
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.1f}"


def _stretch_zh(cap: float, reach: float) -> str:
    return f" (现有学校放宽至 {reach:.0f} 分钟)" if reach > cap + 1e-9 else ""


def _stretch_en(cap: float, reach: float) -> str:
    return f"; existing schools up to {reach:.0f} min" if reach > cap + 1e-9 else ""


def _no_school_within_reach(rows_all: pd.DataFrame, facilities: pd.DataFrame,
                            circ: float) -> pd.Series:
    """Reasons of rows without any permitted school (the model looks within the county)."""
    out = pd.Series("", index=rows_all.index, dtype=object)
    # Candidate sites are only ever allowed as hosts; existing schools always are.
    allowed = ~facilities["is_site"].astype(bool)
    if "host" in facilities:
        allowed = allowed | facilities["host"].astype(bool)
    for level, rows in rows_all.groupby("level"):
        f = facilities[(facilities["level"] == level) & allowed]
        zh = LEVEL_LABELS_ZH.get(str(level), str(level))
        if f.empty:
            out[rows.index] = f"县内无{zh} (no {level} school in the county)"
            continue
        idx, dist = nearest(rows[["x", "y"]].to_numpy(), f[["x", "y"]].to_numpy())
        mins = dist * circ / rows["speed"].to_numpy()
        names = f["fac_id"].to_numpy()[idx]
        # Straight-line journey within the cap yet no permitted pair: only a road network
        # (route missing or much longer than the straight line) removes such a pair.
        reach = rows.get("reach_children", pd.Series(np.nan, index=rows.index)).to_numpy()
        need = rows.get("site_min_children", pd.Series(np.nan, index=rows.index)).to_numpy()
        caps = rows["max_cap"].to_numpy(dtype=float)
        far = rows.get("reach_cap", rows["max_cap"]).to_numpy(dtype=float)
        out[rows.index] = [
            f"县内{x:.0f}分钟内无{zh}, 可及范围内仅 {_count(k)} 名儿童, 少于新建村级学校下限 "
            f"{q:.0f}: 建议校车或交通补贴 (no {level} school of the county within {x:.0f} min; "
            f"fewer than {q:.0f} children within reach ({_count(k)}): no new village school "
            f"proposed; recommend school bus / transport subsidy; nearest allowed school of the "
            f"county {m:.0f} min away)"
            if np.isfinite(k) and m > x + 1e-9 else
            f"道路网络上 {x:.0f} 分钟内无法到达县内任何{zh} (最近学校 {n} 直线 {m:.0f} 分钟) "
            f"(unreachable: no route on the road network within the cap of {x:.0f} min to a "
            f"{level} school of the county; nearest {n} is {m:.0f} min in a straight line)"
            if m <= x + 1e-9 else
            f"县内最近可用学校 {n} 距离 {m:.0f} 分钟, 超过上限 {c:.0f} 分钟{_stretch_zh(c, x)} "
            f"(nearest allowed school of the county {m:.0f} min away, cap {c:.0f} min"
            f"{_stretch_en(c, x)})"
            for n, m, c, x, k, q in zip(names, mins, caps, far, reach, need, strict=True)
        ]
    return out


def _capacity_short(dem: pd.DataFrame, short: pd.Index, pairs: pd.DataFrame,
                    facilities: pd.DataFrame, spare_seats: pd.Series,
                    is_open: np.ndarray | None) -> list[str]:
    """Reasons of rows that had schools within reach but were left unassigned."""
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
    any_open = (inc @ (np.ones(len(facilities)) if is_open is None
                       else np.asarray(is_open, dtype=float))) > 0
    return [
        f"范围内 {k} 所学校扩建后仍缺 {s:.0f} 个学位 "
        f"(capacity short by {s:.0f} seats at the {k} schools within the cap)"
        if s >= 0.5 else
        f"范围内 {k} 所学校未开办: 可及生源达不到最小规模 (the {k} schools within the cap "
        "stay closed: the demand that can reach them is below their minimum size)"
        if not o else
        f"范围内 {k} 所学校有空位, 但方案未分配 (求解器在允许差距内停止) (the {k} schools "
        "within the cap have free seats but the plan left this demand unassigned: solver "
        "stopped within its optimality gap)"
        for k, s, o in zip(n_sch, seats, any_open, strict=True)
    ]
