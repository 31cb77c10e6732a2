"""GeoPackage export ``layout.gpkg`` (written with pyogrio, atomically).

Layers (EPSG:4326, English field names as in the data dictionary):

- ``schools``: plan.schools as points, with the action of each (school, level);
- ``demand_points``: one point per demand point (village) with its students per level
  (``students_<level>``) and in total, plus the village's name/township where ``villages`` has them;
- ``assignments``: one LineString per assignment, demand point -> school;
- ``townships``: township polygons with the school-age population change
  (``pop_base, pop_target, pop_change, pop_change_pct``) when population input is given.

The file is reproducible: the change times GDAL stamps (``gpkg_contents.last_change``,
``gpkg_metadata_reference.timestamp``) are set to :data:`layout.outputs.atomic.FIXED_TIMESTAMP`
and the database is vacuumed, so identical inputs give a byte-identical file.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layout.outputs.atomic import FIXED_TIMESTAMP, atomic_path
from layout.outputs.tables import LEVELS, plan_table, township_change_table

CRS = "EPSG:4326"
TIMESTAMP_COLUMNS = {"gpkg_contents": "last_change", "gpkg_metadata_reference": "timestamp"}
"""GeoPackage tables and their time-of-writing columns (set to the fixed timestamp)."""


def _points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
    return gpd.GeoDataFrame(frame, geometry=shapely.points(lon, lat), crs=CRS)


def schools_layer(plan: Any) -> gpd.GeoDataFrame:
    """plan.schools as points."""
    return _points(plan_table(plan, "schools"))


def assignments_layer(plan: Any) -> gpd.GeoDataFrame:
    """Assignments as LineStrings from the demand point to the assigned school.

    Every assignment keeps its row; one whose demand point lies at the school has a null
    geometry (a zero-length line is invalid in GIS software).
    """
    asg = plan_table(plan, "assignments")
    schools = plan_table(plan, "schools").drop_duplicates(["school_id", "level"])
    pos = schools.set_index(["school_id", "level"])[["lon", "lat"]]
    key = pd.MultiIndex.from_arrays([asg["school_id"].astype(str), asg["level"].astype(str)])
    target = pos.reindex(key).to_numpy(float)
    start = asg[["lon", "lat"]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    coords = np.stack([start, target], axis=1)  # (n, 2 points, 2)
    # a demand point at the school itself has no journey line: null geometry, not an invalid
    # zero-length line (its row and attributes stay)
    ok = np.isfinite(coords).all(axis=(1, 2)) & (np.abs(coords[:, 0] - coords[:, 1]) > 0).any(axis=1)
    geoms = np.full(len(asg), None, dtype=object)
    if ok.any():
        geoms[ok] = shapely.linestrings(coords[ok])
    out = asg.rename(columns={"lon": "demand_lon", "lat": "demand_lat"})
    out["school_lon"], out["school_lat"] = target[:, 0], target[:, 1]
    return gpd.GeoDataFrame(out, geometry=geoms, crs=CRS)


def demand_points_layer(plan: Any, villages: Any = None) -> gpd.GeoDataFrame:
    """One point per demand id with students per level and in total."""
    asg = plan_table(plan, "assignments")
    students = asg.pivot_table(index="demand_id", columns="level", values="students",
                               aggfunc="sum", fill_value=0)  # fmt: skip
    students = students.reindex(columns=list(LEVELS), fill_value=0)
    students.columns = [f"students_{c}" for c in students.columns]
    students["students_total"] = students.sum(axis=1)
    first = asg.drop_duplicates("demand_id").set_index("demand_id")[["lon", "lat"]]
    out = first.join(students).reset_index()
    if villages is not None and len(villages):
        vcols = [c for c in ("village_id", "name", "township_code", "county_code")
                 if c in villages.columns]  # fmt: skip
        if "village_id" in vcols:
            info = pd.DataFrame(villages[vcols]).drop_duplicates("village_id")
            info = info.rename(columns={"village_id": "demand_id"})
            info["demand_id"] = info["demand_id"].astype(str)
            out = out.merge(info, on="demand_id", how="left")
    return _points(out)


def townships_layer(
    townships: Any, pop_change: pd.DataFrame | None = None, years_series: pd.DataFrame | None = None
) -> gpd.GeoDataFrame:
    """Township polygons, with the school-age population change when given."""
    gdf = gpd.GeoDataFrame(townships).to_crs(CRS).copy()
    gdf["township_code"] = gdf["township_code"].astype(str)
    change = township_change_table(pop_change=pop_change, years_series=years_series)
    if change is not None:
        gdf = gdf.merge(change, on="township_code", how="left")
    return gdf


def write_geopackage(
    plan: Any,
    townships: Any,
    villages: Any,
    path: str | os.PathLike[str],
    pop_change: pd.DataFrame | None = None,
    years_series: pd.DataFrame | None = None,
    note: str | None = None,
) -> Path:
    """Write ``layout.gpkg`` with layers schools, demand_points, assignments and townships.

    Parameters
    ----------
    plan : LayoutPlan-like
        The plan tables.
    townships : geopandas.GeoDataFrame
        Township polygons.
    villages : pandas.DataFrame or geopandas.GeoDataFrame or None
        Village attributes (``village_id``, ``name``, ...) joined to the demand points.
    path : str or os.PathLike
        Destination ``.gpkg`` (replaced atomically).
    pop_change, years_series : pandas.DataFrame, optional
        School-age population by township, as in :func:`layout.outputs.maps.build_map`.
    note : str, optional
        Stored as the ``NOTE`` metadata item of every layer (e.g. a synthetic-data label).

    Returns
    -------
    pathlib.Path

    """
    layers = {
        "schools": schools_layer(plan),
        "demand_points": demand_points_layer(plan, villages),
        "assignments": assignments_layer(plan),
        "townships": townships_layer(townships, pop_change, years_series),
    }
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            frame = gdf.copy()
            for col in frame.columns:
                if col != frame.geometry.name and frame[col].dtype == object:
                    frame[col] = frame[col].astype("string")
            meta = {"layer_metadata": {"NOTE": note}} if note else {}
            frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", **meta)
        reproducible_gpkg(tmp)
    return Path(path)


def reproducible_gpkg(path: str | os.PathLike[str]) -> None:
    """Set a GeoPackage's time-of-writing columns to the fixed timestamp and vacuum it.

    Parameters
    ----------
    path : str or os.PathLike
        A closed GeoPackage file, changed in place (call it on the temporary file of an atomic
        write).

    """
    stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with closing(sqlite3.connect(path)) as con:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table, column in TIMESTAMP_COLUMNS.items():
            if table in tables:
                con.execute(f'UPDATE "{table}" SET "{column}" = ?', (stamp,))
        con.commit()
        con.execute("VACUUM")
