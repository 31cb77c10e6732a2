"""Geographic helpers: coordinate systems (GCJ-02 <-> WGS84) and projected areas."""

from layout.geo.gcj02 import (
    gcj02_to_wgs84,
    gdf_gcj02_to_wgs84,
    gdf_wgs84_to_gcj02,
    geometry_gcj02_to_wgs84,
    geometry_wgs84_to_gcj02,
    out_of_china,
    wgs84_to_gcj02,
)

__all__ = [
    "gcj02_to_wgs84",
    "gdf_gcj02_to_wgs84",
    "gdf_wgs84_to_gcj02",
    "geometry_gcj02_to_wgs84",
    "geometry_wgs84_to_gcj02",
    "out_of_china",
    "wgs84_to_gcj02",
]
