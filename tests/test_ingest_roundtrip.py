"""Template round trip on the tiny fixture: fill -> import -> check -> run gives the same plan;
the run's hand-over (manifest.json, README.txt) says which layers were given and which derived."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from layout.cli import app
from layout.ingest.fill import region_tables
from layout.ingest.xlsx_out import write_workbook
from layout.region import load_region

FIX = Path(__file__).parent / "fixtures"
TINY = FIX / "region" / "tiny"
TINY_SCENARIO = FIX / "scenarios" / "tiny.yaml"
PLAN_TABLES = ("schools.csv", "assignments.csv", "unserved.csv", "kpis.csv", "projects.csv")
runner = CliRunner()


def _ok(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("roundtrip")
    book, imported = work / "tiny.xlsx", work / "region"
    write_workbook(book, region_tables(load_region(TINY), "wgs84"))
    _ok(["data", "import", str(book), "--out", str(imported), "--boundaries",
         str(TINY / "counties.geojson"), "--townships", str(TINY / "townships.geojson")])
    _ok(["data", "check", str(imported)])
    out = {"original": work / "run_original", "imported": work / "run_imported"}
    for name, region in (("original", TINY), ("imported", imported)):
        _ok(["run", "-s", str(TINY_SCENARIO), "--region", str(region), "-o", str(out[name]),
             "-q"])
    return {**out, "region": imported}


@pytest.mark.parametrize("table", PLAN_TABLES)
def test_imported_region_gives_the_same_plan_tables(runs: dict[str, Path], table: str) -> None:
    assert (runs["imported"] / table).read_bytes() == (runs["original"] / table).read_bytes()


def test_forecast_tables_are_the_same(runs: dict[str, Path]) -> None:
    a, b = runs["original"] / "forecast", runs["imported"] / "forecast"
    names = sorted(p.name for p in a.glob("*.csv"))
    assert names
    assert [n for n in names if (a / n).read_bytes() != (b / n).read_bytes()] == []


def test_manifest_and_readme_say_which_layers_are_derived(runs: dict[str, Path]) -> None:
    meta = load_region(runs["region"]).meta
    manifest = json.loads((runs["imported"] / "manifest.json").read_text(encoding="utf-8"))
    record = manifest["region"]
    assert record["given_layers"] == meta["given_layers"]
    assert record["derived_layers"] == meta["derived_layers"] == ["city"]
    assert record["derivations"]["city"] == meta["derivations"]["city"]
    assert "schools" in record["given_layers"]
    readme = (runs["imported"] / "README.txt").read_text(encoding="utf-8")
    assert "推算图层 DERIVED layers: city" in readme
    assert "给定图层 given layers: " + ", ".join(meta["given_layers"]) in readme
    assert f"推算 city: {meta['derivations']['city']}" in readme


def test_a_region_not_imported_has_no_layer_record(runs: dict[str, Path]) -> None:
    manifest = json.loads((runs["original"] / "manifest.json").read_text(encoding="utf-8"))
    assert "derived_layers" not in manifest["region"]
    assert "DERIVED" not in (runs["original"] / "README.txt").read_text(encoding="utf-8")
