"""CLI error handling: project errors exit 2, bugs exit 1 with a traceback log, OSError names a file."""

from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import layout.compare
import layout.pipeline
from forecasting.errors import ForecastInputError
from layout.cli import app, os_error_text, project_errors
from layout.core.errors import CoreInputError
from layout.errors import LayoutError, RegionDataError, ScenarioError

FIX = Path(__file__).parent / "fixtures"
TINY_SCENARIO = FIX / "scenarios" / "tiny.yaml"
runner = CliRunner()


def _raise(exc: BaseException):
    def boom(*_args, **_kwargs):
        raise exc

    return boom


@pytest.mark.parametrize("exc", [
    ForecastInputError("births.csv, row 3, column births = '-1': must be >= 0"),
    LayoutError("county 519901: no candidate site for senior"),
    CoreInputError("demand[3] = -1.0: must be >= 0"),
    ScenarioError("s.yaml: layout.colour: unknown key"),
    RegionDataError([]),
])  # fmt: skip
def test_project_errors_exit_2_with_one_message(exc, monkeypatch, tmp_path):
    monkeypatch.setattr(layout.pipeline, "run_scenario", _raise(exc))
    out = tmp_path / "o"
    res = runner.invoke(app, ["run", "-s", str(TINY_SCENARIO), "-o", str(out), "-q"])
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines()[0] == f"error: {str(exc).splitlines()[0]}"
    assert "Traceback" not in res.output
    assert "internal error" not in res.output
    assert not list(tmp_path.iterdir())  # no output folder, no staging folder, no log


@pytest.mark.parametrize("exc", [
    ValueError("cannot reshape array of size 6 into shape (4,)"),  # numpy-style bare ValueError
    KeyError("township_code"),  # pandas-style bare KeyError
    ZeroDivisionError("division by zero"),
])  # fmt: skip
def test_other_exceptions_are_internal_errors_with_a_log(exc, monkeypatch, tmp_path):
    monkeypatch.setattr(layout.pipeline, "run_scenario", _raise(exc))
    out = tmp_path / "o"
    res = runner.invoke(app, ["run", "-s", str(TINY_SCENARIO), "-o", str(out), "-q"])
    assert res.exit_code == 1, res.output
    name = type(exc).__name__
    match = re.search(rf"internal error: {name}: (.*) — traceback written to (\S+)", res.output)
    assert match, res.output
    assert match[1] == str(exc)
    log = Path(match[2])
    assert log == Path(str(out) + ".schoolplan-error.log")
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert "boom" in text
    assert name in text
    assert "Traceback" not in res.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [log.name]


def test_internal_error_without_out_logs_to_temp_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(layout.compare, "compare_runs", _raise(KeyError("action")))
    res = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert res.exit_code == 1
    match = re.search(r"internal error: KeyError: 'action' — traceback written to (\S+)",
                      res.output)  # fmt: skip
    assert match, res.output
    log = Path(match[1])
    assert log.parent == tmp_path
    assert log.name.startswith("schoolplan-error-")
    assert "KeyError" in log.read_text(encoding="utf-8")


def test_compare_with_one_folder_is_a_project_error(tmp_path):
    res = runner.invoke(app, ["compare", str(tmp_path)])
    assert res.exit_code == 2
    assert "at least two" in res.output


def test_disk_full_names_the_file_being_written(monkeypatch, tmp_path):
    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # no filename, like a C library

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    out = tmp_path / "o"
    res = runner.invoke(app, ["forecast", "-s", str(TINY_SCENARIO), "-o", str(out), "-q"])
    assert res.exit_code == 1, res.output
    line = res.output.strip().splitlines()[-1]
    assert re.fullmatch(r"error: \S+\.csv: No space left on device", line), line
    assert "error: :" not in res.output
    assert "Traceback" not in res.output
    assert not out.exists()
    assert not list(tmp_path.iterdir())


def test_os_error_text_falls_back_to_notes_and_folder(tmp_path):
    assert os_error_text(OSError(errno.ENOSPC, "No space left on device", "/x/a.csv")) == (
        "/x/a.csv: No space left on device")
    plain = OSError("disk quota exceeded")
    plain.add_note("while writing /x/map.html")
    assert os_error_text(plain) == "/x/map.html: disk quota exceeded"
    bare = OSError(errno.EIO, "Input/output error")
    assert os_error_text(bare, tmp_path) == f"{tmp_path} (output folder): Input/output error"


def test_project_errors_are_the_project_classes_only():
    classes = project_errors()
    assert issubclass(RegionDataError, classes)
    assert issubclass(ForecastInputError, classes)
    assert not issubclass(ValueError, classes)
    assert not issubclass(KeyError, classes)
