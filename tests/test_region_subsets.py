"""A county planning on its own: a one-county region, and a region without a vocational school,
pass ``data check`` and run end to end (the tiny SYNTHETIC fixture cut down)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from layout.cli import app

FIX = Path(__file__).parent / "fixtures"
TINY = FIX / "region" / "tiny"
HEADER = "# SYNTHETIC hand-made test fixture; no figure describes a real place\n"
runner = CliRunner()


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, comment="#", dtype=str, keep_default_na=False)


def _write(folder: Path, name: str, frame: pd.DataFrame) -> None:
    (folder / name).write_text(HEADER + frame.to_csv(index=False), encoding="utf-8")


def _keep_geojson(folder: Path, name: str, key: str, keep: set[str]) -> None:
    data = json.loads((folder / name).read_text(encoding="utf-8"))
    data["features"] = [f for f in data["features"] if str(f["properties"][key]) in keep]
    (folder / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _one_county(dst: Path) -> str:
    shutil.copytree(TINY, dst)
    counties = _read(dst, "births.csv")["county_code"].unique()
    assert len(counties) >= 2, "the fixture must have several counties for this test"
    county = sorted(counties)[0]
    towns = {t for t in _read(dst, "township_history.csv")["township_code"] if t[:6] == county}
    _keep_geojson(dst, "counties.geojson", "county_code", {county})
    _keep_geojson(dst, "townships.geojson", "township_code", towns)
    for name, col in (("births.csv", "county_code"), ("urbanisation.csv", "county_code")):
        f = _read(dst, name)
        _write(dst, name, f[f[col] == county])
    for name in ("township_history.csv", "villages.csv", "schools.csv", "candidate_sites.csv"):
        f = _read(dst, name)
        _write(dst, name, f[f["township_code"].isin(towns)])
    villages = set(_read(dst, "villages.csv")["village_id"])
    for name in ("children.csv", "women.csv"):
        f = _read(dst, name)
        _write(dst, name, f[f["village_id"].isin(villages)])
    schools = set(_read(dst, "schools.csv")["school_id"])
    f = _read(dst, "enrollment.csv")
    _write(dst, "enrollment.csv", f[f["school_id"].isin(schools)])
    return county


def _run(region: Path, out: Path) -> None:
    check = runner.invoke(app, ["data", "check", str(region)])
    assert check.exit_code == 0, check.output
    res = runner.invoke(app, ["run", "-s", str(FIX / "scenarios" / "tiny.yaml"), "-r",
                              str(region), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output


def test_a_single_county_region_checks_and_runs(tmp_path: Path) -> None:
    county = _one_county(tmp_path / "one")
    _run(tmp_path / "one", tmp_path / "out")
    schools = pd.read_csv(tmp_path / "out" / "schools.csv", dtype=str, encoding="utf-8-sig")
    assert set(schools["county_code"]) == {county}
    records = pd.read_csv(tmp_path / "out" / "solver_records.csv", encoding="utf-8-sig")
    assert "failed" not in set(records["status"])
    coverage = pd.read_csv(tmp_path / "out" / "forecast" / "backtest_coverage.csv",
                           encoding="utf-8-sig")
    # with one county the coverage is measured leaving one unit (school/township) out
    assert set(coverage["holdout"]) == {"unit"}


def test_a_region_without_vocational_school_lists_where_its_pupils_go(tmp_path: Path) -> None:
    dst = tmp_path / "novoc"
    shutil.copytree(TINY, dst)
    schools = _read(dst, "schools.csv")
    voc = set(schools.loc[schools["school_type"] == "vocational", "school_id"])
    if not voc:
        pytest.skip("the fixture has no vocational school to remove")
    _write(dst, "schools.csv", schools[~schools["school_id"].isin(voc)])
    enr = _read(dst, "enrollment.csv")
    _write(dst, "enrollment.csv", enr[~enr["school_id"].isin(voc)])
    _run(dst, tmp_path / "out")
    unserved = pd.read_csv(tmp_path / "out" / "unserved.csv", encoding="utf-8-sig")
    voc_rows = unserved[unserved["level"] == "vocational"]
    assert len(voc_rows) > 0
    assert voc_rows["reason"].str.contains("no secondary vocational school").all()
