"""End-to-end: `schoolplan run / forecast / compare` on the small SYNTHETIC fixture region."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from layout.cli import app

FIX = Path(__file__).parent / "fixtures"
TINY_SCENARIO = FIX / "scenarios" / "tiny.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "tiny"
    res = runner.invoke(app, ["run", "-s", str(TINY_SCENARIO), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert "seats added city-wide" in res.output
    return out


def test_run_writes_every_output(tiny_run: Path) -> None:
    for name in ("map.html", "layout.xlsx", "layout.gpkg", "manifest.json", "schools.csv",
                 "assignments.csv", "kpis.csv", "projects.csv", "solver_records.csv"):
        assert (tiny_run / name).stat().st_size > 0, name
    assert (tiny_run / "forecast" / "forecast_township_demand.csv").is_file()
    assert any((tiny_run / "forecast" / "plots").glob("fan_*.png"))
    # no temp litter left by the atomic writers
    assert not [p for p in tiny_run.rglob("*") if ".tmp" in p.name]
    # one prefecture (519900): no province overview, no per-prefecture files
    assert not (tiny_run / "province_map.html").exists()
    assert not (tiny_run / "prefectures").exists()
    kpis = pd.read_csv(tiny_run / "kpis.csv", dtype=str, encoding="utf-8-sig")
    assert list(kpis.columns[:3]) == ["prefecture_code", "prefecture_name", "county_code"]
    assert set(kpis["prefecture_code"]) == {"519900"}


def test_run_outputs_are_consistent(tiny_run: Path) -> None:
    schools = pd.read_csv(tiny_run / "schools.csv", dtype={"school_id": str, "merge_into": str},
                          encoding="utf-8-sig")
    assert set(schools["action"]) <= {"keep", "expand", "close", "merge", "convert", "new"}
    merged = schools[schools["action"].isin(["close", "merge"]) & schools["merge_into"].notna()]
    assert set(merged["merge_into"]) <= set(schools["school_id"])
    wb = openpyxl.load_workbook(tiny_run / "layout.xlsx")
    assert {"推荐布局", "指标", "项目清单", "情景参数"} <= set(wb.sheetnames)
    layers = {name for name, _ in pyogrio.list_layers(tiny_run / "layout.gpkg")}
    assert {"schools", "assignments", "townships"} <= layers
    manifest = json.loads((tiny_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 7
    assert any(i["path"].endswith("schools.csv") for i in manifest["inputs"])
    assert {"forecast", "plan", "outputs"} <= set(manifest["wall_clock"]["timings_s"])


def test_run_is_deterministic(tiny_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    res = runner.invoke(app, ["run", "-s", str(TINY_SCENARIO), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    files = sorted(str(p.relative_to(tiny_run)) for p in tiny_run.rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert {"map.html", "layout.xlsx", "layout.gpkg", "schools.csv"} <= set(files)
    # every file byte-identical (map ids, workbook and GeoPackage dates fixed) but the manifest,
    # which may differ only in its wall-clock record
    differ = [f for f in files if (out / f).read_bytes() != (tiny_run / f).read_bytes()]
    assert differ in ([], ["manifest.json"]), differ
    one, two = (json.loads((d / "manifest.json").read_text(encoding="utf-8")) for d in (out, tiny_run))
    one.pop("wall_clock"), two.pop("wall_clock")
    assert one == two


def test_compare_marks_robust_decisions(tiny_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(tiny_run, other)
    schools = pd.read_csv(other / "schools.csv", dtype=str, encoding="utf-8-sig",
                          keep_default_na=False)
    flip = schools.index[0]
    schools.loc[flip, "action"] = "close" if schools.loc[flip, "action"] != "close" else "keep"
    schools.to_csv(other / "schools.csv", index=False, encoding="utf-8-sig")
    res = runner.invoke(app, ["compare", str(tiny_run), str(other), "-o", str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv", dtype=str, encoding="utf-8-sig")
    assert (table["robust"] == "False").sum() == 1
    assert (tmp_path / "cmp" / "comparison_map.html").is_file()


def test_forecast_command_prints_levels(tmp_path: Path) -> None:
    res = runner.invoke(app, ["forecast", "-s", str(TINY_SCENARIO), "-o", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.output
    assert "junior" in res.output
    assert "kindergarten" in res.output
    assert (tmp_path / "forecast" / "backtest_table.csv").is_file()


@pytest.mark.parametrize("cmd", [[], ["run"], ["forecast"], ["optimize"], ["compare"],
                                 ["data", "check"]])
def test_help_on_every_command(cmd: list[str]) -> None:
    res = runner.invoke(app, [*cmd, "--help"])
    assert res.exit_code == 0
    assert "Usage" in res.output


def test_bad_scenario_key_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlayout:\n  colour: red\n", encoding="utf-8")
    res = runner.invoke(app, ["run", "-s", str(bad), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "layout.colour: unknown key" in res.output
    assert str(bad) in res.output
    assert "Traceback" not in res.output


def test_impossible_scenario_value_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nforecast:\n  urbanisation: {target: 1.3}\n", encoding="utf-8")
    res = runner.invoke(app, ["forecast", "-s", str(bad), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "forecast.urbanisation.target" in res.output


def test_missing_scenario_file_exits_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", "-s", str(tmp_path / "nope.yaml"), "-o", str(tmp_path)])
    assert res.exit_code == 2
    assert "nope.yaml" in res.output
    assert "Traceback" not in res.output


def test_bad_region_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    region = tmp_path / "region"
    shutil.copytree(FIX / "region" / "tiny", region)
    p = region / "schools.csv"
    p.write_text(p.read_text(encoding="utf-8").replace(",public,900,", ",public,-900,"),
                 encoding="utf-8")
    out = tmp_path / "o"
    res = runner.invoke(app, ["run", "-s", str(TINY_SCENARIO), "-o", str(out),
                              "--region", str(region)])
    assert res.exit_code == 2
    assert "schools.csv" in res.output
    assert "capacity" in res.output
    assert "-900" in res.output
    assert not (out / "map.html").exists()


def test_compare_needs_run_folders(tmp_path: Path) -> None:
    res = runner.invoke(app, ["compare", str(tmp_path), str(tmp_path)])
    assert res.exit_code == 2
    assert "schools.csv" in res.output


def test_synthetic_inputs_are_labelled_in_every_handover_file(tiny_run: Path) -> None:
    wb = openpyxl.load_workbook(tiny_run / "layout.xlsx")
    assert wb.sheetnames[0] == "说明"
    assert "SYNTHETIC" in wb["说明"]["A1"].value
    meta = pyogrio.read_info(tiny_run / "layout.gpkg", layer="schools")["layer_metadata"]
    assert "SYNTHETIC" in meta["NOTE"]
    assert "SYNTHETIC" in (tiny_run / "README.txt").read_text(encoding="utf-8")
    manifest = json.loads((tiny_run / "manifest.json").read_text(encoding="utf-8"))
    assert "schools" in manifest["region"]["synthetic_layers"]
    assert "SYNTHETIC" in (tiny_run / "map.html").read_text(encoding="utf-8")


def test_default_run_is_staged_over_the_default_milestones(tiny_run: Path) -> None:
    """The default scenario plans the milestones 2025/2027/2030/2035 (and its target year)."""
    timeline = pd.read_csv(tiny_run / "timeline.csv", encoding="utf-8-sig")
    assert sorted(timeline["year"].unique()) == [2025, 2027, 2028, 2030, 2035]
    assert (tiny_run / "report.html").stat().st_size > 0


def test_milestones_outside_the_forecast_are_left_out_and_named() -> None:
    from types import SimpleNamespace

    from layout.pipeline import _milestones_of, milestone_years
    from layout.scenario import load_scenario

    sc = load_scenario(TINY_SCENARIO)
    assert milestone_years(sc) == [2025, 2027, 2028, 2030, 2035]
    outlook = SimpleNamespace(base_year=2026, village_demand=pd.DataFrame(
        {"year": [2026, 2027, 2028, 2029, 2030]}))
    assert _milestones_of(sc, outlook) == ([2027, 2028, 2030], [2025, 2035])  # type: ignore[arg-type]
    one_year = dataclasses.replace(sc, layout=sc.layout.model_copy(update={"milestones": []}))
    assert milestone_years(one_year) == []
