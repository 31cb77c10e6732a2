"""Region tables reshaped for the layout model: one row per (school, level), projected points.

Pure table preparation (no optimisation): joins county codes and terrain, projects points to
the region's projected CRS, splits a campus's seats and beds across the levels it hosts in
proportion to its base-year enrollment per level (equally when it has none), and attaches each
demand row to its village point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from layout.errors import LayoutError
from layout.plan.travel import project
from schoolsystem.vocabulary import GRADE_LEVEL, LOWER_GRADES


@dataclass(frozen=True)
class Frames:
    """Prepared tables.

    Attributes
    ----------
    townships : DataFrame
        township_code, county_code, is_county_seat, is_central_town, urban.
    terrain : dict
        county_code -> terrain code.
    facilities : DataFrame
        One row per (school, level) and per (candidate site, level): fac_id, level, name,
        county_code, township_code, school_type ("new" for sites), ownership, is_site, capacity,
        beds, enrollment_base, enrollment_lower, programme_groups, lon, lat, x, y.
    demand : DataFrame
        demand_id, level, grade_band, students, county_code, township_code, urban, lon, lat, x, y.
    base_year : int

    """

    townships: pd.DataFrame
    terrain: dict[str, str]
    facilities: pd.DataFrame
    demand: pd.DataFrame
    base_year: int


def _plain(df: Any) -> pd.DataFrame:
    out = pd.DataFrame(df.drop(columns="geometry", errors="ignore"))
    return out.copy()


def _bool(s: pd.Series) -> pd.Series:
    if s.dtype == bool:
        return s
    return s.astype(str).str.lower().isin(["true", "1", "yes"])


def prepare(region: Any, demand: pd.DataFrame, seat_radius_km: float = 3.0) -> Frames:
    """Build :class:`Frames` from a Region (or Region-like object) and a checked demand table.

    ``seat_radius_km``: a school this close to its township's seat is a township-seat school
    (see :func:`site_classes`).
    """
    crs = region.projected_crs
    tw = _plain(region.townships)
    tw["township_code"] = tw["township_code"].astype(str)
    tw["county_code"] = tw["county_code"].astype(str)
    for col in ("is_county_seat", "is_central_town", "urban"):
        tw[col] = _bool(tw[col])
    tw = tw[["township_code", "county_code", "is_county_seat", "is_central_town", "urban"]]
    counties = _plain(region.counties)
    terrain = dict(zip(counties["county_code"].astype(str), counties["terrain"].astype(str), strict=True))
    t2c = dict(zip(tw["township_code"], tw["county_code"], strict=True))
    d = _demand_points(region, demand, t2c, crs)
    base_year = int(region.base_year)
    frames = [_school_levels(region, t2c, base_year)[_FACILITY_COLUMNS]]
    sites = _site_levels(region, t2c)
    if sites is not None:
        frames.append(sites)
    fac = pd.concat(frames, ignore_index=True)
    fac["max_capacity"] = fac.get("max_capacity", pd.Series(np.nan, index=fac.index)).fillna(0.0)
    fac[["x", "y"]] = project(fac["lon"], fac["lat"], crs)
    fac["site_class"] = site_classes(fac, tw, region.villages, crs, seat_radius_km)
    fac = fac.sort_values(["county_code", "fac_id", "level"], kind="stable").reset_index(drop=True)
    return Frames(townships=tw, terrain=terrain, facilities=fac, demand=d, base_year=base_year)


def site_classes(fac: pd.DataFrame, townships: pd.DataFrame, villages: Any, crs: str,
                 seat_radius_km: float) -> np.ndarray:
    """Site class of each facility: county_seat, central_town, township_seat or village.

    A school in a county-seat township is ``county_seat``, in a central town ``central_town``;
    elsewhere it is ``township_seat`` within ``seat_radius_km`` of the township's seat — its
    most populous village or community, where the township government and central school
    usually stand (region data hold no seat point) — and ``village`` beyond. Candidate sites
    are classed the same way.
    """
    vil = _plain(villages)
    vil["township_code"] = vil["township_code"].astype(str)
    vil = vil.sort_values(["township_code", "population", "village_id"],
                          ascending=[True, False, True], kind="stable")
    seat = vil.drop_duplicates("township_code").set_index("township_code")
    seat_xy = project(seat["lon"], seat["lat"], crs) if len(seat) else np.zeros((1, 2))
    pos = seat.index.get_indexer(fac["township_code"].astype(str))
    here = seat_xy[pos.clip(min=0)]
    dist = np.where(pos >= 0, np.hypot(fac["x"].to_numpy() - here[:, 0],
                                       fac["y"].to_numpy() - here[:, 1]), np.inf)
    tw = townships.set_index("township_code")
    code = fac["township_code"].astype(str)
    county_seat = code.map(tw["is_county_seat"]).fillna(False).to_numpy(dtype=bool)
    central = code.map(tw["is_central_town"]).fillna(False).to_numpy(dtype=bool)
    return np.select([county_seat, central, dist <= seat_radius_km * 1000.0],
                     ["county_seat", "central_town", "township_seat"], "village")


_FACILITY_COLUMNS = [
    "fac_id", "level", "name", "county_code", "township_code", "school_type", "ownership",
    "is_site", "capacity", "beds", "enrollment_base", "enrollment_lower", "programme_groups",
    "lon", "lat",
]


def _demand_points(region: Any, demand: pd.DataFrame, t2c: dict[str, str],
                   crs: str) -> pd.DataFrame:
    """Demand rows joined to their village: county, urban flag, WGS84 and projected points."""
    vil = _plain(region.villages)
    vil["village_id"] = vil["village_id"].astype(str)
    vil["county_code"] = vil["township_code"].astype(str).map(t2c)
    vil["urban"] = _bool(vil["urban"])
    d = demand.merge(
        vil[["village_id", "township_code", "county_code", "urban", "lon", "lat"]],
        left_on="demand_id", right_on="village_id", how="left", validate="many_to_one",
    ).drop(columns="village_id")
    unknown = d["lon"].isna()
    if unknown.any():
        raise LayoutError(
            f"demand, row {d.loc[unknown, 'demand_id'].iloc[0]}, column demand_id: "
            "not a village_id of the region"
        )
    d[["x", "y"]] = project(d["lon"], d["lat"], crs)
    d["township_code"] = d["township_code"].astype(str)
    return d


def _school_levels(region: Any, t2c: dict[str, str], base_year: int) -> pd.DataFrame:
    """One row per (school, level) with base-year enrollment and its share of seats and beds."""
    sch = _plain(region.schools)
    sch["school_id"] = sch["school_id"].astype(str)
    sch["township_code"] = sch["township_code"].astype(str)
    sch["county_code"] = sch["township_code"].map(t2c)
    long = sch.assign(level=sch["levels"].astype(str).str.split(";")).explode("level")
    long["level"] = long["level"].str.strip()
    enr = _plain(region.enrollment)
    enr = enr[enr["year"].astype(int) == base_year].copy()
    enr["school_id"] = enr["school_id"].astype(str)
    enr["level"] = enr["grade"].astype(str).map(dict(GRADE_LEVEL))
    enr["lower"] = np.where(enr["grade"].astype(str).isin(LOWER_GRADES), enr["students"], 0)
    by_level = enr.groupby(["school_id", "level"], as_index=False).agg(
        enrollment_base=("students", "sum"), enrollment_lower=("lower", "sum")
    )
    long = long.merge(by_level, on=["school_id", "level"], how="left")
    long[["enrollment_base", "enrollment_lower"]] = long[
        ["enrollment_base", "enrollment_lower"]
    ].fillna(0.0).astype(float)
    tot = long.groupby("school_id")["enrollment_base"].transform("sum")
    n_lv = long.groupby("school_id")["level"].transform("size")
    share = np.where(tot > 0, long["enrollment_base"] / tot.where(tot > 0, 1), 1.0 / n_lv)
    long["capacity"] = np.round(long["capacity"].astype(float) * share)
    long["beds"] = np.round(long["boarding_beds"].astype(float) * share)
    if "programme_groups" not in long:
        long["programme_groups"] = ""
    long["programme_groups"] = long["programme_groups"].fillna("").astype(str)
    long["is_site"] = False
    return long.rename(columns={"school_id": "fac_id"})


def _site_levels(region: Any, t2c: dict[str, str]) -> pd.DataFrame | None:
    """One row per (candidate site, level), its size split evenly; None without sites."""
    sites = _plain(region.candidate_sites)
    if not len(sites):
        return None
    sites["site_id"] = sites["site_id"].astype(str)
    sites["township_code"] = sites["township_code"].astype(str)
    s = sites.assign(level=sites["levels"].astype(str).str.split(";")).explode("level")
    s["level"] = s["level"].str.strip()
    n_s = s.groupby("site_id")["level"].transform("size")
    s = s.assign(
        fac_id=s["site_id"], county_code=s["township_code"].map(t2c), school_type="new",
        ownership="public", is_site=True, capacity=0.0,
        beds=0.0, enrollment_base=0.0, enrollment_lower=0.0, programme_groups="",
        max_capacity=np.floor(s["max_capacity"].astype(float) / n_s),
    )
    return s[[*_FACILITY_COLUMNS, "max_capacity"]]
