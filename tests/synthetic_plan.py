"""SYNTHETIC LayoutPlan-like tables for tests, demos and benchmarks of the outputs.

Nothing here describes a real school, village or township: positions, names and numbers are
random draws (seeded) laid over a rectangle around Guangyuan. Names start with ``合成`` and every
table carries ``attrs["synthetic"] = True``. The tables follow the formats of
:class:`layout.plan.result.LayoutPlan` (``layout/plan/result.py``; columns in
``schoolsystem/schemas.py``) so the map and exports can be exercised without running the planner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from schoolsystem.vocabulary import ACTIONS, LEVELS

BBOX = (105.0, 31.6, 106.6, 32.9)
"""Synthetic extent (lon/lat), roughly Guangyuan."""
SYNTHETIC_NOTE = "合成数据（SYNTHETIC）：仅用于测试，不代表真实学校"


@dataclass
class SyntheticPlan:
    """LayoutPlan-like container (same attribute names and table columns), synthetic."""

    schools: pd.DataFrame
    assignments: pd.DataFrame
    unserved: pd.DataFrame
    kpis: pd.DataFrame
    projects: pd.DataFrame
    solver_records: pd.DataFrame
    target_year: int = 2035
    seats_added_total: int = 0
    city_target_seats: int = 25000
    params: dict[str, Any] = field(default_factory=dict)


def synthetic_region(
    n_counties: int = 4, townships_per_side: int = 8, seed: int = 0
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return synthetic (counties, townships): a grid of township cells grouped in county strips."""
    x0, y0, x1, y1 = BBOX
    k = townships_per_side
    xs = np.linspace(x0, x1, k + 1)
    ys = np.linspace(y0, y1, k + 1)
    ix, iy = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    ix, iy = ix.ravel(), iy.ravel()
    county_idx = np.minimum(ix * n_counties // k, n_counties - 1)
    county_codes = np.array([f"5199{i + 1:02d}" for i in range(n_counties)])
    cells = shapely.box(xs[ix], ys[iy], xs[ix + 1], ys[iy + 1])
    t_codes = [f"{county_codes[c]}{i + 1:03d}" for i, c in enumerate(county_idx)]
    townships = gpd.GeoDataFrame(
        {"township_code": t_codes, "name": [f"合成乡镇{i + 1}" for i in range(len(t_codes))],
         "county_code": county_codes[county_idx]},
        geometry=cells, crs="EPSG:4326",
    )
    counties = townships.dissolve("county_code", as_index=False)[["county_code", "geometry"]]
    counties["name"] = [f"合成县{i + 1}" for i in range(len(counties))]
    counties.attrs["synthetic"] = townships.attrs["synthetic"] = True
    return counties, townships


def synthetic_plan(
    n_schools: int = 60,
    n_villages: int = 200,
    townships: gpd.GeoDataFrame | None = None,
    seed: int = 0,
    names: list[str] | None = None,
) -> SyntheticPlan:
    """Return a random, internally consistent LayoutPlan-like object (SYNTHETIC).

    Parameters
    ----------
    n_schools : int
        Number of (school, level) rows.
    n_villages : int
        Number of demand points; each is assigned, per level, to its nearest open school.
    townships : geopandas.GeoDataFrame, optional
        Used to fill township/county codes; defaults to :func:`synthetic_region`'s.
    seed : int
        Random seed (same seed, same tables).
    names : list of str, optional
        Names for the first schools (e.g. hostile strings for escaping tests).

    """
    rng = np.random.default_rng(seed)
    if townships is None:
        townships = synthetic_region(seed=seed)[1]
    x0, y0, x1, y1 = BBOX
    lon = rng.uniform(x0 + 0.01, x1 - 0.01, n_schools)
    lat = rng.uniform(y0 + 0.01, y1 - 0.01, n_schools)
    level = rng.choice(LEVELS, n_schools, p=[0.35, 0.35, 0.18, 0.08, 0.04])
    level[: min(n_schools, len(LEVELS))] = LEVELS[: min(n_schools, len(LEVELS))]
    action = rng.choice(ACTIONS, n_schools, p=[0.5, 0.15, 0.12, 0.1, 0.05, 0.08])
    action[: min(n_schools, len(LEVELS))] = "keep"  # every level has an open school
    ids = np.array([f"S{i:06d}" for i in range(n_schools)])
    name = np.array([f"合成学校{i}" for i in range(n_schools)], dtype=object)
    if names:
        name[: len(names)] = names[:n_schools]
    pts = gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326")
    town = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), townships, how="left", predicate="within")
    town = town[~town.index.duplicated()]
    open_mask = ~np.isin(action, ["close", "merge"])
    merge_into = np.full(n_schools, "", dtype=object)
    for lv in LEVELS:  # 5 iterations: nearest open school of the same level
        closing = (level == lv) & ~open_mask
        opened = np.flatnonzero((level == lv) & open_mask)
        if closing.any() and len(opened):
            _, nearest = cKDTree(np.column_stack([lon[opened], lat[opened]])).query(
                np.column_stack([lon[closing], lat[closing]])
            )
            merge_into[closing] = ids[opened[nearest]]
    cap_base = rng.integers(60, 2400, n_schools)
    cap_base[action == "new"] = 0
    seats = np.where(np.isin(action, ["expand", "new"]), rng.integers(90, 900, n_schools), 0)
    cap_after = np.where(open_mask, cap_base + seats, 0)
    enrol = np.round(cap_base * rng.uniform(0.3, 1.1, n_schools)).astype(int)
    demand = np.where(open_mask, np.round(cap_after * rng.uniform(0.4, 1.0, n_schools)), 0)
    boarders = np.where(np.isin(level, ["junior", "senior", "vocational"]), demand // 3, 0)
    reason = np.where(open_mask, "合成：满足目标年需求", "合成：生源不足，就近并入")
    schools = pd.DataFrame({
        "school_id": ids, "name": name.astype(str),
        "county_code": town["county_code"].fillna("").astype(str).to_numpy(),
        "township_code": town["township_code"].fillna("").astype(str).to_numpy(),
        "level": level, "school_type": "合成", "site_class": "township_seat", "action": action,
        "action_year": pd.Series(np.where(action == "keep", np.nan, 2030.0)).astype("Int64"),
        "merge_into": merge_into,
        "enrollment_base": enrol, "demand_target": demand.astype(int), "capacity_base": cap_base,
        "capacity_after": cap_after, "seats_added": seats, "beds_added": boarders,
        "boarders": boarders, "utilization": np.round(demand / np.maximum(cap_after, 1), 3),
        "reason": reason, "lon": np.round(lon, 6), "lat": np.round(lat, 6),
    })  # fmt: skip
    vlon = rng.uniform(x0, x1, n_villages)
    vlat = rng.uniform(y0, y1, n_villages)
    parts = []
    for lv in LEVELS:
        opened = np.flatnonzero((level == lv) & open_mask)
        dist, nearest = cKDTree(np.column_stack([lon[opened], lat[opened]])).query(
            np.column_stack([vlon, vlat])
        )
        travel = np.round(dist * 111.0 / 30.0 * 60.0, 1)
        parts.append(pd.DataFrame({
            "demand_id": [f"V{i:06d}" for i in range(n_villages)], "level": lv,
            "grade_band": "primary_upper" if lv == "primary" else lv,
            "school_id": ids[opened[nearest]], "students": rng.integers(1, 80, n_villages),
            "travel_min": travel, "boarding": travel > 45, "standard_min": 45.0,
            "lon": np.round(vlon, 6),
            "lat": np.round(vlat, 6),
        }))  # fmt: skip
    assignments = pd.concat(parts, ignore_index=True)
    unserved = pd.DataFrame({"demand_id": ["V000000"], "level": ["senior"],
                             "grade_band": ["senior"], "students": [3],
                             "reason": ["合成：超出最长通学时间"]})  # fmt: skip
    counties = sorted(set(schools["county_code"]) - {""})
    kpis = pd.DataFrame(
        [{"county_code": c, "level": lv, "schools_before": 10, "schools_after": 8,
          "travel_mean_min": 21.5, "travel_p95_min": 48.0, "share_within_standard": 0.93,
          "boarders": 120, "seats_added": 300, "utilization": 0.82, "cost_before": 1.2e7,
          "cost_after": 1.1e7, "cost_per_pupil": 9800.0} for c in counties for lv in LEVELS]
    )  # fmt: skip
    grow = schools[schools["action"].isin(["expand", "new"])]
    projects = pd.DataFrame({
        "project_id": [f"P{i:05d}" for i in range(len(grow))], "year": 2030,
        "school_id": grow["school_id"].to_numpy(), "name": grow["name"].to_numpy(),
        "county_code": grow["county_code"].to_numpy(),
        "kind": np.where(grow["action"] == "new", "new", "expansion"),
        "level": grow["level"].to_numpy(), "seats": grow["seats_added"].to_numpy(),
        "beds": grow["beds_added"].to_numpy(), "capital_cost": grow["seats_added"] * 35000.0,
    })  # fmt: skip
    solver = pd.DataFrame(
        [{"county_code": c, "subproblem": f"{c}-primary", "status": "OPTIMAL", "objective": 1.0,
          "bound": 1.0, "gap": 0.0, "wall_time": 0.1, "threads": 1, "seed": seed}
         for c in counties]
    )  # fmt: skip
    tables = (schools, assignments, unserved, kpis, projects, solver)
    for t in tables:
        t.attrs["synthetic"] = True
    return SyntheticPlan(*tables, seats_added_total=int(seats.sum()),
                         params={"synthetic": True, "seed": seed})  # fmt: skip


def synthetic_years_series(
    townships: gpd.GeoDataFrame, years: range = range(2023, 2036), seed: int = 0
) -> pd.DataFrame:
    """Return SYNTHETIC school-age population per township and year (declining trend)."""
    rng = np.random.default_rng(seed + 1)
    n = len(townships)
    base = rng.integers(800, 9000, n).astype(float)
    rate = rng.normal(-0.02, 0.02, n)
    steps = np.arange(len(years))
    pop = np.round(base[:, None] * (1.0 + rate[:, None]) ** steps[None, :])
    return pd.DataFrame({
        "township_code": np.repeat(townships["township_code"].astype(str).to_numpy(), len(years)),
        "year": np.tile(np.asarray(list(years)), n), "population": pop.ravel(),
    })  # fmt: skip
