"""Province outputs: prefecture columns, plan subsets, overview map (SYNTHETIC fixtures).

The fixture region is :func:`synthetic_plan.synthetic_region` with its four counties split over
two prefectures (519800 and 519900); the plan is :func:`synthetic_plan.synthetic_plan` on it,
given the staged tables a planner's plan has (timeline, per-year assignments, staged summary).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from synthetic_plan import SYNTHETIC_NOTE, synthetic_plan, synthetic_region, synthetic_years_series

from layout.errors import RegionDataError
from layout.outputs.excel import write_csvs
from layout.outputs.prefectures import subset_plan, with_prefectures
from layout.outputs.province import write_province_outputs
from layout.plan.staged_tables import staged_summary
from layout.region import load_region
from layout.region.prefectures import county_prefectures
from schoolsystem.schemas import KPI_OUTPUT_COLUMNS, TIMELINE_OUTPUT_COLUMNS
from schoolsystem.vocabulary import LEVEL_LABELS_ZH, LEVELS

RENAME = {"519901": "519901", "519902": "519902", "519903": "519801", "519904": "519802"}
"""Counties 3 and 4 of the synthetic region move to prefecture 519800."""
YEARS = [2030, 2035]
TINY = Path(__file__).parent / "fixtures" / "region" / "tiny"


def _two_prefectures() -> tuple[Any, Any]:
    counties, townships = synthetic_region(n_counties=4, townships_per_side=8)
    counties["county_code"] = counties["county_code"].map(RENAME)
    townships["county_code"] = townships["county_code"].map(RENAME)
    townships["township_code"] = townships["county_code"] + townships["township_code"].str[6:]
    counties["prefecture_name"] = np.where(counties["county_code"].str[:4] == "5199", "合成甲市",
                                           "")  # 519800 has no name: falls back to its code
    return counties, townships


def _staged(plan: Any) -> Any:
    """Give a synthetic plan the staged tables (per-county and per-year) of a real plan."""
    s = plan.schools
    for y in YEARS:
        s[f"capacity_{y}"] = s["capacity_after"]
        s[f"enrollment_{y}"] = s["demand_target"]
        s[f"temporary_{y}"] = 0
    plan.milestones = YEARS
    plan.timeline = pd.concat([plan.kpis[["county_code", "level"]].assign(
        year=y, schools_open=3, seats=900, demand_p50=800, demand_p90=880, temporary_seats=0,
        idle_seats=100) for y in YEARS], ignore_index=True)[[
            "year", "county_code", "level", "schools_open", "seats", "demand_p50", "demand_p90",
            "temporary_seats", "idle_seats"]]
    plan.assignments_by_year = pd.concat([plan.assignments.assign(year=y) for y in YEARS],
                                         ignore_index=True)
    plan.unserved = pd.DataFrame({"demand_id": ["V000001", "V000002", "V000003"],
                                  "level": "senior", "grade_band": "senior",
                                  "students": [3.0, 4.0, 5.0], "reason": "合成：超出最长通学时间"})
    plan.unserved_by_year = pd.concat([plan.unserved.assign(year=y) for y in YEARS],
                                      ignore_index=True)
    plan.staged_summary = staged_summary(s, YEARS)
    plan.notes = ["合成：县区 519901 提议初中片区", "合成：全域说明"]
    return plan


@pytest.fixture(scope="module")
def province() -> SimpleNamespace:
    counties, townships = _two_prefectures()
    plan = _staged(synthetic_plan(n_schools=90, n_villages=60, townships=townships, seed=11))
    villages = pd.DataFrame({"village_id": [f"V{i:06d}" for i in range(60)],
                             "county_code": [list(RENAME.values())[i % 4] for i in range(60)]})
    return SimpleNamespace(name="合成省", counties=counties, townships=townships,
                           villages=villages, prefectures=county_prefectures(counties),
                           plan=plan, series=synthetic_years_series(townships))


def _write(province: SimpleNamespace, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    plan = with_prefectures(province.plan, province.prefectures)
    return write_province_outputs(plan, province, out, scenario_params={"seed": 11},
                                  title="学校布局规划 2035 · 合成", years_series=province.series,
                                  note=SYNTHETIC_NOTE, text="SYNTHETIC 合成数据")


@pytest.fixture(scope="module")
def written(province: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province")
    _write(province, out)
    return out


def _calls(html: str, function: str) -> list[list[Any]]:
    """JSON arguments (after the feature group) of every ``SchoolMap.<function>(group, ...)``."""
    decoder, comma, calls = json.JSONDecoder(), re.compile(r"\s*,\s*"), []
    for m in re.finditer(rf"SchoolMap\.{function}\(\s*\w+,\s*", html):
        args, end = [], m.end()
        while True:
            obj, end = decoder.raw_decode(html, end)
            args.append(obj)
            more = comma.match(html, end)
            if more is None:
                break
            end = more.end()
        calls.append(args)
    return calls


def test_prefecture_of_every_county() -> None:
    counties, _ = _two_prefectures()
    pref = county_prefectures(counties)
    assert pref["prefecture_code"].tolist() == ["519900", "519900", "519800", "519800"]
    assert pref["prefecture_name"].tolist() == ["合成甲市", "合成甲市", "519800", "519800"]
    given = counties.assign(prefecture_code=["", "510100", "", ""])  # a given code wins
    assert county_prefectures(given)["prefecture_code"].tolist()[:2] == ["519900", "510100"]


def test_region_reads_optional_prefecture_properties(tmp_path: Path) -> None:
    assert load_region(TINY).prefectures["prefecture_code"].unique().tolist() == ["519900"]
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    data = json.loads((folder / "counties.geojson").read_text(encoding="utf-8"))
    data["features"][1]["properties"] |= {"prefecture_code": "519800",
                                          "prefecture_name": "合成乙州"}
    (folder / "counties.geojson").write_text(json.dumps(data, ensure_ascii=False),
                                             encoding="utf-8")
    pref = load_region(folder).prefectures.set_index("county_code")
    assert pref.loc["519902", "prefecture_code"] == "519800"
    assert pref.loc["519902", "prefecture_name"] == "合成乙州"
    assert pref.loc["519901", "prefecture_code"] == "519900"  # empty property: derived
    data["features"][1]["properties"]["prefecture_code"] = "51/../x"  # a path, not a code
    (folder / "counties.geojson").write_text(json.dumps(data, ensure_ascii=False),
                                             encoding="utf-8")
    with pytest.raises(RegionDataError, match="prefecture_code"):
        load_region(folder)


def test_kpi_and_timeline_tables_carry_the_prefecture(province: SimpleNamespace,
                                                      tmp_path: Path) -> None:
    plan = with_prefectures(province.plan, province.prefectures)
    assert "prefecture_code" not in province.plan.kpis  # the plan itself is left alone
    write_csvs(plan, tmp_path)
    for name, columns in (("kpis", KPI_OUTPUT_COLUMNS), ("timeline", TIMELINE_OUTPUT_COLUMNS)):
        table = pd.read_csv(tmp_path / f"{name}.csv", dtype=str, encoding="utf-8-sig")
        assert tuple(table.columns) == columns, name
        assert (table["prefecture_code"] == table["county_code"].str[:4] + "00").all(), name
        names = table["prefecture_code"].map({"519900": "合成甲市", "519800": "519800"})
        assert (table["prefecture_name"] == names).all(), name
    dictionary = pd.read_csv(tmp_path / "data_dictionary.csv", dtype=str, encoding="utf-8-sig")
    tables = dictionary.set_index("identifier")["tables"]
    assert tables["prefecture_code"] == tables["prefecture_name"] == "kpis, timeline"


def test_subset_keeps_exactly_the_counties_of_its_prefecture(province: SimpleNamespace) -> None:
    plan = province.plan
    demand_counties = province.villages.set_index("village_id")["county_code"]
    parts = {}
    for code, keep in (("519900", {"519901", "519902"}), ("519800", {"519801", "519802"})):
        sub = parts[code] = subset_plan(plan, keep, demand_counties)
        for name in ("schools", "kpis", "projects", "solver_records", "timeline"):
            assert set(getattr(sub, name)["county_code"]) == keep, (code, name)
        owner = sub.schools.drop_duplicates("school_id").set_index("school_id")["county_code"]
        for name in ("assignments", "assignments_by_year"):
            assert getattr(sub, name)["school_id"].map(owner).isin(keep).all(), (code, name)
        for name in ("unserved", "unserved_by_year"):
            assert getattr(sub, name)["demand_id"].map(demand_counties).isin(keep).all()
        assert sub.seats_added_total == int(sub.schools["seats_added"].sum())
        expected = staged_summary(plan.schools[plan.schools["county_code"].isin(keep)], YEARS)
        pd.testing.assert_frame_equal(sub.staged_summary, expected)
    # the two prefectures partition every table
    for name in ("schools", "assignments", "unserved", "kpis", "timeline",
                 "assignments_by_year", "unserved_by_year"):
        assert sum(len(getattr(p, name)) for p in parts.values()) == len(getattr(plan, name))
    assert parts["519800"].notes == ["合成：全域说明"]  # the note on county 519901 stays out
    assert len(plan.schools.columns) == len(parts["519800"].schools.columns)


def test_overview_map_has_a_layer_per_level_and_clickable_prefectures(
        province: SimpleNamespace, written: Path) -> None:
    html = (written / "province_map.html").read_text(encoding="utf-8")
    levels = [lv for lv in LEVELS if lv in set(province.plan.schools["level"])]
    control = re.search(r"base_layers : \{(.*?)\},\s*overlays :", html, re.S)
    assert control is not None
    base = re.findall(r'"([^"]+)" :', control.group(1))
    assert [json.loads(f'"{b}"') for b in base] == [f"学校汇总：{LEVEL_LABELS_ZH[lv]}"
                                                    for lv in levels]
    (geojson, config), = _calls(html, "prefectureLayer")
    props = {f["properties"]["code"]: f["properties"] for f in geojson["features"]}
    assert sorted(props) == ["519800", "519900"]
    for code, p in props.items():
        assert p["map"] == f"prefectures/{code}/map.html"
        assert (written / p["map"]).is_file()
        assert (written / p["book"]).is_file()
        assert [r[0] for r in p["rows"]] == [LEVEL_LABELS_ZH[lv] for lv in levels]
    assert config["heads"][0] == "学段"
    assert "cdn." not in html
    assert "layout-asset:" not in html


def test_aggregates_equal_the_plan_counts(province: SimpleNamespace, written: Path) -> None:
    html = (written / "province_map.html").read_text(encoding="utf-8")
    s = province.plan.schools.assign(pref=province.plan.schools["county_code"].str[:4] + "00")
    closing = s["action"].isin(["close", "merge"])
    expected = s.assign(before=s["action"] != "new", after=~closing, closed=closing,
                        new=s["action"] == "new").groupby(["pref", "level"]).agg(
        before=("before", "sum"), after=("after", "sum"), closed=("closed", "sum"),
        new=("new", "sum"), seats=("seats_added", "sum"))
    got = {}
    for (payload,) in _calls(html, "aggregateLayer"):
        c = {name: i for i, name in enumerate(payload["cols"])}
        for r in payload["rows"]:
            got[(r[c["prefecture_code"]], payload["level"])] = (
                r[c["schools_before"]], r[c["schools_after"]], r[c["closed"]], r[c["new"]],
                r[c["seats_added"]])
    assert got == {k: tuple(int(v) for v in row) for k, row in
                   zip(expected.index, expected.to_numpy(), strict=True)}
    assert len({pref for pref, _ in got}) == 2


def test_prefecture_files_hold_only_their_counties(written: Path) -> None:
    import openpyxl

    for code, counties in (("519900", {"519901", "519902"}), ("519800", {"519801", "519802"})):
        book = openpyxl.load_workbook(written / "prefectures" / code / "layout.xlsx")
        ws = book["指标"]
        header = [c.value for c in ws[2]]
        rows = [dict(zip(header, (c.value for c in r), strict=True))
                for r in ws.iter_rows(min_row=3)]
        assert {r["county_code"] for r in rows} == counties
        assert {r["prefecture_code"] for r in rows} == {code}
        page = (written / "prefectures" / code / "map.html").read_text(encoding="utf-8")
        others = set(RENAME.values()) - counties
        assert all(f'"county_code":"{c}"' in page for c in counties)
        assert not any(f'"county_code":"{c}"' in page for c in others)


def test_province_outputs_are_byte_identical(province: SimpleNamespace, written: Path,
                                             tmp_path: Path) -> None:
    files = _write(province, tmp_path / "again")
    assert files
    names = sorted(str(p.relative_to(written)) for p in written.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(tmp_path / "again")) for p in files)
    assert len(names) == 5  # province_map.html + 2 x (map.html, layout.xlsx)
    differ = [n for n in names if (written / n).read_bytes()
              != (tmp_path / "again" / n).read_bytes()]
    assert differ == []


def test_one_prefecture_writes_no_province_outputs(tmp_path: Path) -> None:
    counties, townships = synthetic_region(n_counties=3, townships_per_side=6)
    plan = synthetic_plan(n_schools=30, n_villages=20, townships=townships, seed=2)
    region = SimpleNamespace(name="合成市", counties=counties, townships=townships,
                             villages=pd.DataFrame({"village_id": [], "county_code": []}),
                             prefectures=county_prefectures(counties))
    files = write_province_outputs(plan, region, tmp_path, scenario_params={})
    assert files == []
    assert list(tmp_path.iterdir()) == []


def test_prefecture_files_made_on_a_cluster_are_the_same(province: SimpleNamespace,
                                                         written: Path, tmp_path: Path) -> None:
    # `--scheduler local`: each prefecture's map and workbook is made on a worker
    from dask.distributed import Client, LocalCluster

    from layout.distributed import executor_for, using

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client, \
            using(executor_for(client)):
        files = _write(province, tmp_path / "cluster")
    names = sorted(str(p.relative_to(tmp_path / "cluster")) for p in files)
    assert names == sorted(str(p.relative_to(written)) for p in written.rglob("*")
                           if p.is_file())
    assert [n for n in names if (written / n).read_bytes()
            != (tmp_path / "cluster" / n).read_bytes()] == []
