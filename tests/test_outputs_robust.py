"""Robust outputs: staged run folders, CSV-injection rule, byte-identical files (SYNTHETIC data)."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import sqlite3
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from synthetic_plan import SYNTHETIC_NOTE, synthetic_plan, synthetic_region, synthetic_years_series
from typer.testing import CliRunner

import layout.outputs.atomic as atomic
import layout.outputs.gpkg
import layout.outputs.maps
from layout.cli import app
from layout.outputs import excel
from layout.outputs.escape import FORMULA_PREFIXES, neutralise_frame
from layout.outputs.excel import write_csv, write_csvs, write_workbook
from layout.outputs.gpkg import write_geopackage
from layout.outputs.manifest import build_manifest
from layout.outputs.maps import build_map, render_html, write_map

FIX = Path(__file__).parent / "fixtures"
TINY_SCENARIO = FIX / "scenarios" / "tiny.yaml"
HOSTILE = ['=HYPERLINK("http://x","y")', "-1+2", "+1", "@SUM(A1)", "\tx", "\rx", "a-b", "合成校"]
runner = CliRunner()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}  # fmt: skip


# --- a failed run loses nothing ---------------------------------------------------------------


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path_factory.mktemp("staged") / "run"
    res = runner.invoke(app, ["run", "-s", str(TINY_SCENARIO), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    return out, _snapshot(out)


def test_disk_full_midway_keeps_previous_run(first_run, monkeypatch):
    out, before = first_run

    def full(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # the GeoPackage comes late

    monkeypatch.setattr(layout.outputs.gpkg, "reproducible_gpkg", full)
    res = runner.invoke(app, ["run", "-s", str(TINY_SCENARIO), "-o", str(out), "-q"])
    assert res.exit_code == 1, res.output
    assert re.search(r"error: \S+layout\.gpkg: No space left on device", res.output), res.output
    # the message names the file the user asked for, not its staging copy
    assert f"error: {out / 'layout.gpkg'}: No space left on device" in res.output, res.output
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["run"]  # staging folder removed


def test_crash_midway_keeps_previous_run(first_run, monkeypatch):
    out, before = first_run

    def crash(*_args, **_kwargs):
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(layout.outputs.maps, "render_html", crash)
    res = runner.invoke(app, ["run", "-s", str(TINY_SCENARIO), "-o", str(out), "-q"])
    assert res.exit_code == 1, res.output
    assert "internal error: RuntimeError: renderer exploded" in res.output
    assert _snapshot(out) == before
    log = out.parent / "run.schoolplan-error.log"
    assert "renderer exploded" in log.read_text(encoding="utf-8")
    log.unlink()
    assert sorted(p.name for p in out.parent.iterdir()) == ["run"]


def test_forecast_run_replaces_the_whole_folder(first_run, tmp_path):
    out = tmp_path / "run"
    (out / "forecast").mkdir(parents=True)
    for name, data in first_run[1].items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    res = runner.invoke(app, ["forecast", "-s", str(TINY_SCENARIO), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert (out / "manifest.json").is_file()
    assert (out / "forecast" / "backtest_table.csv").is_file()
    assert not (out / "map.html").exists()  # no stale file of the earlier, longer run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_staged_folder_refuses_a_folder_that_is_not_an_output_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with (pytest.raises(atomic.OutputFolderError, match="not an output folder"),
          atomic.staged_folder(tmp_path)):
        pass
    assert (tmp_path / "notes.txt").read_text() == "mine"
    res = runner.invoke(app, ["run", "-s", str(TINY_SCENARIO), "-o", str(tmp_path), "-q"])
    assert res.exit_code == 2
    assert "not an output folder" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("exchange", [True, False])
def test_staged_folder_swaps_with_and_without_renameat2(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    out = tmp_path / "run"
    out.mkdir()
    (out / "manifest.json").write_text("old")
    (out / "stale.csv").write_text("old")
    with atomic.staged_folder(out) as stage:
        assert stage.parent == tmp_path
        assert stage.name == f"run.partial-{os.getpid()}"
        (stage / "manifest.json").write_text("new")
        assert (out / "manifest.json").read_text() == "old"  # untouched until the end
    assert _snapshot(out) == {"manifest.json": b"new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_leftovers_of_killed_runs_are_cleaned(tmp_path):
    dead = 2**22 + 12345  # above the default pid_max of most systems: no such process
    out = tmp_path / "run"
    old = tmp_path / f"run.old-{dead}"  # killed between the two renames: restore it
    old.mkdir()
    (old / "manifest.json").write_text("previous")
    partial = tmp_path / f"run.partial-{dead}"
    partial.mkdir()
    (partial / "map.html").write_text("half")
    with atomic.staged_folder(out) as stage:
        assert (out / "manifest.json").read_text() == "previous"
        (stage / "manifest.json").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert (out / "manifest.json").read_text() == "new"


# --- CSV injection ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def region():
    return synthetic_region(n_counties=2, townships_per_side=4)


@pytest.fixture(scope="module")
def plan(region):
    return synthetic_plan(n_schools=30, n_villages=40, townships=region[1], names=HOSTILE, seed=5)


def test_one_formula_rule_for_workbook_and_csv():
    assert excel.FORMULA_PREFIXES is FORMULA_PREFIXES
    assert set(FORMULA_PREFIXES) == {"=", "+", "-", "@", "\t", "\r"}


def test_csv_text_cells_are_neutralised_numbers_are_not(tmp_path):
    frame = pd.DataFrame({
        "name": ['=HYPERLINK("http://x","y")', "-1+2", "\tcmd", "plain", "a=b", None],
        "change": [-3, -1, 0, 2, -7, 5],
        "share": [-0.25, -1.5, 0.0, 1.0, -2.0, 3.0],
    })  # fmt: skip
    path = write_csv(frame, tmp_path / "t.csv", float_format="%.6g")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
    assert list(back["name"]) == ["'=HYPERLINK(\"http://x\",\"y\")", "'-1+2", "'\tcmd", "plain",
                                  "a=b", ""]  # fmt: skip
    assert list(back["change"]) == [-3, -1, 0, 2, -7, 5]
    assert list(back["share"]) == [-0.25, -1.5, 0.0, 1.0, -2.0, 3.0]
    assert frame.loc[0, "name"].startswith("=")  # the caller's frame is not modified
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[2] == "'-1+2,-1,-1.5"


def test_plan_csvs_and_workbook_neutralise_hostile_names(plan, tmp_path):
    write_csvs(plan, tmp_path)
    back = pd.read_csv(tmp_path / "schools.csv", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)  # fmt: skip
    names = list(plan.schools["name"])
    for got, name in zip(back["name"], names, strict=True):
        assert got == ("'" + name if name.startswith(FORMULA_PREFIXES) else name)
    text = (tmp_path / "schools.csv").read_text(encoding="utf-8-sig")
    assert not re.search(r"(^|,)[=+@]", text, flags=re.M)
    assert '"\'=HYPERLINK(""http://x"",""y"")"' in text
    # numbers, negative ones included, are unchanged
    num = neutralise_frame(pd.DataFrame({"x": [-1, -2.5]}))
    assert num["x"].tolist() == [-1, -2.5]
    path = write_workbook(plan, {"seed": 5}, tmp_path / "layout.xlsx")
    ws = openpyxl.load_workbook(path)["推荐布局"]
    col = [c.value for c in ws[2]].index("name") + 1
    for i, name in enumerate(names, start=3):
        cell = ws.cell(i, col)
        assert cell.value == name.replace("\r", "\n")
        assert cell.data_type == "s"
        assert bool(cell.quotePrefix) == name.startswith(FORMULA_PREFIXES), name


# --- byte-identical outputs -----------------------------------------------------------------------


def _twice(tmp_path: Path, write) -> tuple[bytes, bytes]:
    """Write the same output into two folders of the same name under different parents."""
    paths = []
    for parent in ("a", "b"):
        folder = tmp_path / parent / "out"
        folder.mkdir(parents=True)
        paths.append(write(folder))
    return paths[0].read_bytes(), paths[1].read_bytes()


def test_map_is_byte_identical(plan, region, tmp_path):
    counties, townships = region
    years = synthetic_years_series(townships)
    a, b = _twice(tmp_path, lambda f: write_map(plan, townships, counties, f / "map.html",
                                                years_series=years, note=SYNTHETIC_NOTE))
    assert a == b
    html = a.decode("utf-8")
    assert "map_00000000000000000000000000000001" in html
    ids = set(re.findall(r"\b[a-z_]+_([0-9a-f]{32})\b", html))
    assert ids
    assert all(re.fullmatch(r"0+[0-9a-f]{1,4}", i) for i in ids), sorted(ids)[:5]
    # in-process too: a fresh map object renders to the same page
    fmap = build_map(plan, townships, counties, years_series=years, note=SYNTHETIC_NOTE)
    assert render_html(fmap) == html


def test_workbook_is_byte_identical_with_fixed_dates(plan, tmp_path):
    a, b = _twice(tmp_path, lambda f: write_workbook(plan, {"seed": 5}, f / "layout.xlsx",
                                                     note=SYNTHETIC_NOTE))
    assert a == b
    with zipfile.ZipFile(io.BytesIO(a)) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = zf.read("docProps/core.xml").decode()
    assert core.count("2000-01-01T00:00:00Z") == 2
    wb = openpyxl.load_workbook(io.BytesIO(a))
    assert "求解记录" in wb.sheetnames
    assert "wall_time" not in [c.value for c in wb["求解记录"][2]]


def test_geopackage_is_byte_identical_with_fixed_timestamps(plan, region, tmp_path):
    _, townships = region
    years = synthetic_years_series(townships)
    a, b = _twice(tmp_path, lambda f: write_geopackage(plan, townships, None, f / "layout.gpkg",
                                                       years_series=years, note=SYNTHETIC_NOTE))
    assert a == b
    path = tmp_path / "a" / "out" / "layout.gpkg"
    con = sqlite3.connect(path)
    try:
        stamps = {r[0] for r in con.execute("SELECT last_change FROM gpkg_contents")}
        refs = {r[0] for r in con.execute("SELECT timestamp FROM gpkg_metadata_reference")}
    finally:
        con.close()
    assert stamps == {"2000-01-01T00:00:00.000Z"}
    assert refs <= {"2000-01-01T00:00:00.000Z"}


def test_csvs_are_byte_identical_and_without_wall_times(plan, tmp_path):
    for parent in ("a", "b"):
        write_csvs(plan, tmp_path / parent)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    header = (tmp_path / "a" / "solver_records.csv").read_text(encoding="utf-8-sig").split("\n")[0]
    assert "wall_time" not in header.split(",")


def test_manifest_differs_only_under_wall_clock(plan, tmp_path):
    data = tmp_path / "in.csv"
    data.write_bytes(b"a,b\n1,2\n")
    one = build_manifest({"s": 1}, [data], 7, plan.solver_records, {"plan": 1.0})
    records = plan.solver_records.assign(wall_time=plan.solver_records["wall_time"] * 3)
    two = build_manifest({"s": 1}, [data], 7, records, {"plan": 2.5})
    assert one["wall_clock"] != two["wall_clock"]
    one.pop("wall_clock"), two.pop("wall_clock")
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
