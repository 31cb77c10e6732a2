"""Township polygons when the bureau has none: Voronoi cells of the seats clipped to the county.

Each township's seat is its 驻地 point when given, else the village nearest the population-weighted
centre of its villages (a point that lies inside the county). The cells of one county's seats are
clipped to that county's boundary, so the townships partition the county; the layer is recorded
as derived in ``region.yaml``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry


def seat_points(townships: pd.DataFrame, villages: pd.DataFrame) -> pd.DataFrame:
    """``township_code, seat_lon, seat_lat, seat_source`` for every township.

    Parameters
    ----------
    townships : pandas.DataFrame
        ``township_code`` and optional ``seat_lon``/``seat_lat`` (WGS84, NaN = missing).
    villages : pandas.DataFrame
        ``township_code, population, lon, lat`` (WGS84, NaN = missing).

    Returns
    -------
    pandas.DataFrame
        ``seat_source`` is ``given``, ``villages`` or ``missing`` (no point available).

    """
    rows = []
    located = villages.dropna(subset=["lon", "lat"])
    groups = {str(k): g for k, g in located.groupby("township_code", sort=False)}
    for _, t in townships.iterrows():
        code = str(t["township_code"])
        lon, lat = t.get("seat_lon"), t.get("seat_lat")
        if pd.notna(lon) and pd.notna(lat):
            rows.append((code, float(lon), float(lat), "given"))
            continue
        g = groups.get(code)
        if g is None or g.empty:
            rows.append((code, np.nan, np.nan, "missing"))
            continue
        w = g["population"].to_numpy(float) + 1e-9
        cx, cy = np.average(g["lon"], weights=w), np.average(g["lat"], weights=w)
        k = int(np.argmin((g["lon"].to_numpy() - cx) ** 2 + (g["lat"].to_numpy() - cy) ** 2))
        rows.append((code, float(g["lon"].iloc[k]), float(g["lat"].iloc[k]), "villages"))
    return pd.DataFrame(rows, columns=["township_code", "seat_lon", "seat_lat", "seat_source"])


def _jitter_duplicates(xy: np.ndarray) -> np.ndarray:
    """Move exactly coincident seats apart by 1e-5 degrees (about 1 m), deterministically."""
    out = xy.copy()
    _, first, counts = np.unique(out, axis=0, return_index=True, return_counts=True)
    for i in first[counts > 1]:
        same = np.flatnonzero((out == out[i]).all(axis=1))
        out[same, 0] += 1e-5 * np.arange(len(same))
    return out


def voronoi_cells(points: np.ndarray, county: BaseGeometry) -> list[BaseGeometry]:
    """Voronoi cells of ``points`` (lon, lat rows) clipped to ``county``, in point order."""
    if len(points) == 1:
        return [county]
    xy = _jitter_duplicates(points)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(xy), extend_to=county, ordered=True)
    out = []
    for k, cell in enumerate(shapely.get_parts(cells)):
        clipped = shapely.intersection(cell, county)
        if clipped.is_empty:  # seat outside the county: fall back to the point's buffer
            clipped = shapely.intersection(shapely.Point(xy[k]).buffer(0.01), county)
        out.append(_polygonal(shapely.make_valid(clipped)))
    return out


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygon parts of a geometry (drops the lines and points an intersection may leave)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if len(parts) == 1:
        return parts[0]
    return shapely.union_all(parts)


def township_polygons(seats: pd.DataFrame, townships: pd.DataFrame,
                      counties: dict[str, BaseGeometry]) -> list[BaseGeometry | None]:
    """Polygons of ``townships`` (row order) from their seats; None where a seat is missing."""
    merged = townships[["township_code", "county_code"]].merge(seats, on="township_code",
                                                               how="left")
    geoms: list[BaseGeometry | None] = [None] * len(merged)
    for county, rows in merged.groupby("county_code", sort=False):
        area = counties.get(str(county))
        rows = rows.dropna(subset=["seat_lon", "seat_lat"])
        if area is None or rows.empty:
            continue
        cells = voronoi_cells(rows[["seat_lon", "seat_lat"]].to_numpy(float), area)
        for idx, cell in zip(rows.index, cells, strict=True):
            geoms[int(idx)] = cell
    return geoms
