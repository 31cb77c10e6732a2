"""Input workbook: template, round trip through `data import`, bad workbooks (exit 2, named)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from layout.cli import app
from layout.ingest.fill import region_tables
from layout.ingest.importer import ImportOptions, import_workbook
from layout.ingest.template import SHEETS
from layout.ingest.xlsx_out import write_workbook
from layout.region import load_region

TINY = Path(__file__).parent / "fixtures" / "region" / "tiny"
runner = CliRunner()


@pytest.fixture(scope="module")
def tiny():
    return load_region(TINY)


@pytest.fixture(scope="module")
def book(tiny, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("book") / "tiny.xlsx"
    write_workbook(path, region_tables(tiny, "wgs84"))
    return path


def _import(book: Path, out: Path, **kw) -> object:
    opts = ImportOptions(boundaries=TINY / "counties.geojson",
                         townships=TINY / "townships.geojson", **kw)
    return import_workbook(book, out, opts)


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    k = np.pi / 180 * 6_371_000
    return np.hypot((lon1 - lon2) * k * np.cos(np.radians(lat1)), (lat1 - lat2) * k)


def test_template_has_every_sheet_headers_and_dropdowns(tmp_path):
    path = tmp_path / "t.xlsx"
    result = runner.invoke(app, ["data", "template", str(path)])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "说明"
    for sheet in SHEETS.values():
        ws = wb[sheet.title]
        assert [c.value for c in ws[2]][: len(sheet.fields)] == [f.ident for f in sheet.fields]
    ranges = [str(dv.sqref) for dv in wb["学校"].data_validations.dataValidation]
    assert any(r.startswith("G3") for r in ranges)  # school_type drop-down
    text = " ".join(str(c.value) for row in wb["说明"].iter_rows() for c in row)
    assert "derived" in text or "推算" in text


def test_template_is_byte_identical(tmp_path):
    write_workbook(tmp_path / "a.xlsx")
    write_workbook(tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def _frames_equal(a, b) -> None:
    cols = [c for c in a.columns if c != "geometry"]
    pd.testing.assert_frame_equal(pd.DataFrame(a[cols]).reset_index(drop=True),
                                  pd.DataFrame(b[cols]).reset_index(drop=True),
                                  check_exact=False, atol=1e-6)


def test_round_trip_gives_the_same_region(tiny, book, tmp_path):
    _import(book, tmp_path / "r")
    back = load_region(tmp_path / "r")
    for name in ("counties", "townships", "villages", "schools", "children", "women",
                 "enrollment", "candidate_sites", "births", "urbanisation", "township_history"):
        _frames_equal(getattr(tiny, name), getattr(back, name))
    assert back.meta["derived_layers"] == ["city"]
    result = runner.invoke(app, ["data", "check", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "DERIVED layers" in result.output


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_gcj02_and_bd09_land_within_1m(tiny, tmp_path, crs):
    path = tmp_path / f"{crs}.xlsx"
    write_workbook(path, region_tables(tiny, crs))
    _import(path, tmp_path / "r", crs=crs)
    back = load_region(tmp_path / "r")
    for name in ("schools", "villages", "candidate_sites"):
        a, b = getattr(tiny, name), getattr(back, name)
        err = _metres(a["lon"].to_numpy(), a["lat"].to_numpy(), b["lon"].to_numpy(),
                      b["lat"].to_numpy())
        assert err.max() < 1.0, (name, err.max())


def _edit(book: Path, tmp_path: Path, fn) -> Path:
    wb = openpyxl.load_workbook(book)
    fn(wb)
    out = tmp_path / "bad.xlsx"
    wb.save(out)
    return out


def _cli_import(path: Path, out: Path):
    return runner.invoke(app, ["data", "import", str(path), "--out", str(out),
                               "--boundaries", str(TINY / "counties.geojson")])


def _set_dup(wb):
    ws = wb["学校"]
    ws["A4"] = ws["A3"].value


BAD = {
    "missing sheet": (lambda wb: wb.remove(wb["出生"]), ["sheet 出生", "missing"]),
    "merged header": (lambda wb: wb["村"].merge_cells("A1:B1"), ["sheet 村", "row 1", "merged"]),
    "text in number": (lambda wb: wb["学校"].cell(5, 9, "约900"),
                       ["sheet 学校", "row 5", "学位数 (capacity)", "'约900'", "not a number"]),
    "date for year": (lambda wb: wb["出生"].cell(3, 2, dt.datetime(2020, 1, 1)),
                      ["sheet 出生", "row 3", "年份 (year)", "a date, not a year"]),
    "duplicate code": (_set_dup, ["sheet 学校", "row 4", "学校代码 (school_id)", "duplicate"]),
    "far coordinates": (lambda wb: (wb["学校"].cell(6, 5, 32.4), wb["学校"].cell(6, 6, 105.8)),
                        ["sheet 学校", "row 6", "经度/纬度 (lon/lat)", "outside the region"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_workbook_names_the_problem_and_exits_2(book, tmp_path, case):
    edit, expected = BAD[case]
    path = _edit(book, tmp_path, edit)
    out = tmp_path / "region"
    result = _cli_import(path, out)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for part in expected:
        assert part in result.output, (part, result.output)
    assert not out.exists()
    assert not any(p.name.startswith("region.partial") for p in tmp_path.iterdir())


def test_all_problems_listed_at_once(book, tmp_path):
    def both(wb):
        BAD["text in number"][0](wb)
        BAD["date for year"][0](wb)
    result = _cli_import(_edit(book, tmp_path, both), tmp_path / "region")
    assert result.exit_code == 2
    assert "2 problems" in result.output


def test_failed_import_keeps_previous_region(book, tmp_path):
    out = tmp_path / "region"
    _import(book, out)
    before = (out / "schools.csv").read_bytes()
    result = _cli_import(_edit(book, tmp_path, BAD["text in number"][0]), out)
    assert result.exit_code == 2
    assert (out / "schools.csv").read_bytes() == before
