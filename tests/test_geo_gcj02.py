import numpy as np
import pytest
import shapely
from pyproj import Geod

from layout.geo.gcj02 import (
    gcj02_to_wgs84,
    geometry_gcj02_to_wgs84,
    geometry_wgs84_to_gcj02,
    out_of_china,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


def _points(n=20000, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(74.0, 134.0, n), rng.uniform(18.5, 53.0, n)


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_offset_magnitude_near_guangyuan():
    lon, lat = 105.83, 32.43
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    d = _metres(lon, lat, g_lon, g_lat)
    assert 300 < d < 600  # reference: roughly 400-450 m here


def test_round_trip_wgs_gcj_wgs_below_1cm():
    lon, lat = _points()
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(_metres(lon, lat, back_lon, back_lat)) < 0.01


def test_round_trip_gcj_wgs_gcj_below_1cm():
    lon, lat = _points(seed=2)
    fwd_lon, fwd_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert np.max(_metres(lon, lat, fwd_lon, fwd_lat)) < 0.01


def test_inverse_is_consistent_with_forward_within_tol():
    lon, lat = _points(seed=3)
    w_lon, w_lat = gcj02_to_wgs84(lon, lat, tol=1e-11)
    f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
    assert np.max(np.abs(f_lon - lon)) <= 1e-11
    assert np.max(np.abs(f_lat - lat)) <= 1e-11
    # the inverse really moves points (not an identity)
    assert np.min(_metres(lon, lat, w_lon, w_lat)) > 1.0


def test_one_step_approximation_is_worse_than_exact():
    lon, lat = _points(seed=4, n=2000)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    f_lon, f_lat = wgs84_to_gcj02(g_lon, g_lat)
    approx_lon, approx_lat = 2 * g_lon - f_lon, 2 * g_lat - f_lat
    exact_lon, exact_lat = gcj02_to_wgs84(g_lon, g_lat)
    err_approx = _metres(lon, lat, approx_lon, approx_lat)
    err_exact = _metres(lon, lat, exact_lon, exact_lat)
    assert err_exact.max() < err_approx.max()


def test_outside_china_unchanged_and_shapes_kept():
    lon = np.array([[0.0, 150.0], [105.0, -70.0]])
    lat = np.array([[51.5, 35.0], [60.0, -30.0]])
    assert out_of_china(lon, lat).all()
    g_lon, _g_lat = wgs84_to_gcj02(lon, lat)
    assert g_lon.shape == (2, 2)
    np.testing.assert_array_equal(g_lon, lon)
    np.testing.assert_array_equal(gcj02_to_wgs84(lon, lat)[1], lat)


def test_non_finite_input_rejected():
    with pytest.raises(ValueError, match="finite"):
        gcj02_to_wgs84([np.nan], [30.0])


def test_geometry_helpers_round_trip():
    poly = shapely.Polygon([(105.8, 32.4), (105.9, 32.4), (105.9, 32.5), (105.8, 32.5)])
    moved = geometry_wgs84_to_gcj02(poly)
    assert not moved.equals_exact(poly, 1e-6)
    back = geometry_gcj02_to_wgs84(moved)
    assert back.equals_exact(poly, 1e-9)
    arr = geometry_gcj02_to_wgs84(np.array([moved, shapely.Point(105.85, 32.45)]))
    assert len(arr) == 2


def test_geodataframe_helpers_keep_rows_and_set_crs():
    import geopandas as gpd

    from layout.geo.gcj02 import gdf_gcj02_to_wgs84, gdf_wgs84_to_gcj02

    gdf = gpd.GeoDataFrame({"id": ["a", "b"]},
                           geometry=[shapely.Point(105.83, 32.43), shapely.Point(106.0, 31.9)],
                           crs="EPSG:4326")
    shifted = gdf_wgs84_to_gcj02(gdf)
    back = gdf_gcj02_to_wgs84(shifted)
    assert list(back["id"]) == ["a", "b"]
    assert back.crs.to_epsg() == 4326
    d = _metres(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(),
                back.geometry.x.to_numpy(), back.geometry.y.to_numpy())
    assert d.max() < 0.01
    assert _metres(gdf.geometry.x.iloc[0], gdf.geometry.y.iloc[0],
                   shifted.geometry.x.iloc[0], shifted.geometry.y.iloc[0]) > 300
