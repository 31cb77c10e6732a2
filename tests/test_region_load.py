"""Loading tests: typed Region, encodings, GeoPackage format, embedded path, embedded data."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

import layout
from layout.region import ENV_VAR, Region, embedded_region_path, load_region
from layout.region.schema import LAYERS

TINY = Path(__file__).parent / "fixtures" / "region" / "tiny"
TABLES = ("children", "women", "enrollment", "births", "urbanisation", "township_history")
GEO = ("counties", "city", "townships", "villages", "schools", "candidate_sites")


@pytest.fixture
def region_dir(tmp_path: Path) -> Path:
    dest = tmp_path / "tiny"
    shutil.copytree(TINY, dest)
    return dest


def assert_same_region(a: Region, b: Region) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    for name in GEO:
        left, right = getattr(a, name), getattr(b, name)
        right = right[list(left.columns)]
        pd.testing.assert_frame_equal(
            pd.DataFrame(left.drop(columns="geometry")),
            pd.DataFrame(right.drop(columns="geometry")),
        )
        assert left.geometry.geom_equals_exact(right.geometry, tolerance=1e-9).all(), name
        assert left.crs == right.crs == "EPSG:4326"


def test_region_types() -> None:
    region = load_region(TINY)
    assert region.base_year == 2023
    assert region.projected_crs == "EPSG:4544"
    assert region.code == "519900"
    assert region.is_synthetic
    for name in GEO:
        assert isinstance(getattr(region, name), gpd.GeoDataFrame)
    assert pd.api.types.is_string_dtype(region.villages["village_id"])
    assert pd.api.types.is_string_dtype(region.children["village_id"])
    assert region.children["persons"].dtype == "int64"
    assert region.urbanisation["urban_share"].dtype == "float64"
    assert region.townships["is_county_seat"].dtype == bool
    assert region.villages["lon"].dtype == "float64"
    # county_code joined through the township
    assert (region.villages["county_code"] == region.villages["township_code"].str[:6]).all()
    assert (region.schools["county_code"] == region.schools["township_code"].str[:6]).all()
    nine = region.school_levels[region.school_levels["school_id"] == "5199010003"]
    assert nine["level"].tolist() == ["primary", "junior"]
    assert len(region.school_levels) == region.schools["levels"].str.count(";").sum() + len(
        region.schools
    )


def test_leading_zeros_and_chinese_booleans(region_dir: Path) -> None:
    path = region_dir / "candidate_sites.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("S519901002", "007"), encoding="utf-8")
    path = region_dir / "villages.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(",true,", ",是,").replace(",false,", ",否,"), encoding="utf-8")
    region = load_region(region_dir)
    assert "007" in region.candidate_sites["site_id"].tolist()
    expected = load_region(TINY).villages["urban"]
    pd.testing.assert_series_equal(region.villages["urban"], expected)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_csv_encodings_load_identically(region_dir: Path, encoding: str) -> None:
    for name in ("villages.csv", "schools.csv", "candidate_sites.csv"):
        text = (region_dir / name).read_text(encoding="utf-8")
        (region_dir / name).write_bytes(text.replace("\n", "\r\n").encode(encoding))
    region = load_region(region_dir)
    assert region.encodings["villages"] == {"gbk": "gb18030"}.get(
        encoding, encoding
    )  # GB18030 ⊃ GBK
    assert_same_region(region, load_region(TINY))
    assert region.schools["name"].str.contains("幼儿园").any()


def write_gpkg(region: Region, path: Path, layers: tuple[str, ...] = GEO + TABLES) -> None:
    for name in layers:
        frame = getattr(region, name)
        if LAYERS[name].geometry == "point":
            frame = frame.drop(columns=["lon", "lat", "county_code"])
        if isinstance(frame, gpd.GeoDataFrame):
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG")
        else:
            pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=name, driver="GPKG")


def test_geopackage_gives_same_region(tmp_path: Path) -> None:
    tiny = load_region(TINY)
    folder = tmp_path / "gpkg"
    folder.mkdir()
    shutil.copy(TINY / "region.yaml", folder / "region.yaml")
    write_gpkg(tiny, folder / "region.gpkg")
    assert sorted(p.name for p in folder.iterdir()) == ["region.gpkg", "region.yaml"]
    assert_same_region(load_region(folder), tiny)


def test_geopackage_wins_over_files(region_dir: Path) -> None:
    tiny = load_region(TINY)
    schools = tiny.schools.copy()
    schools.loc[0, "name"] = "来自GPKG的学校"
    write_gpkg(
        dataclasses.replace(tiny, schools=schools), region_dir / "region.gpkg", ("schools",)
    )
    region = load_region(region_dir)
    assert region.schools.loc[0, "name"] == "来自GPKG的学校"
    assert region.villages["name"].tolist() == tiny.villages["name"].tolist()


def test_geopackage_problems_name_the_layer(tmp_path: Path) -> None:
    tiny = load_region(TINY)
    schools = tiny.schools.copy()
    schools["capacity"] = schools["capacity"].astype(object)
    schools.loc[2, "capacity"] = -5
    folder = tmp_path / "gpkg"
    shutil.copytree(TINY, folder)
    write_gpkg(
        dataclasses.replace(tiny, schools=schools), folder / "region.gpkg", ("schools",)
    )
    with pytest.raises(layout.errors.RegionDataError) as info:
        load_region(folder)
    (p,) = info.value.problems
    assert (p.file, p.row, p.column, p.value) == (
        "region.gpkg:schools",
        schools.loc[2, "school_id"],
        "capacity",
        "-5",
    )


def test_embedded_path_default_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    default = embedded_region_path()
    assert default == Path(layout.__file__).resolve().parents[1] / "data" / "geo" / "guangyuan"
    monkeypatch.setenv(ENV_VAR, str(TINY))
    assert embedded_region_path() == TINY
    assert load_region().code == "519900"


EMBEDDED = Path(layout.__file__).resolve().parents[1] / "data" / "geo" / "guangyuan"


@pytest.mark.skipif(
    not (EMBEDDED / "villages.csv").is_file(), reason="embedded region not generated yet"
)
def test_embedded_region_valid_and_plausible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    region = load_region()
    assert region.code == "510800"
    assert region.base_year == 2023
    assert sorted(region.counties["county_code"]) == [
        "510802",
        "510811",
        "510812",
        "510821",
        "510822",
        "510823",
        "510824",
    ]
    assert 1_000 <= len(region.villages) <= 6_000
    assert 100 <= len(region.townships) <= 400
    residents = region.villages["population"].sum()
    assert 1_800_000 <= residents <= 2_800_000
    assert len(region.children) == 18 * len(region.villages)
    assert set(region.enrollment["year"]) == set(range(2019, 2024))
    levels = region.school_levels["level"].value_counts()
    assert levels["senior"] >= 10
    assert levels["primary"] >= 100
