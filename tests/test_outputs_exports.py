"""Workbook, CSV, GeoPackage and manifest exports (SYNTHETIC plan fixtures)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from synthetic_plan import synthetic_plan, synthetic_region, synthetic_years_series

from layout.outputs.excel import write_csvs, write_workbook
from layout.outputs.gpkg import write_geopackage
from layout.outputs.manifest import write_manifest
from schoolsystem.schemas import COLUMNS
from schoolsystem.vocabulary import LEVELS

FORMULAS = ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", "=HYPERLINK(\"http://x\",\"y\")",
            "<img src=x onerror=alert(1)>", "${alert(1)}"]  # fmt: skip
SHEETS = ["推荐布局", "分配汇总", "指标", "项目清单", "未满足需求", "求解记录", "情景参数", "数据字典"]


@pytest.fixture(scope="module")
def region():
    return synthetic_region(n_counties=2, townships_per_side=4)


@pytest.fixture(scope="module")
def plan(region):
    return synthetic_plan(n_schools=30, n_villages=40, townships=region[1], names=FORMULAS, seed=7)


@pytest.fixture(scope="module")
def workbook(plan, tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "layout.xlsx"
    params = {"seed": 7, "note": "=cmd|' /C calc'!A0", "layout": {"caps": [30, 45], "k": 2}}
    write_workbook(plan, params, path)
    return openpyxl.load_workbook(path)


def test_workbook_sheets_and_headers(workbook, plan):
    assert workbook.sheetnames == SHEETS
    ws = workbook["推荐布局"]
    assert ws.freeze_panes == "A3"
    idents = [c.value for c in ws[2]]
    # a Chinese label column right after each code column (level, school type, site class, action)
    labels = {"level": "level_label", "school_type": "school_type_label",
              "site_class": "site_class_label", "action": "action_label"}
    assert idents == [x for c in plan.schools.columns for x in (c, labels.get(c)) if x]
    assert [c.value for c in ws[1]] == [
        COLUMNS[i].label_zh for i in idents]
    assert ws.max_row == len(plan.schools) + 2
    assert ws.column_dimensions["B"].width >= 8


def test_user_strings_are_text_not_formulas(workbook, plan):
    ws = workbook["推荐布局"]
    col = [c.value for c in ws[2]].index("name") + 1
    for i, name in enumerate(plan.schools["name"], start=3):
        cell = ws.cell(i, col)
        assert cell.data_type == "s", (name, cell.data_type)
        assert cell.value == name
    for name in FORMULAS[:5]:
        row = 3 + list(plan.schools["name"]).index(name)
        assert ws.cell(row, col).quotePrefix
    params = workbook["情景参数"]
    values = {params.cell(r, 1).value: params.cell(r, 2) for r in range(3, params.max_row + 1)}
    assert values["note"].data_type == "s"
    assert values["note"].value == "=cmd|' /C calc'!A0"
    assert values["layout.caps"].value == "[30, 45]"
    assert values["seed"].value == 7


def test_summary_and_dictionary_sheets(workbook, plan):
    ws = workbook["分配汇总"]
    heads = [c.value for c in ws[2]]
    rows = pd.DataFrame([[c.value for c in r] for r in ws.iter_rows(min_row=3)], columns=heads)
    expected = plan.assignments.groupby("school_id")["students"].sum()
    got = rows.groupby("school_id")["students"].sum()
    assert got.reindex(expected.index).to_numpy() == pytest.approx(expected.to_numpy())
    assert len(rows) == len(plan.schools)
    dic = workbook["数据字典"]
    idents = {dic.cell(r, 2).value for r in range(3, dic.max_row + 1)}
    assert set(plan.schools.columns) <= idents


def test_csvs_have_bom_and_round_trip(plan, tmp_path):
    files = write_csvs(plan, tmp_path)
    assert {f.name for f in files} >= {"schools.csv", "assignments.csv", "kpis.csv",
                                       "projects.csv", "data_dictionary.csv"}  # fmt: skip
    for f in files:
        assert f.read_bytes().startswith(b"\xef\xbb\xbf"), f
    back = pd.read_csv(tmp_path / "schools.csv", encoding="utf-8-sig", dtype={"merge_into": str},
                       keep_default_na=False)  # fmt: skip
    # formula-like names get the OWASP quote prefix; every other name round-trips exactly
    expected = ["'" + n if n[0] in "=+-@\t\r" else n for n in plan.schools["name"]]
    assert list(back["name"]) == expected
    assert list(back.columns) == list(plan.schools.columns)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f.name for f in files)


def test_geopackage_layers_and_geometry(plan, region, tmp_path):
    _counties, townships = region
    villages = pd.DataFrame({"village_id": [f"V{i:06d}" for i in range(40)],
                             "name": [f"合成村{i}" for i in range(40)]})  # fmt: skip
    path = write_geopackage(plan, townships, villages, tmp_path / "layout.gpkg",
                            years_series=synthetic_years_series(townships))  # fmt: skip
    layers = {row[0]: row[1] for row in pyogrio.list_layers(path)}
    assert set(layers) == {"schools", "demand_points", "assignments", "townships"}
    counts = {n: pyogrio.read_info(path, layer=n)["features"] for n in layers}
    assert counts == {"schools": len(plan.schools), "demand_points": 40,
                      "assignments": len(plan.assignments), "townships": len(townships)}  # fmt: skip
    asg = pyogrio.read_dataframe(path, layer="assignments")
    coords = shapely.get_coordinates(asg.geometry.to_numpy()).reshape(-1, 2, 2)
    assert np.allclose(coords[:, 0, 0], plan.assignments["lon"].to_numpy())
    pos = plan.schools.set_index(["school_id", "level"])[["lon", "lat"]]
    target = pos.reindex(pd.MultiIndex.from_arrays([asg["school_id"], asg["level"]])).to_numpy()
    assert np.allclose(coords[:, 1, :], target)
    schools = pyogrio.read_dataframe(path, layer="schools")
    assert list(schools["name"]) == list(plan.schools["name"])
    assert set(schools["action"]) <= {"keep", "expand", "close", "merge", "convert", "new"}
    dp = pyogrio.read_dataframe(path, layer="demand_points")
    assert dp["name"].str.startswith("合成村").all()
    per_level = dp[[f"students_{lv}" for lv in LEVELS]].sum().sum()
    assert per_level == plan.assignments["students"].sum()
    towns = pyogrio.read_dataframe(path, layer="townships")
    assert towns["pop_change_pct"].notna().all()
    assert [p.name for p in tmp_path.iterdir()] == ["layout.gpkg"]


def test_manifest_records_hashes_and_versions(plan, tmp_path):
    data = tmp_path / "in.csv"
    data.write_bytes(b"a,b\n1,2\n")
    path = write_manifest(tmp_path / "manifest.json", {"scenario": "baseline", "nan": float("nan")},
                          [data], 42, plan.solver_records, {"map": 0.5})  # fmt: skip
    manifest = json.loads(path.read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert manifest["seed"] == 42
    assert manifest["scenario"] == {"scenario": "baseline", "nan": None}
    assert manifest["packages"]["pandas"] == pd.__version__
    assert len(manifest["solver_records"]) == len(plan.solver_records)
    assert manifest["wall_clock"]["timings_s"] == {"map": 0.5}
    assert "timings_s" not in manifest
    assert "created_utc" not in manifest
    assert all("wall_time" not in r for r in manifest["solver_records"])
    assert len(manifest["wall_clock"]["solver_wall_time_s"]) == len(plan.solver_records)


def test_demand_point_at_its_school_gets_no_zero_length_line(plan, region, tmp_path):
    _counties, townships = region
    plan.assignments = plan.assignments.copy()
    first = plan.assignments.iloc[0]
    school = plan.schools[(plan.schools["school_id"] == first["school_id"])
                          & (plan.schools["level"] == first["level"])].iloc[0]
    plan.assignments.loc[plan.assignments.index[0], ["lon", "lat"]] = [school["lon"], school["lat"]]
    path = write_geopackage(plan, townships, None, tmp_path / "layout.gpkg")
    asg = pyogrio.read_dataframe(path, layer="assignments")
    assert len(asg) == len(plan.assignments)  # the row stays
    assert asg.geometry.iloc[0] is None
    assert asg.geometry.dropna().is_valid.all()
    assert (shapely.length(asg.geometry.dropna().to_numpy()) > 0).all()
