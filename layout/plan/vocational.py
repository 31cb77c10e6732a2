"""City-wide integration of secondary vocational schools under 1,200 students (Measure 6).

A school's size is the smaller of its base-year enrollment and its forecast (base enrollment x
city vocational demand in the target year / city vocational enrollment today). Repeatedly, the
smallest school under the threshold that has a compatible partner (an open school sharing at
least one programme group) merges into the compatible school with the shortest journey (ties:
lowest id); the receiver takes over the merged school's pupils and programme groups and expands
in class blocks. A school still under the threshold when no compatible school is left keeps,
with the reason stated. Vocational pupils are then assigned to the remaining schools by bus
within each school's planned seats (fewest pupil-minutes; boarding beyond the day cap), so a
school's ``demand_target`` is exactly what ``assignments`` send it (a transport LP solved by
HiGHS).

Measure 6 is a city's measure: :func:`integrate_vocational` integrates the schools it is given.
The planner calls it once per prefecture of the region (:mod:`layout.plan.vocational_step`),
so in a province no school merges into another city's and no pupil is sent to another city.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from layout.core import FacilityLocation
from layout.plan.candidates import nearest
from layout.plan.params import LayoutParams
from layout.plan.travel import circuity, speed_mpm

VOC_NEAREST = 12
"""Nearest open vocational schools each demand row may be sent to (all of them if that leaves
pupils without a seat): a province has hundreds of schools and tens of thousands of rows."""


def _groups(text: str) -> frozenset[str]:
    return frozenset(g.strip() for g in str(text).split(";") if g.strip())


def integrate_vocational(
    facilities: pd.DataFrame, demand: pd.DataFrame, terrain: dict[str, str], params: LayoutParams,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """Merge decisions for all vocational schools of the region.

    Parameters
    ----------
    facilities : DataFrame
        Vocational rows of :attr:`Frames.facilities` (sites are ignored: no new vocational schools).
    demand : DataFrame
        Vocational demand rows (students, x, y, urban, county_code, lon, lat).
    terrain : dict
        county_code -> terrain.
    params : LayoutParams
        Threshold, sizes, costs.

    Returns
    -------
    schools, demand_rows, assignments, notes
        ``schools`` in the decision-row layout; ``demand_rows`` with the KPI columns.

    """
    p = params
    lv = p.levels.vocational
    f = facilities[~facilities["is_site"]].sort_values("fac_id").reset_index(drop=True).copy()
    n = len(f)
    current = f["enrollment_base"].to_numpy(dtype=float)
    total_now, total_target = current.sum(), float(demand["students"].sum())
    ratio = total_target / total_now if total_now > 0 else 1.0
    forecast = current * ratio
    size = np.minimum(current, forecast)
    groups = [_groups(g) for g in f["programme_groups"]]
    xy = f[["x", "y"]].to_numpy()
    circ = circuity(f["county_code"].map(terrain).to_numpy(), p.travel)
    bus = float(speed_mpm(["bus"], p.travel)[0])
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))  # schools only (a few dozen)
    minutes = dist * circ[:, None] / bus
    thr = lv.min_size
    keep_county = _counties_to_keep(f, demand, thr) if p.vocational_keep_one_per_county else set()
    is_open, into, fore_after, cur_after = _merge_small(f, size, forecast, current, groups,
                                                        minutes, thr, keep_county)
    out = f.copy()
    out["open"] = is_open
    out["host"] = True
    out["merge_into"] = np.where(into >= 0, f["fac_id"].to_numpy()[into.clip(min=0)], "")
    need = np.maximum(fore_after, cur_after)
    blocks = np.where(is_open, np.ceil(np.maximum(0.0, need - f["capacity"]) / lv.class_size), 0)
    out["seats_added"] = blocks * lv.class_size
    out["capacity_after"] = np.where(is_open, f["capacity"] + out["seats_added"], 0.0)
    out["fixed_cost"] = lv.fixed_cost
    out["closed_cost"] = lv.closure_cost * p.costs.annuity
    out["block_cost"] = lv.class_size * p.costs.capital_per_seat * p.costs.annuity
    d = _journeys(demand, xy, is_open, terrain, p)
    flows = _assign(d, xy, out["capacity_after"].to_numpy(dtype=float), is_open, terrain, p)
    n_cols = flows["col"].to_numpy()
    # the KPI rows follow each demand row's main school (largest share)
    main = flows.sort_values(["row", "students"], ascending=[True, False]).drop_duplicates("row")
    at = d.index[main["row"].to_numpy()]
    bus = float(speed_mpm(["bus"], p.travel)[0])
    d.loc[at, "col"] = main["col"].to_numpy()
    d.loc[at, "minutes"] = main["minutes"].to_numpy()
    d.loc[at, "km"] = main["minutes"].to_numpy() * bus / 1000.0
    d.loc[at, "boarding"] = main["boarding"].to_numpy()
    out["load"] = np.bincount(n_cols, weights=flows["students"], minlength=n) if n else []
    out["demand_target"] = out["load"]
    out["boarders"] = np.bincount(n_cols, weights=flows["students"] * flows["boarding"],
                                  minlength=n) if n else []
    out["beds_added"] = np.where(is_open, np.maximum(0.0, np.ceil(out["boarders"]) - f["beds"]), 0.0)
    out["utilization"] = out["load"] / out["capacity_after"].where(out["capacity_after"] > 0)
    county = f["county_code"].astype(str).to_numpy()
    last = np.array([(is_open & (county == c)).sum() == 1 for c in county], dtype=bool)
    county_kept = is_open & last & np.isin(county, list(keep_county))
    notes = _decide(out, f, is_open, size, current, forecast, groups, thr, county_kept)
    assignments = pd.DataFrame({
        "demand_id": flows["demand_id"], "level": "vocational", "grade_band": "vocational",
        "school_id": f["fac_id"].to_numpy()[n_cols], "students": flows["students"],
        "travel_min": flows["minutes"], "boarding": flows["boarding"],
        "standard_min": flows["standard_min"], "lon": flows["lon"], "lat": flows["lat"],
    })
    return out, d, assignments, notes


def size_of(current: np.ndarray, forecast: np.ndarray, i: int) -> float:
    """Size used for the threshold: the smaller of current enrollment and forecast."""
    return float(min(current[i], forecast[i]))

def _merge_small(
    f: pd.DataFrame, size: np.ndarray, forecast: np.ndarray, current: np.ndarray,
    groups: list[frozenset[str]], minutes: np.ndarray, thr: float,
    keep_county: set[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge the smallest school under ``thr`` into its nearest compatible school, repeatedly.

    The last open school of a county in ``keep_county`` is never merged away. ``size`` and
    ``groups`` are updated in place. Returns open flags, the school each merged school went
    into (-1: open), and the forecast and current enrollment after the merges.
    """
    county = f["county_code"].astype(str).to_numpy()
    keep_county = keep_county or set()
    n = len(f)
    is_open = np.ones(n, dtype=bool)
    into = np.full(n, -1)
    fore_after, cur_after = forecast.copy(), current.copy()
    while True:
        order = np.lexsort((f["fac_id"].to_numpy(), size))
        moved = False
        for s in order:
            if not is_open[s] or size[s] >= thr:
                continue
            if county[s] in keep_county and (is_open & (county == county[s])).sum() == 1:
                continue  # the county's last vocational school stays (its pupils could fill it)
            partners = [t for t in range(n) if t != s and is_open[t] and groups[s] & groups[t]]
            if not partners:
                continue
            t = min(partners, key=lambda j: (minutes[s, j], f["fac_id"].iat[j]))
            size[t] += size[s]
            fore_after[t] += fore_after[s]
            cur_after[t] += cur_after[s]
            groups[t] = groups[t] | groups[s]
            is_open[s], into[s] = False, t
            into[into == s] = t
            moved = True
            break
        if not moved:
            return is_open, into, fore_after, cur_after


def _journeys(demand: pd.DataFrame, xy: np.ndarray, is_open: np.ndarray, terrain: dict[str, str],
              p: LayoutParams) -> pd.DataFrame:
    """Demand rows with the nearest remaining school by bus (``col``), today's and after."""
    rules = p.bands.vocational
    bus = float(speed_mpm(["bus"], p.travel)[0])
    d = demand.copy()
    d_circ = circuity(d["county_code"].map(terrain).to_numpy(), p.travel)
    open_idx = np.flatnonzero(is_open)
    idx, dd = nearest(d[["x", "y"]].to_numpy(), xy[open_idx])
    _, dd0 = nearest(d[["x", "y"]].to_numpy(), xy)
    day_cap = np.where(d["urban"], rules.day_cap_urban_min, rules.day_cap_rural_min)
    d["col"] = np.where(idx >= 0, open_idx[idx.clip(min=0)], -1) if open_idx.size else -1
    d["minutes"] = dd * d_circ / bus
    d["km"] = dd * d_circ / 1000.0
    d["boarding"] = d["minutes"] > day_cap
    d["day_cap"] = day_cap
    d["minutes0"], d["km0"] = dd0 * d_circ / bus, dd0 * d_circ / 1000.0
    d["boarding0"] = d["minutes0"] > day_cap
    return d

def _decide(out: pd.DataFrame, f: pd.DataFrame, is_open: np.ndarray, size: np.ndarray,
            current: np.ndarray, forecast: np.ndarray, groups: list[frozenset[str]],
            thr: float, county_kept: np.ndarray) -> list[str]:
    """Fill ``action`` and ``reason`` of ``out`` in place; notes for schools kept under ``thr``.

    ``county_kept``: schools kept as their county's last one (``vocational_keep_one_per_county``).
    """
    action = np.where(~is_open, "merge", np.where(out["seats_added"] > 0, "expand", "keep"))
    reason = np.full(len(f), "", dtype=object)
    notes = []
    for i in range(len(f)):
        if not is_open[i]:
            reason[i] = (f"中职整合: {size_of(current, forecast, i):.0f} 人 < {thr}, 并入专业相近且最近的 "
                         f"{out['merge_into'].iat[i]} (under {thr}: merged into the nearest compatible school)")
        elif size[i] < thr and county_kept[i]:
            reason[i] = (f"保留: 本县唯一中职学校, 县内中职学生足以达到 {thr} 人 (kept under "
                         f"{thr}: the county's last vocational school, its own pupils could fill "
                         "it; merging it would send boarders to another county)")
            notes.append(f"中职 {f['fac_id'].iat[i]}: {reason[i]}")
        elif size[i] < thr:
            gs = ";".join(sorted(groups[i])) or "无"
            reason[i] = (f"保留: 合并后仍不足 {thr} 人, 无专业相近的其他学校 (专业群 {gs}) "
                         f"(kept under {thr}: no open school with a compatible programme group)")
            notes.append(f"中职 {f['fac_id'].iat[i]}: {reason[i]}")
        elif action[i] == "expand":
            reason[i] = f"接收并入学校, 扩建 {out['seats_added'].iat[i]:.0f} 学位 (receives merged schools)"
    out["action"] = action
    out["reason"] = reason
    return notes


def _assign(d: pd.DataFrame, xy: np.ndarray, capacity: np.ndarray, is_open: np.ndarray,
            terrain: dict[str, str], p: LayoutParams) -> pd.DataFrame:
    """Vocational pupils to the open schools by bus, within each school's planned seats.

    A transport problem on the core (:class:`layout.core.FacilityLocation`, every open school
    forced open, no fixed cost, capacities = planned seats, demand may split): the fewest
    pupil-minutes such that no school is over its seats. Returns one row per (demand row,
    school) with ``row`` (of ``d``), ``demand_id, col, students, minutes, boarding, standard_min, lon, lat``.
    """
    open_idx = np.flatnonzero(is_open)
    rules, bus = p.bands.vocational, float(speed_mpm(["bus"], p.travel)[0])
    pts = d[["x", "y"]].to_numpy()
    circ = circuity(d["county_code"].map(terrain).to_numpy(), p.travel)
    students = d["students"].to_numpy(dtype=float)
    tree = cKDTree(xy[open_idx])
    model = None
    # the nearest schools of each row first (a province has hundreds), all of them if that
    # leaves pupils without a seat
    for k in sorted({min(VOC_NEAREST, open_idx.size), open_idx.size}):
        dist, near = tree.query(pts, k=k)
        dist, near = dist.reshape(len(d), k), near.reshape(len(d), k)
        rows_k = np.repeat(np.arange(len(d)), k)
        minutes_k = (dist * circ[:, None] / bus).ravel()
        model = FacilityLocation.from_pairs(
            rows_k, near.ravel(), minutes_k * students[rows_k], students, open_idx.size,
            capacity=capacity[open_idx], fixed_cost=np.zeros(open_idx.size),
            force_open=np.ones(open_idx.size, dtype=bool), unserved_cost=students * 1e6,
        )
        model.solve(time_limit=30.0, threads=1, seed=0, solver="highspy")
        if not (model.unserved > 1e-9).any():
            break
    assert model is not None
    fl = model.flows
    rows, cols = fl["demand"].to_numpy(), fl["facility"].to_numpy()
    day_cap = np.where(d["urban"].to_numpy(dtype=bool), rules.day_cap_urban_min,
                       rules.day_cap_rural_min)
    mins = np.sqrt(((pts[rows] - xy[open_idx][cols]) ** 2).sum(-1)) * circ[rows] / bus
    return pd.DataFrame({
        "row": rows, "demand_id": d["demand_id"].to_numpy()[rows], "col": open_idx[cols],
        "students": students[rows] * fl["fraction"].to_numpy(), "minutes": mins,
        "boarding": mins > day_cap[rows], "standard_min": day_cap[rows],
        "lon": d["lon"].to_numpy()[rows],
        "lat": d["lat"].to_numpy()[rows],
    }).query("students > 1e-9").reset_index(drop=True)


def _counties_to_keep(f: pd.DataFrame, demand: pd.DataFrame, thr: float) -> set[str]:
    """Counties whose own vocational pupils could fill one school to the minimum size.

    Such a county keeps one vocational school (its last one is never merged into another
    county's); a county whose pupils could not fill one school even all together may lose it.
    """
    pupils = demand.groupby(demand["county_code"].astype(str))["students"].sum()
    has_school = set(f["county_code"].astype(str))
    return {c for c, n in pupils.items() if n >= thr and c in has_school}
