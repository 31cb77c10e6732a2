"""Townships partition the real counties; every point lies in its township."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from layout.synth.generate import EMBEDDED

IDS = {"village_id": str, "township_code": str, "school_id": str, "site_id": str}


@pytest.fixture(scope="module")
def layers():
    t = gpd.read_file(EMBEDDED / "townships.geojson")
    c = gpd.read_file(EMBEDDED / "counties.geojson")
    pts = {n: pd.read_csv(EMBEDDED / f"{n}.csv", comment="#", dtype=IDS)
           for n in ("villages", "schools", "candidate_sites")}
    return t, c, pts


def test_townships_valid_polygons(layers):
    t, _, _ = layers
    assert t.is_valid.all()
    assert (~t.is_empty).all()
    assert set(t.geom_type) <= {"Polygon", "MultiPolygon"}
    assert (t.geom_type == "Polygon").mean() > 0.95


def test_townships_partition_counties(layers):
    t, c, _ = layers
    tp, cp = t.to_crs(4544), c.to_crs(4544).set_index("county_code")
    union = tp.dissolve("county_code").area
    ratio = union / cp.area.reindex(union.index)
    assert ((ratio - 1).abs() < 0.005).all()
    total = tp.area.sum()
    assert abs(total / shapely.union_all(tp.geometry.values).area - 1) < 1e-4  # no overlaps
    for code, grp in tp.groupby("county_code"):
        outside = shapely.difference(shapely.union_all(grp.geometry.values),
                                     cp.geometry[code]).area
        assert outside < 1e4, code  # < 0.01 km² outside the county


def test_points_inside_their_townships(layers):
    t, _, pts = layers
    poly = t.set_index("township_code").geometry
    for name, df in pts.items():
        geoms = poly.reindex(df["township_code"]).to_numpy()
        inside = shapely.contains_xy(geoms, df["lon"].to_numpy(), df["lat"].to_numpy())
        assert inside.all(), (name, df.loc[~inside].iloc[:3].to_dict("records"))


def test_seat_anchor_in_seat_township(layers):
    t, _, _ = layers
    anchors = {"510802": (105.83, 32.43), "510824": (105.93, 31.73), "510823": (105.52, 32.28)}
    for code, (lon, lat) in anchors.items():
        hit = t.loc[t.contains(shapely.Point(lon, lat))]
        assert hit["county_code"].iloc[0] == code
        assert bool(hit["is_county_seat"].iloc[0])
