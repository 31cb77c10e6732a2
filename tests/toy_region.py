"""Small hand-built, Region-like objects (SYNTHETIC) for tests, examples and docs.

Points are given in kilometres on the region's projected plane (EPSG:4544, origin near
105.0 E 32.3 N) and converted to WGS84, so hand-built distances are exact in the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer

from schoolsystem.vocabulary import (
    BAND_LEVEL,
    LEVELS,
    SCHOOL_TYPE_LEVELS,
    SCHOOL_TYPES,
    level_grades,
)

CRS = "EPSG:4544"
X0, Y0 = 500_000.0, 3_575_000.0


@dataclass(frozen=True)
class ToyRegion:
    """A Region-like object with the attributes the layout planner reads (synthetic)."""

    counties: pd.DataFrame
    townships: pd.DataFrame
    villages: pd.DataFrame
    schools: pd.DataFrame
    enrollment: pd.DataFrame
    candidate_sites: pd.DataFrame
    children: pd.DataFrame
    projected_crs: str = CRS
    base_year: int = 2023
    meta: dict[str, Any] = field(default_factory=lambda: {"synthetic": True})


def _lonlat(x_km: Any, y_km: Any) -> tuple[np.ndarray, np.ndarray]:
    tr = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(X0 + np.asarray(x_km, float) * 1000, Y0 + np.asarray(y_km, float) * 1000)
    return np.asarray(lon), np.asarray(lat)


_LEVEL_GRADES = {lv: list(level_grades(lv)) for lv in LEVELS}
_TYPE_LEVELS = {t: ";".join(lv for lv in LEVELS if lv in SCHOOL_TYPE_LEVELS[t]) for t in SCHOOL_TYPES}


def make_region(
    townships: list[dict[str, Any]], villages: list[dict[str, Any]], schools: list[dict[str, Any]],
    sites: list[dict[str, Any]] | None = None, *, terrain: dict[str, str] | None = None,
) -> ToyRegion:
    """Build a :class:`ToyRegion`.

    Parameters
    ----------
    townships : list of dict
        township_code, county_code, is_county_seat, is_central_town, urban.
    villages : list of dict
        village_id, township_code, x_km, y_km, urban.
    schools : list of dict
        school_id, school_type, township_code, x_km, y_km, capacity, optional beds, ownership,
        programme_groups, name and ``enrollment`` (level -> base-year students, spread evenly
        over the level's grades).
    sites : list of dict, optional
        site_id, township_code, x_km, y_km, levels, max_capacity.
    terrain : dict, optional
        county_code -> terrain (default "hill").

    """
    tw = pd.DataFrame(townships)
    for col in ("is_county_seat", "is_central_town", "urban"):
        tw[col] = tw.get(col, False)
    codes = sorted(set(tw["county_code"]))
    terrain = terrain or {}
    counties = pd.DataFrame({"county_code": codes, "terrain": [terrain.get(c, "hill") for c in codes]})
    v = pd.DataFrame(villages)
    v["lon"], v["lat"] = _lonlat(v["x_km"], v["y_km"])
    v["urban"] = v.get("urban", False)
    v["population"] = v["population"].fillna(1000) if "population" in v else 1000
    s = pd.DataFrame(schools)
    s["lon"], s["lat"] = _lonlat(s["x_km"], s["y_km"])
    s["levels"] = s["school_type"].map(_TYPE_LEVELS)
    s["name"] = s.get("name", s["school_id"])
    s["ownership"] = s.get("ownership", "public")
    s["boarding_beds"] = s.get("beds", 0)
    s["programme_groups"] = s.get("programme_groups", "")
    s = s.fillna({"ownership": "public", "boarding_beds": 0, "programme_groups": ""})
    rows = []
    for rec in schools:
        for level, students in (rec.get("enrollment") or {}).items():
            grades = _LEVEL_GRADES[level]
            for g in grades:
                rows.append({"school_id": rec["school_id"], "year": 2023, "grade": g,
                             "students": round(students / len(grades))})
    enr = pd.DataFrame(rows, columns=["school_id", "year", "grade", "students"])
    st = pd.DataFrame(sites or [], columns=["site_id", "township_code", "x_km", "y_km", "levels",
                                            "max_capacity"])
    st["name"] = st["site_id"]
    if len(st):
        st["lon"], st["lat"] = _lonlat(st["x_km"], st["y_km"])
    else:
        st["lon"], st["lat"] = [], []
    children = pd.DataFrame({
        "village_id": np.repeat(v["village_id"].to_numpy(), 18),
        "age": np.tile(np.arange(18), len(v)), "persons": 10,
    })
    return ToyRegion(counties, tw, v, s.drop(columns=["enrollment"], errors="ignore"), enr, st, children)


def demand_table(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """Demand DataFrame from (village_id, grade_band, students) tuples."""

    d = pd.DataFrame(rows, columns=["demand_id", "grade_band", "students"])
    d["level"] = d["grade_band"].map(dict(BAND_LEVEL))
    return d[["demand_id", "level", "grade_band", "students"]]
