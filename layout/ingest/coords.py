"""Coordinates of the workbook to WGS84, and the check that they fall in the region.

Roster coordinates are usually copied from AMap (GCJ-02) or Baidu (BD-09); the importer converts
them exactly (:mod:`layout.geo.gcj02`) and then checks each point against the county boundaries:
a point farther than :data:`FAR_KM` from every county is in another coordinate system
(swapped longitude/latitude, projected metres, a typo), and is reported naming sheet, Excel row,
column and value. The ~0.5-1 km offset between WGS84, GCJ-02 and BD-09 cannot be detected this
way: declare the system with ``--crs`` or the 地区 sheet's 坐标系.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from layout.errors import Problem
from layout.geo.gcj02 import bd09_to_wgs84, gcj02_to_wgs84
from layout.ingest.template import CRS_CHOICES

FAR_KM = 10.0
"""Points farther than this from every county boundary are errors (wrong coordinate system)."""


def to_wgs84(lon: NDArray[np.float64], lat: NDArray[np.float64], crs: str
             ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert coordinates in ``crs`` (``wgs84``, ``gcj02`` or ``bd09``) to WGS84.

    Examples
    --------
    >>> from layout.geo.gcj02 import wgs84_to_bd09
    >>> lon, lat = to_wgs84(*wgs84_to_bd09(np.array([105.8]), np.array([32.4])), "bd09")
    >>> bool(abs(lon[0] - 105.8) < 1e-9 and abs(lat[0] - 32.4) < 1e-9)
    True

    """
    if crs not in CRS_CHOICES:
        raise ValueError(f"unknown coordinate system {crs!r} (one of {', '.join(CRS_CHOICES)})")
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    out_lon, out_lat = lon.copy(), lat.copy()
    if crs == "wgs84" or not ok.any():
        return out_lon, out_lat
    convert = gcj02_to_wgs84 if crs == "gcj02" else bd09_to_wgs84
    out_lon[ok], out_lat[ok] = convert(lon[ok], lat[ok])
    return out_lon, out_lat


def far_points(lon: NDArray[np.float64], lat: NDArray[np.float64],
               area: shapely.Geometry, projected_crs: str) -> NDArray[np.float64]:
    """Distance (km) of each point from ``area`` (0 inside); NaN for missing coordinates."""
    from pyproj import Transformer

    ok = np.isfinite(lon) & np.isfinite(lat)
    dist = np.full(len(lon), np.nan)
    if not ok.any():
        return dist
    tr = Transformer.from_crs("EPSG:4326", projected_crs, always_xy=True)
    with np.errstate(all="ignore"):
        x, y = tr.transform(lon[ok], lat[ok])
    area_p = shapely.transform(area, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    pts = shapely.points(np.asarray(x), np.asarray(y))
    d = shapely.distance(area_p, pts) / 1000.0
    dist[ok] = np.where(np.isfinite(d), d, np.inf)
    return dist


def convert_points(frame: pd.DataFrame, crs: str, area: shapely.Geometry, projected_crs: str,
                   where: str, headers: tuple[str, str], problems: list[Problem],
                   cols: tuple[str, str] = ("lon", "lat")) -> pd.DataFrame:
    """Convert a sheet's point columns to WGS84 in place of the originals; flag far points.

    Parameters
    ----------
    frame : pandas.DataFrame
        Sheet rows with ``_row`` and the two coordinate columns (NaN = missing).
    crs : str
        Coordinate system of the sheet.
    area : shapely.Geometry
        Union of the county boundaries (WGS84).
    projected_crs : str
        Metric CRS for the distance.
    where : str
        Workbook and sheet, for problems.
    headers : tuple of str
        Column headers of longitude and latitude, for problems.
    problems : list of Problem
        Appended to.
    cols : tuple of str
        Names of the longitude and latitude columns.

    Returns
    -------
    pandas.DataFrame
        Copy with converted coordinates (far points keep their converted values).

    """
    out = frame.copy()
    lon_raw = pd.to_numeric(out[cols[0]], errors="coerce").to_numpy(float)
    lat_raw = pd.to_numeric(out[cols[1]], errors="coerce").to_numpy(float)
    lon, lat = to_wgs84(lon_raw, lat_raw, crs)
    dist = far_points(lon, lat, area, projected_crs)
    for i in np.flatnonzero(dist > FAR_KM):
        far = "far" if np.isinf(dist[i]) else f"{dist[i]:,.0f} km"
        problems.append(Problem(
            where, str(out["_row"].iloc[i]), f"{headers[0]}/{headers[1]} ({cols[0]}/{cols[1]})",
            f"{lon_raw[i]:g}, {lat_raw[i]:g}",
            f"point lies {far} outside the region: coordinates in another system? (swapped "
            f"longitude/latitude, projected metres, or not {crs}; set --crs)"))
    out[cols[0]], out[cols[1]] = lon, lat
    return out
