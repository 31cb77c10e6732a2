"""The outputs accept a real LayoutPlan (layout.plan on a small SYNTHETIC toy county)."""

from __future__ import annotations

import json

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely

plan_mod = pytest.importorskip("layout.plan")
toy = pytest.importorskip("toy_region")

from layout.outputs.assets import remote_asset_refs  # noqa: E402
from layout.outputs.excel import write_csvs, write_workbook  # noqa: E402
from layout.outputs.gpkg import write_geopackage  # noqa: E402
from layout.outputs.manifest import write_manifest  # noqa: E402
from layout.outputs.maps import build_map, render_html  # noqa: E402

C = "510802"
SEAT, T2 = "510802001", "510802002"


@pytest.fixture(scope="module")
def real():
    region = toy.make_region(
        [{"township_code": SEAT, "county_code": C, "is_county_seat": True, "urban": True},
         {"township_code": T2, "county_code": C}],
        [{"village_id": "V1", "township_code": SEAT, "x_km": 0, "y_km": 0, "urban": True},
         {"village_id": "V2", "township_code": T2, "x_km": 30, "y_km": 0, "urban": False}],
        [{"school_id": "H1", "school_type": "senior", "township_code": SEAT, "x_km": 0.5,
          "y_km": 0.2, "capacity": 500, "enrollment": {"senior": 450}, "name": "=H1 <b>高中</b>"},
         {"school_id": "H2", "school_type": "senior", "township_code": T2, "x_km": 30,
          "y_km": 0.2, "capacity": 500, "enrollment": {"senior": 300}, "name": "${x}高中"}],
    )  # fmt: skip
    demand = toy.demand_table([("V1", "senior", 450), ("V2", "senior", 300)])
    plan = plan_mod.plan_layout(region, demand, target_year=2030, time_limit=30, threads=1, seed=0)
    v = region.villages
    boxes = [shapely.box(lo - 0.2, la - 0.2, lo + 0.2, la + 0.2) for lo, la in zip(v["lon"], v["lat"], strict=True)]
    townships = gpd.GeoDataFrame({"township_code": [SEAT, T2], "name": ["城区", "二镇"],
                                  "county_code": [C, C]}, geometry=boxes, crs="EPSG:4326")  # fmt: skip
    counties = townships.dissolve("county_code", as_index=False)
    return plan, townships, counties, v


def test_real_plan_through_every_writer(real, tmp_path):
    plan, townships, counties, villages = real
    assert set(plan.schools["action"]) >= {"merge"}
    html = render_html(build_map(plan, townships, counties))
    assert remote_asset_refs(html) == []
    assert "=H1 <b>" not in html
    assert "${x}" not in html
    write_workbook(plan, plan.params, tmp_path / "layout.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "layout.xlsx")["推荐布局"]
    names = {ws.cell(r, 2).value: ws.cell(r, 2).data_type for r in range(3, ws.max_row + 1)}
    assert names["=H1 <b>高中</b>"] == "s"
    write_csvs(plan, tmp_path / "csv")
    gpkg = write_geopackage(plan, townships, villages, tmp_path / "layout.gpkg")
    assert pyogrio.read_info(gpkg, layer="assignments")["features"] == len(plan.assignments)
    man = write_manifest(tmp_path / "manifest.json", plan.params, [], 0, plan.solver_records, {})
    assert json.loads(man.read_text(encoding="utf-8"))["solver_records"]
