"""GCJ-02 ("Mars coordinates") <-> WGS84 and BD-09 (Baidu) <-> GCJ-02, vectorised, exact inverses.

AMap (Gaode) and Tencent maps publish coordinates in GCJ-02, an obfuscated datum offset from
WGS84 by a few hundred metres (about 400-450 m around Guangyuan). The forward transform
WGS84 -> GCJ-02 is the standard public formula (Krasovsky ellipsoid parameters). Its inverse has
no closed form; the usual one-step approximation is off by metres, so :func:`gcj02_to_wgs84`
iterates the fixed point ``w <- w - (F(w) - g)`` until the forward transform of the result
matches the input within ``tol`` degrees (1e-10 deg is about 1e-5 m).

Points outside the rough bounding box of China are returned unchanged, as the formula does.

Baidu maps publish BD-09, a second offset on top of GCJ-02 (about 0.0065 deg east, 0.006 deg
north); :func:`gcj02_to_bd09` is the public formula and :func:`bd09_to_gcj02` its exact iterative
inverse, so BD-09 -> WGS84 is :func:`bd09_to_gcj02` followed by :func:`gcj02_to_wgs84`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

if TYPE_CHECKING:
    import geopandas as gpd
    from numpy.typing import ArrayLike, NDArray

A_KRASOVSKY = 6378245.0
"""Semi-major axis (m) used by the GCJ-02 formula."""
EE_KRASOVSKY = 0.00669342162296594323
"""First eccentricity squared used by the GCJ-02 formula."""


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return True where a point lies outside the box in which GCJ-02 applies.

    Parameters
    ----------
    lon, lat : array_like
        Longitude and latitude in degrees.

    Returns
    -------
    numpy.ndarray of bool

    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _transform_lat(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _offset(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 minus WGS84 offset (degrees) at WGS84 points (zero outside China)."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - EE_KRASOVSKY * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((A_KRASOVSKY * (1.0 - EE_KRASOVSKY)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (A_KRASOVSKY / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS84 longitude/latitude to GCJ-02 (standard public formula).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 degrees; any broadcastable shapes.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude, same shape as the broadcast input.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(105.83, 32.43)
    >>> bool(0.002 < float(lon) - 105.83 < 0.006)
    True

    """
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, float), np.asarray(lat, float))
    dlon, dlat = _offset(lon_a, lat_a)
    return lon_a + dlon, lat_a + dlat


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, tol: float = 1e-10, max_iter: int = 30
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 longitude/latitude to WGS84 with an exact iterative inverse.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 degrees; any broadcastable shapes.
    tol : float, default 1e-10
        Stop when ``wgs84_to_gcj02(result)`` is within ``tol`` degrees of the input in both
        coordinates (1e-10 degrees is about 0.01 mm).
    max_iter : int, default 30
        Iteration limit; the fixed point converges in about 5 iterations in China.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude.

    Raises
    ------
    ValueError
        If the iteration has not converged for some point after ``max_iter`` steps, or an input
        is not finite.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(105.83, 32.43)
    >>> back = gcj02_to_wgs84(lon, lat)
    >>> bool(abs(float(back[0]) - 105.83) < 1e-9 and abs(float(back[1]) - 32.43) < 1e-9)
    True

    """
    g_lon, g_lat = np.broadcast_arrays(np.asarray(lon, float), np.asarray(lat, float))
    if not (np.all(np.isfinite(g_lon)) and np.all(np.isfinite(g_lat))):
        raise ValueError("gcj02_to_wgs84: coordinates must be finite numbers")
    w_lon = g_lon.copy()
    w_lat = g_lat.copy()
    for _ in range(max_iter):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon = f_lon - g_lon
        e_lat = f_lat - g_lat
        if np.all(np.abs(e_lon) <= tol) and np.all(np.abs(e_lat) <= tol):
            return w_lon, w_lat
        w_lon = w_lon - e_lon
        w_lat = w_lat - e_lat
    f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
    worst = float(max(np.max(np.abs(f_lon - g_lon), initial=0.0),
                      np.max(np.abs(f_lat - g_lat), initial=0.0)))
    if worst > tol:
        raise ValueError(
            f"gcj02_to_wgs84 did not converge in {max_iter} iterations (residual {worst:.3g} deg)"
        )
    return w_lon, w_lat


def _coords_func(func):
    def apply(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        if len(xy) == 0:
            return xy
        x, y = func(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return apply


def geometry_gcj02_to_wgs84(geom: shapely.Geometry | ArrayLike) -> shapely.Geometry | NDArray:
    """Convert a shapely geometry (or array of geometries) from GCJ-02 to WGS84.

    Parameters
    ----------
    geom : shapely.Geometry or array_like of geometries
        Geometry or geometries to convert (coordinates are longitude, latitude).

    Returns
    -------
    shapely.Geometry or numpy.ndarray of geometries

    """
    return shapely.transform(geom, _coords_func(gcj02_to_wgs84))


def geometry_wgs84_to_gcj02(geom: shapely.Geometry | ArrayLike) -> shapely.Geometry | NDArray:
    """Convert a shapely geometry (or array of geometries) from WGS84 to GCJ-02.

    Use this only for drawing over GCJ-02 tiles (AMap/Gaode), never for distances.

    Parameters
    ----------
    geom : shapely.Geometry or array_like of geometries
        Geometry or geometries to convert (coordinates are longitude, latitude).

    Returns
    -------
    shapely.Geometry or numpy.ndarray of geometries

    """
    return shapely.transform(geom, _coords_func(wgs84_to_gcj02))


def gdf_gcj02_to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of a GeoDataFrame in GCJ-02 degrees converted to WGS84 (EPSG:4326).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Geometries in GCJ-02 longitude/latitude (its CRS, if any, is usually mislabelled 4326).

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows and columns, geometry in WGS84, CRS set to EPSG:4326.

    """
    out = gdf.copy()
    geoms = geometry_gcj02_to_wgs84(np.asarray(gdf.geometry.values))
    return out.set_geometry(list(geoms), crs="EPSG:4326")


def gdf_wgs84_to_gcj02(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of a WGS84 GeoDataFrame shifted to GCJ-02 (for AMap tiles only).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Geometries in WGS84 longitude/latitude.

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows and columns, geometry in GCJ-02 degrees (CRS kept as EPSG:4326 because no EPSG
        code exists for GCJ-02).

    """
    out = gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf.copy()
    geoms = geometry_wgs84_to_gcj02(np.asarray(out.geometry.values))
    return out.set_geometry(list(geoms), crs="EPSG:4326")


# --------------------------------------------------------------------------- BD-09 (Baidu)
BD09_X_PI = np.pi * 3000.0 / 180.0
"""Angle factor of the public BD-09 formula."""


def gcj02_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu), the standard public formula.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 degrees; any broadcastable shapes.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitude and latitude (about 0.0065 / 0.006 degrees east / north of GCJ-02).

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(105.83, 32.43)
    >>> bool(0.006 < float(lon) - 105.83 < 0.007 and 0.005 < float(lat) - 32.43 < 0.008)
    True

    """
    x, y = np.broadcast_arrays(np.asarray(lon, float), np.asarray(lat, float))
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * BD09_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * BD09_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike, tol: float = 1e-10, max_iter: int = 30
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert BD-09 longitude/latitude to GCJ-02 with an exact iterative inverse.

    The usual closed-form inverse is off by up to a metre; this starts from it and iterates the
    fixed point ``g <- g - (F(g) - b)`` until :func:`gcj02_to_bd09` of the result matches the input
    within ``tol`` degrees.

    Parameters
    ----------
    lon, lat : array_like
        BD-09 degrees; any broadcastable shapes.
    tol : float, default 1e-10
        Convergence tolerance in degrees.
    max_iter : int, default 30
        Iteration limit.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude.

    Raises
    ------
    ValueError
        If an input is not finite or the iteration does not converge.

    Examples
    --------
    >>> b = gcj02_to_bd09(105.83, 32.43)
    >>> g = bd09_to_gcj02(*b)
    >>> bool(abs(float(g[0]) - 105.83) < 1e-9 and abs(float(g[1]) - 32.43) < 1e-9)
    True

    """
    b_lon, b_lat = np.broadcast_arrays(np.asarray(lon, float), np.asarray(lat, float))
    if not (np.all(np.isfinite(b_lon)) and np.all(np.isfinite(b_lat))):
        raise ValueError("bd09_to_gcj02: coordinates must be finite numbers")
    x, y = b_lon - 0.0065, b_lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * BD09_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * BD09_X_PI)
    g_lon, g_lat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(max_iter):
        f_lon, f_lat = gcj02_to_bd09(g_lon, g_lat)
        e_lon, e_lat = f_lon - b_lon, f_lat - b_lat
        if np.all(np.abs(e_lon) <= tol) and np.all(np.abs(e_lat) <= tol):
            return g_lon, g_lat
        g_lon, g_lat = g_lon - e_lon, g_lat - e_lat
    raise ValueError(f"bd09_to_gcj02 did not converge in {max_iter} iterations")


def bd09_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert BD-09 (Baidu) longitude/latitude to WGS84 (BD-09 -> GCJ-02 -> WGS84, both exact).

    Examples
    --------
    >>> b = wgs84_to_bd09(105.83, 32.43)
    >>> w = bd09_to_wgs84(*b)
    >>> bool(abs(float(w[0]) - 105.83) < 1e-9 and abs(float(w[1]) - 32.43) < 1e-9)
    True

    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS84 longitude/latitude to BD-09 (Baidu): WGS84 -> GCJ-02 -> BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
