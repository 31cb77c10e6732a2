"""Generated candidate sites in villages no school reaches: village kindergartens, teaching points.

Where a kindergarten or grades 1-3 demand row has no existing school or candidate site of its
level within its band's cap (no pair at all), the uncovered villages' own points become
candidate sites (see :class:`layout.plan.params.VillageSiteParams`):

* ``kindergarten`` -> a small village kindergarten (level ``kindergarten``, "nearby and
  convenient", 幼儿园就近就便);
* ``primary_lower`` -> a lower-grade teaching point (level ``primary``) serving grades 1-3 only
  (State Council 2018: lower-grade small schools in villages of remote areas); grades 4-6 are
  never paired with it.

Sites are chosen greedily (largest uncovered demand within the cap first, ties to the first
village id) until no village point reaches ``min_children`` uncovered children; each chosen
site covers its nearest uncovered rows up to its size. Every uncovered row is then paired with
the chosen sites within its cap (nearest ``max_candidates``), and the optimiser assigns. Rows
still without a pair get ``reach_children``: the most uncovered children any village point
within their cap reaches (below ``min_children``), for the unserved reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

from layout.plan.candidates import radius_pairs
from layout.plan.params import LayoutParams, VillageSiteKind
from layout.plan.travel import RoadNetwork
from schoolsystem.vocabulary import BAND_LEVEL

SITE_BANDS: dict[str, tuple[str, str, str]] = {
    band: (BAND_LEVEL[band], stype, prefix)
    for band, stype, prefix in (("kindergarten", "kindergarten", "VKG-"),
                                ("primary_lower", "teaching_point", "VTP-"))
}
"""Band -> (level, school_type, id prefix) of its generated sites."""

_NOTE = {
    "kindergarten": ("新建村级幼儿园: 县内{cap:.0f}分钟内无幼儿园{far_zh} "
                     "(new village kindergarten: no kindergarten of the county within "
                     "{cap:.0f} min{far_en})"),
    "primary_lower": ("新建教学点(1-3年级): 县内{cap:.0f}分钟内无小学{far_zh} "
                      "(new lower-grade teaching point, grades 1-3: no school of the county "
                      "within {cap:.0f} min{far_en})"),
}
_NOTE_FULL = ("新建村级幼儿园: 县内{cap:.0f}分钟内的幼儿园扩建后仍容不下 "
              "(new village kindergarten: the kindergartens of the county within {cap:.0f} min "
              "cannot hold these children even when fully expanded)")
_NAME = {"kindergarten": "村级幼儿园", "primary_lower": "教学点(1-3年级)"}


def _far(cap: float, reach: float) -> dict[str, str]:
    """The stretch part of a site's note: no existing school even beyond the standard."""
    if not np.isfinite(reach) or reach <= cap + 1e-9:
        return {"far_zh": "", "far_en": ""}
    return {"far_zh": f", {reach:.0f}分钟内无现有学校",
            "far_en": f", and no existing one within {reach:.0f} min"}


def _greedy(a: sp.csc_array, minutes: sp.csc_array, students: np.ndarray, cap: np.ndarray,
            min_children: float) -> tuple[list[int], np.ndarray]:
    """Greedy choice of sites; returns chosen columns and the residual uncovered students."""
    remaining = students.astype(float).copy()
    chosen: list[int] = []
    alive = np.ones(a.shape[1], dtype=bool)
    while alive.any():
        score = np.where(alive, np.minimum(a.T @ remaining, cap), -1.0)
        j = int(np.argmax(score))
        if score[j] < min_children - 1e-9:
            break
        alive[j] = False
        lo, hi = a.indptr[j], a.indptr[j + 1]
        rows = a.indices[lo:hi]
        rows = rows[np.argsort(minutes.data[lo:hi], kind="stable")]
        rows = rows[remaining[rows] > 0]
        fits = np.cumsum(remaining[rows]) <= cap[j] + 1e-9
        if not fits.any():
            continue
        remaining[rows[fits]] = 0.0
        chosen.append(j)
    return chosen, remaining


def _grow_for_the_rest(cap: np.ndarray, r: np.ndarray, c: np.ndarray, remaining: np.ndarray,
                       block: float) -> np.ndarray:
    """Site sizes grown for rows the greedy left uncovered but a chosen site reaches.

    A row whose children did not fit in the site chosen for its neighbours (its only site
    within the cap) would stay unserved though the site could simply be larger: its nearest
    chosen site (``r, c`` sorted by row, then journey) grows by those children, in whole
    blocks. Returns the new sizes (per village point).
    """
    first = np.flatnonzero(np.r_[True, r[1:] != r[:-1]]) if r.size else np.zeros(0, dtype=int)
    rest = remaining[r[first]]
    grow = np.bincount(c[first], weights=rest, minlength=cap.size)
    return np.where(grow > 0, np.ceil((cap + grow) / block - 1e-9) * block, cap)


def add_village_sites(
    fac: pd.DataFrame, dem: pd.DataFrame, pairs: pd.DataFrame, params: LayoutParams, circ: float,
    roads: RoadNetwork | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Append generated village sites and their pairs to a county's facilities and pairs.

    Parameters
    ----------
    fac : DataFrame
        County facilities (index 0..m-1) with the columns of :attr:`Frames.facilities` and
        ``host``.
    dem : DataFrame
        County demand rows with speed, day_cap, max_cap, x, y, lon, lat, demand_id,
        township_code, county_code, grade_band, students.
    pairs : DataFrame
        row, col, minutes, km, boarding, host of the existing facilities.
    params : LayoutParams
        ``village_sites`` options and ``max_candidates``.
    circ : float
        Circuity factor (1 with a road network).
    roads : RoadNetwork, optional
        User road network.

    Returns
    -------
    fac, dem, pairs : DataFrame
        ``fac`` with the new sites appended (``village_site`` True, ``vs_fixed_cost``,
        ``vs_block``, ``vs_capital``, ``site_note``); ``dem`` with ``reach_children`` and
        ``site_min_children`` (NaN except uncovered rows of the enabled bands that got no site); ``pairs`` with the new pairs.

    """
    fac = fac.copy()
    dem = dem.copy()
    fac["village_site"] = False
    fac["site_note"] = ""
    fac["converted_from"] = ""
    dem["reach_children"] = np.nan
    dem["site_min_children"] = np.nan
    has_pair = np.bincount(pairs["row"].to_numpy(dtype=np.int64), minlength=len(dem)) > 0
    new_fac: list[pd.DataFrame] = []
    new_pairs: list[pd.DataFrame] = []
    n_fac = len(fac)
    for band in SITE_BANDS:
        kind = params.village_sites.get(band)
        in_band = (dem["grade_band"] == band).to_numpy()
        full = _beyond_room(fac, dem, pairs, params, band) if band == "kindergarten" else None
        rows = np.flatnonzero(in_band & (~has_pair | (full if full is not None else False)))
        if not kind.enabled or rows.size == 0:
            continue
        got = _band_sites(band, kind, dem, rows, n_fac, params.max_candidates, circ, roads,
                          had_pair=has_pair[rows],
                          buildings=_idle_buildings(fac) if band == "kindergarten" else None)
        if got is not None:
            new_fac.append(got[0])
            new_pairs.append(got[1])
            n_fac += len(got[0])
    if new_fac:
        fac = pd.concat([fac, *new_fac])
        pairs = pd.concat([pairs, *new_pairs], ignore_index=True).astype(
            {"row": "int64", "col": "int64", "boarding": bool, "host": bool, "transition": bool})
    return fac, dem, pairs


def _beyond_room(fac: pd.DataFrame, dem: pd.DataFrame, pairs: pd.DataFrame,
                 params: LayoutParams, band: str) -> np.ndarray:
    """Rows of ``band`` whose only school cannot hold them even fully expanded (bool, per row).

    A school's room is its seats plus every block it may build, with temporary seats on top
    (``temporary.max_share``); the rows that may use it alone, largest first, are marked until
    the rest fits. Such rows may then get a village site as rows with no school at all do: an
    urban community whose one kindergarten within a 15-minute walk is full for good would
    otherwise stay unserved.
    """
    level = BAND_LEVEL[band]
    lv = params.levels.get(level)
    share = params.temporary.max_share if params.temporary.enabled else 0.0
    room = ((fac["capacity"].to_numpy(dtype=float) + lv.max_blocks * lv.class_size)
            * (1.0 + share))
    r, c = pairs["row"].to_numpy(dtype=np.int64), pairs["col"].to_numpy(dtype=np.int64)
    n_opts = np.bincount(r, minlength=len(dem))
    students = dem["students"].to_numpy(dtype=float)
    sole = (n_opts[r] == 1) & (dem["grade_band"].to_numpy()[r] == band) & (
        fac["level"].to_numpy()[c] == level)
    out = np.zeros(len(dem), dtype=bool)
    if not sole.any():
        return out
    sr, sc = r[sole], c[sole]
    order = np.lexsort((sr, -students[sr], sc))  # per school, largest row first
    sr, sc = sr[order], sc[order]
    total = np.bincount(sc, weights=students[sr], minlength=len(fac))
    start = np.searchsorted(sc, sc, side="left")
    before = np.cumsum(students[sr]) - students[sr]
    before = before - before[start]  # children of the school's larger rows
    out[sr[total[sc] - before > room[sc] + 1e-9]] = True
    return out


def _idle_buildings(fac: pd.DataFrame) -> pd.DataFrame:
    """Buildings a village kindergarten may move into: village schools the principle closes.

    Existing primary schools and teaching points that are not hosts of the layout principle
    (their pupils move to the township's central school; the building stays).
    """
    sel = (~fac["is_site"].astype(bool) & (fac["level"] == "primary")
           & ~fac["host"].astype(bool))
    return fac.loc[sel, ["fac_id", "name", "x", "y", "lon", "lat"]].drop_duplicates("fac_id")


def _into_buildings(v: pd.DataFrame, chosen_ids: np.ndarray, buildings: pd.DataFrame,
                    d: pd.DataFrame, r: np.ndarray, c: np.ndarray, mins: np.ndarray,
                    dist: np.ndarray, within_m: float, circ: float,
                    roads: RoadNetwork | None) -> tuple[np.ndarray, np.ndarray]:
    """Move chosen sites into the nearest idle building within ``within_m`` (in place on ``v``).

    A site moves only if every row paired with it still reaches the building within its
    journey cap; each building takes one site. The pairs' journeys are recomputed from the
    building; returns the new ``mins`` and ``dist`` (the pairs ``r, c`` are unchanged).
    """
    mins, dist = mins.copy(), dist.copy()
    b_xy = buildings[["x", "y"]].to_numpy(dtype=float)
    gap, near = cKDTree(b_xy).query(v[["x", "y"]].to_numpy(dtype=float),
                                    distance_upper_bound=within_m)
    taken: set[int] = set()
    xy = d[["x", "y"]].to_numpy(dtype=float)
    speed, cap = d["speed"].to_numpy(dtype=float), d["max_cap"].to_numpy(dtype=float)
    for k, (g, b) in enumerate(zip(gap, near, strict=True)):
        if not np.isfinite(g) or int(b) in taken:
            continue
        sel = np.flatnonzero(c == chosen_ids[k])
        to = np.repeat(b_xy[[int(b)]], sel.size, axis=0)
        dd = np.hypot(*(xy[r[sel]] - to).T)
        if roads is not None and sel.size:
            dd = roads.route_m(xy[r[sel]], b_xy[[int(b)]], np.arange(sel.size),
                               np.zeros(sel.size, dtype=np.int64))
        mm = dd * circ / speed[r[sel]]
        if not (np.isfinite(mm) & (mm <= cap[r[sel]] + 1e-9)).all():
            continue
        taken.add(int(b))
        mins[sel], dist[sel] = mm, dd
        row = buildings.iloc[int(b)]
        for col in ("x", "y", "lon", "lat"):
            v.iloc[k, v.columns.get_loc(col)] = row[col]
        v.iloc[k, v.columns.get_loc("converted_from")] = str(row["fac_id"])
        v.iloc[k, v.columns.get_loc("building_name")] = str(row["name"])
    return mins, dist


def _band_sites(
    band: str, kind: VillageSiteKind, dem: pd.DataFrame, rows: np.ndarray, n_fac: int,
    max_candidates: int, circ: float, roads: RoadNetwork | None,
    had_pair: np.ndarray | None = None, buildings: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Sites of one band for its uncovered ``rows``: new facility rows and their pairs.

    ``had_pair`` marks rows that have a school within the cap that cannot hold them (the
    site's note says so); ``buildings`` are existing buildings a site may move into
    (:func:`_into_buildings`). Rows left without a site get ``reach_children`` and
    ``site_min_children`` in ``dem`` (in place). Returns None when no site is chosen.
    """
    level, stype, prefix = SITE_BANDS[band]
    d = dem.iloc[rows]
    vil = d.groupby("demand_id", sort=True).agg(
        x=("x", "first"), y=("y", "first"), lon=("lon", "first"), lat=("lat", "first"),
        township_code=("township_code", "first"), county_code=("county_code", "first"),
        students=("students", "sum"), cap_min=("max_cap", "max"),
        reach_min=("reach_cap", "max") if "reach_cap" in d else ("max_cap", "max"),
    )
    speed, max_cap = d["speed"].to_numpy(), d["max_cap"].to_numpy()
    xy = d[["x", "y"]].to_numpy()
    r, c, dist = radius_pairs(xy, vil[["x", "y"]].to_numpy(), max_cap * speed / circ)
    if roads is not None and r.size:
        dist = roads.route_m(xy, vil[["x", "y"]].to_numpy(), r, c)
    mins = dist * circ / speed[r]
    ok = np.isfinite(mins) & (mins <= max_cap[r] + 1e-9)
    r, c, mins, dist = r[ok], c[ok], mins[ok], dist[ok]
    shape = (rows.size, len(vil))
    a = sp.csc_array((np.ones(r.size), (r, c)), shape=shape)
    a_min = sp.csc_array((mins + 1e-6, (r, c)), shape=shape)  # + eps keeps zero journeys
    a.sort_indices()
    a_min.sort_indices()
    block = float(kind.class_size)
    cap = np.maximum(np.floor(kind.max_capacity / block) * block,
                     np.ceil(vil["students"].to_numpy() / block) * block)
    chosen, remaining = _greedy(a, a_min, d["students"].to_numpy(), cap, kind.min_children)
    # Rows left without a site: the most uncovered children a village point could gather.
    score = a.T @ remaining
    reach = sp.csr_array((score[c], (r, c)), shape=shape).max(axis=1).toarray().ravel()
    sel = np.zeros(len(vil), dtype=bool)
    sel[chosen] = True
    keep = sel[c]
    r, c, mins, dist = r[keep], c[keep], mins[keep], dist[keep]
    order = np.lexsort((c, mins, r))
    r, c, mins, dist = r[order], c[order], mins[order], dist[order]
    near = (np.arange(r.size) - np.searchsorted(r, r, side="left")) < max_candidates
    r, c, mins, dist = r[near], c[near], mins[near], dist[near]
    covered = np.bincount(r, minlength=rows.size) > 0
    cap = _grow_for_the_rest(cap, r, c, remaining, block)
    had = np.zeros(rows.size, dtype=bool) if had_pair is None else had_pair
    left = ~covered & ~had  # rows with a school keep its reasons
    dem.loc[dem.index[rows[left]], "reach_children"] = reach[left]
    dem.loc[dem.index[rows[left]], "site_min_children"] = float(kind.min_children)
    full_site = np.bincount(c, weights=had[r], minlength=len(vil)) > 0
    if not chosen:
        return None
    chosen_ids = np.sort(np.asarray(chosen))
    col_of = np.full(len(vil), -1, dtype=np.int64)
    col_of[chosen_ids] = n_fac + np.arange(chosen_ids.size)
    v = vil.iloc[chosen_ids].copy()
    v["converted_from"] = ""
    v["building_name"] = ""
    if buildings is not None and kind.reuse_within_m > 0 and len(buildings):
        mins, dist = _into_buildings(v, chosen_ids, buildings, d, r, c, mins, dist,
                                     kind.reuse_within_m, circ, roads)
    conv = (v["converted_from"] != "").to_numpy()
    names = [f"{_NAME[band]}({i})" if not b else f"{_NAME[band]}({i}, 改建自{b})"
             for i, b in zip(v.index, v["building_name"], strict=True)]
    notes = [(_NOTE_FULL if f else _NOTE[band]).format(cap=m, **_far(m, x)) + (
        f"; 利用 {b} 校舍改建 (in the building of {b}, converted)" if b else "")
        for m, x, f, b in zip(v["cap_min"], v["reach_min"], full_site[chosen_ids],
                              v["converted_from"], strict=True)]
    sites = pd.DataFrame({
        "fac_id": [prefix + str(i) for i in v.index], "level": level,
        "name": names,
        "county_code": v["county_code"].to_numpy(), "township_code": v["township_code"].to_numpy(),
        "school_type": stype, "site_class": "village", "ownership": "public", "is_site": True,
        "capacity": 0.0,
        "beds": 0.0, "enrollment_base": 0.0, "enrollment_lower": 0.0, "programme_groups": "",
        "lon": v["lon"].to_numpy(), "lat": v["lat"].to_numpy(), "x": v["x"].to_numpy(),
        "y": v["y"].to_numpy(), "max_capacity": cap[chosen_ids], "host": True,
        "village_site": True, "site_note": notes,
        "converted_from": v["converted_from"].to_numpy(),
        "vs_fixed_cost": float(kind.fixed_cost), "vs_block": block,
        "vs_capital": np.where(conv, float(kind.conversion_capital_per_seat),
                               float(kind.capital_per_seat)),
    }, index=pd.RangeIndex(n_fac, n_fac + chosen_ids.size))
    pairs = pd.DataFrame({
        "row": rows[r], "col": col_of[c], "minutes": mins, "km": dist * circ / 1000.0,
        "boarding": False, "host": True, "transition": False,
    })
    return sites, pairs
