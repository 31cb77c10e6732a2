"""CLI tests for ``schoolplan data check``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from layout.cli import app

TINY = Path(__file__).parent / "fixtures" / "region" / "tiny"
runner = CliRunner()


def test_check_valid_region_prints_summary() -> None:
    result = runner.invoke(app, ["data", "check", str(TINY)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "测试市 (519900)" in out
    assert "base year 2023" in out
    assert "SYNTHETIC" in out
    assert "519901 甲区" in out
    assert "519902 乙县" in out
    assert "nine_year 1" in out
    assert "students 2023" in out
    assert "reference:" not in out
    assert "2,305,657" not in out
    assert "8,440" in out  # residents = sum of the tiny villages' population


def test_check_guangyuan_code_shows_reference(tmp_path: Path) -> None:
    folder = tmp_path / "r"
    shutil.copytree(TINY, folder)
    yaml = folder / "region.yaml"
    yaml.write_text(
        yaml.read_text(encoding="utf-8").replace("'519900'", "'510800'"), encoding="utf-8"
    )
    city = folder / "city.geojson"
    city.write_text(
        city.read_text(encoding="utf-8").replace('"519900"', '"510800"'), encoding="utf-8"
    )
    result = runner.invoke(app, ["data", "check", str(folder)])
    assert result.exit_code == 0, result.output
    assert "2,305,657 (2020 census)" in result.stdout
    assert "308 / 68.6k" in result.stdout
    assert "48.06% (2021)" in result.stdout
    births = pd.read_csv(folder / "births.csv", comment="#")
    urb = pd.read_csv(folder / "urbanisation.csv", comment="#")
    rate = (
        births.loc[births["year"] == 2021, "births"].sum()
        / urb.loc[urb["year"] == 2021, "population"].sum()
    )
    assert f"birth rate 2021 {rate * 1000:.2f} ‰" in " ".join(result.stdout.split())


def test_check_invalid_region_exit_2(tmp_path: Path) -> None:
    folder = tmp_path / "r"
    shutil.copytree(TINY, folder)
    (folder / "births.csv").unlink()
    lines = (folder / "schools.csv").read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3].replace(",public,", ",state,")
    (folder / "schools.csv").write_text("\n".join(lines), encoding="utf-8")
    result = runner.invoke(app, ["data", "check", str(folder)])
    assert result.exit_code == 2
    assert "2 problems in region data" in result.stderr
    assert "births.csv: file is missing" in result.stderr
    assert "schools.csv, row 5199010002, column ownership = 'state'" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_check_nonexistent_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "check", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "region folder does not exist" in result.stderr
    assert "Traceback" not in result.output
