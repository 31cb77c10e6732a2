"""Geometry checks: valid non-empty polygons, townships and points inside their county.

Point-in-polygon tests use :func:`shapely.contains_xy` on prepared geometries, one call per county
(never per row). The region is the union of the counties grown by :data:`BUFFER_DEG`, so a school on
a boundary line is not flagged; a point outside the region whose swapped coordinates fall inside
gets the hint "lon and lat look swapped".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from layout.region.parse import ParsedLayer, ProblemList

BUFFER_DEG = 0.005
"""Tolerance around county polygons, in degrees (about 500 m at 32° N)."""

POLYGON_TYPES = frozenset({"Polygon", "MultiPolygon"})


def check_polygons(layer: ParsedLayer, out: ProblemList) -> None:
    """Report missing, empty, non-polygon and invalid geometries of a polygon layer."""
    if layer.geometry is None:
        out.add_rows(
            layer, np.ones(len(layer.frame), bool), "geometry", None, "geometry is missing"
        )
        return
    geoms = layer.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    out.add_rows(layer, empty, "geometry", None, "empty geometry")
    types = np.asarray(shapely.get_type_id(geoms))
    polygon = np.isin(types, (3, 6))  # Polygon, MultiPolygon
    wrong = ~empty & ~polygon
    names = pd.Series(layer.geometry.geom_type.to_numpy(), dtype=object)
    out.add_rows(layer, wrong, "geometry", names, "geometry must be a Polygon or MultiPolygon")
    check = ~empty & polygon
    invalid = np.zeros(len(geoms), bool)
    invalid[check] = ~shapely.is_valid(geoms[check])
    if invalid.any():
        reasons = np.full(len(geoms), "", dtype=object)
        reasons[invalid] = shapely.is_valid_reason(geoms[invalid])
        out.add_rows(
            layer, invalid, "geometry", reasons, "invalid polygon (e.g. self-intersecting)"
        )


def usable_polygons(layer: ParsedLayer) -> np.ndarray:
    """Polygon geometries made valid (``None`` where missing or not polygonal)."""
    geoms = layer.geometry.to_numpy() if layer.geometry is not None else np.array([], dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ok &= np.isin(np.asarray(shapely.get_type_id(geoms)), (3, 6))
    fixed = np.full(len(geoms), None, dtype=object)
    fixed[ok] = shapely.make_valid(geoms[ok])
    return fixed


def county_areas(counties: ParsedLayer) -> tuple[BaseGeometry | None, dict[str, BaseGeometry]]:
    """Return the buffered region union and the buffered polygon of each county code."""
    if not counties.has("county_code"):
        return None, {}
    geoms = usable_polygons(counties)
    codes = counties.frame["county_code"].to_numpy(dtype=object)
    keep = np.array([g is not None for g in geoms], dtype=bool) & (codes != "")
    if not keep.any():
        return None, {}
    grown = shapely.buffer(geoms[keep], BUFFER_DEG)
    shapely.prepare(grown)
    per_county = dict(zip(codes[keep], grown, strict=True))
    region = shapely.union_all(grown)
    shapely.prepare(region)
    return region, per_county


def _locate(
    points_x: np.ndarray, points_y: np.ndarray, per_county: dict[str, BaseGeometry]
) -> np.ndarray:
    """County code containing each point (``""`` if none)."""
    found = np.full(points_x.shape, "", dtype=object)
    for code, poly in per_county.items():
        hit = (found == "") & shapely.contains_xy(poly, points_x, points_y)
        found[hit] = code
    return found


def check_points(
    layer: ParsedLayer,
    county_of_row: pd.Series,
    region: BaseGeometry | None,
    per_county: dict[str, BaseGeometry],
    out: ProblemList,
) -> None:
    """Check that points lie inside the region and inside their declared county.

    Parameters
    ----------
    layer : ParsedLayer
        Point layer with ``lon``/``lat`` columns.
    county_of_row : pandas.Series
        Declared county code per row (``""``/missing when unknown).
    region : shapely geometry, optional
        Buffered union of the counties; ``None`` skips the checks.
    per_county : dict
        Buffered polygon per county code.
    out : ProblemList
        Problems are appended here.

    """
    if region is None or not layer.has("lon", "lat"):
        return
    lon = layer.frame["lon"].to_numpy(dtype=float)
    lat = layer.frame["lat"].to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    inside = np.zeros(len(lon), bool)
    inside[ok] = shapely.contains_xy(region, lon[ok], lat[ok])
    outside = ok & ~inside
    values = pd.Series([f"{x:g}, {y:g}" for x, y in zip(lon, lat, strict=True)], dtype=object)
    if outside.any():
        swapped = np.zeros(len(lon), bool)
        swapped[outside] = shapely.contains_xy(region, lat[outside], lon[outside])
        out.add_rows(
            layer,
            outside & swapped,
            "lon/lat",
            values,
            "point lies outside the region; lon and lat look swapped",
        )
        out.add_rows(layer, outside & ~swapped, "lon/lat", values, "point lies outside the region")
    declared = county_of_row.fillna("").astype(str).to_numpy(dtype=object)
    known = inside & np.isin(declared, list(per_county))
    in_own = np.zeros(len(lon), bool)
    for code, poly in per_county.items():
        sel = known & (declared == code)
        if sel.any():
            in_own[sel] = shapely.contains_xy(poly, lon[sel], lat[sel])
    wrong = known & ~in_own
    if wrong.any():
        actual = np.full(len(lon), "", dtype=object)
        actual[wrong] = _locate(lon[wrong], lat[wrong], per_county)
        message = pd.Series(
            [
                f"point lies outside its declared county {d} (it is in county {a})"
                for d, a in zip(declared, actual, strict=True)
            ],
            dtype=object,
        )
        out.add_rows(layer, wrong, "lon/lat", values, message)


def check_townships_in_counties(
    townships: ParsedLayer, per_county: dict[str, BaseGeometry], out: ProblemList
) -> None:
    """Check that each township's representative point lies in its declared county."""
    if not per_county or not townships.has("county_code") or townships.geometry is None:
        return
    geoms = usable_polygons(townships)
    ok = np.array([g is not None for g in geoms], dtype=bool)
    declared = townships.frame["county_code"].to_numpy(dtype=object)
    ok &= np.isin(declared, list(per_county))
    if not ok.any():
        return
    pts = shapely.point_on_surface(geoms[ok])
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    inside = np.zeros(len(geoms), bool)
    sub = np.zeros(ok.sum(), bool)
    for code, poly in per_county.items():
        sel = declared[ok] == code
        if sel.any():
            sub[sel] = shapely.contains_xy(poly, x[sel], y[sel])
    inside[ok] = sub
    out.add_rows(
        townships,
        ok & ~inside,
        "geometry",
        None,
        "township polygon lies outside its declared county",
    )
