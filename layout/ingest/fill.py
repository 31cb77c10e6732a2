"""Fill the input workbook from a region folder (the round trip, and the examples' inputs).

:func:`region_tables` turns a loaded :class:`~layout.region.model.Region` into the workbook's
sheets at full detail (village single ages included), coordinates in the requested system;
:func:`layout.ingest.minimal.degrade` then drops what a county bureau does not hold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layout.geo.gcj02 import wgs84_to_bd09, wgs84_to_gcj02
from layout.ingest.template import NO, YES
from layout.region.model import Region
from schoolsystem.vocabulary import CHILD_AGES, GRADES, WOMEN_AGES


def _yes(values: pd.Series) -> pd.Series:
    return values.map({True: YES, False: NO})


def _coords(frame: pd.DataFrame, crs: str) -> pd.DataFrame:
    out = frame.copy()
    if crs == "wgs84":
        return out
    fn = wgs84_to_gcj02 if crs == "gcj02" else wgs84_to_bd09
    lon, lat = fn(out["lon"].to_numpy(float), out["lat"].to_numpy(float))
    out["lon"], out["lat"] = np.round(lon, 7), np.round(lat, 7)
    return out


def _wide(long: pd.DataFrame, ages: range) -> pd.DataFrame:
    table = long.pivot(index="village_id", columns="age", values="persons")
    order = pd.unique(long["village_id"])
    table = table.reindex(index=order, columns=list(ages))
    table.columns = [f"age_{a}" for a in ages]
    return table.reset_index()


def enrollment_wide(enrollment: pd.DataFrame) -> pd.DataFrame:
    """One row per school and year, grades as columns (absent grade = empty)."""
    table = enrollment.pivot(index=["school_id", "year"], columns="grade", values="students")
    order = enrollment[["school_id", "year"]].drop_duplicates()
    table = table.reindex(pd.MultiIndex.from_frame(order)).reindex(columns=list(GRADES))
    return table.astype(object).where(table.notna(), None).reset_index()


def region_tables(region: Region, crs: str = "wgs84", synthetic: bool | None = None
                  ) -> dict[str, pd.DataFrame]:
    """The workbook's sheets filled from ``region`` (every optional sheet included)."""
    synth = region.is_synthetic if synthetic is None else synthetic
    t = region.townships
    towns = pd.DataFrame({
        "township_code": t["township_code"], "name": t["name"], "county_code": t["county_code"],
        "kind": t["kind"], "is_county_seat": _yes(t["is_county_seat"]),
        "is_central_town": _yes(t["is_central_town"]), "urban": _yes(t["urban"]),
        "elderly_share": t["elderly_share"], "seat_lon": None, "seat_lat": None,
    })
    v = region.villages
    villages = _coords(pd.DataFrame({
        "village_id": v["village_id"], "name": v["name"], "township_code": v["township_code"],
        "urban": _yes(v["urban"]), "population": v["population"], "lon": v["lon"],
        "lat": v["lat"]}), crs)
    schools = _coords(pd.DataFrame(region.schools.drop(columns="geometry")), crs)
    schools["address"] = None
    schools["classes"] = None
    schools["programme_groups"] = schools["programme_groups"].replace("", None)
    c = region.counties
    return {
        "region": pd.DataFrame([{
            "name": region.name, "code": region.code, "base_year": region.base_year,
            "projected_crs": region.projected_crs, "crs": crs,
            "provenance": str(region.meta.get("provenance", "")), "synthetic": _yes(
                pd.Series([synth])).iloc[0]}]),
        "counties": pd.DataFrame({"county_code": c["county_code"], "name": c["name"],
                                  "name_en": c["name_en"], "terrain": c["terrain"]}),
        "townships": towns, "villages": villages,
        "village_children": _wide(region.children, CHILD_AGES),
        "village_women": _wide(region.women, WOMEN_AGES),
        "schools": schools, "enrollment": enrollment_wide(region.enrollment),
        "candidate_sites": _coords(pd.DataFrame(region.candidate_sites.drop(
            columns=["geometry", "county_code"])), crs),
        "births": region.births, "urbanisation": region.urbanisation,
        "township_history": region.township_history,
    }
