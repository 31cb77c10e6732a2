"""Packaging: the sdist and the wheel carry the embedded region and the shipped scenarios, and an
installed wheel runs a shipped scenario by name outside the repository.

The wheel is built the way ``python -m build`` does it: sdist first (checks MANIFEST.in), then the
wheel from the unpacked sdist (checks the package data rules), in a temporary folder; nothing is
written into the working tree but the usual ``*.egg-info``. Building needs ``setuptools`` and
``wheel`` in the test environment (``test`` extra); nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from layout.cli import app
from layout.region.loader import ENV_VAR, embedded_region_path
from layout.resources import (
    REGION_PACKAGE,
    SCENARIO_PACKAGE,
    package_dir,
    resolve_scenario,
    shipped_scenarios,
)

ROOT = Path(__file__).resolve().parents[1]
REGION = ROOT / "data" / "geo" / "guangyuan"
SCENARIOS = ROOT / "scenarios"
CODE_PACKAGES = ("forecasting", "layout", "schoolsystem")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in (ENV_VAR, "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the sdist from the working tree and the wheel from the unpacked sdist."""
    out = tmp_path_factory.mktemp("dist")
    sdist_name = subprocess.run(
        [sys.executable, "-c",
         "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))",
         str(out)],
        cwd=ROOT, capture_output=True, text=True, check=True, env=_clean_env(),
    ).stdout.strip().splitlines()[-1]
    sdist = out / sdist_name
    unpacked = tmp_path_factory.mktemp("sdist")
    with tarfile.open(sdist) as tar:
        tar.extractall(unpacked, filter="data")
    (src,) = unpacked.iterdir()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "-w", str(out), str(src)],
        cwd=out, capture_output=True, text=True, check=True, env=_clean_env(),
    )
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def test_sdist_contains_region_and_scenarios(built: dict[str, Path]) -> None:
    with tarfile.open(built["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    expected = {str(p.relative_to(ROOT)) for p in _files(REGION) + _files(SCENARIOS)}
    assert expected - names == set(), "missing from the sdist (MANIFEST.in)"
    assert {"data/geo/README.md", "MANIFEST.in", "pyproject.toml"} <= names


def test_wheel_contains_region_and_scenarios(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["wheel"]) as whl:
        content = {n: whl.read(n) for n in whl.namelist()}
    region = _files(REGION)
    assert {"region.yaml", "PROVENANCE.md", "counties.geojson", "schools.csv"} <= {
        p.name for p in region}
    for folder, package in ((region, REGION_PACKAGE), (_files(SCENARIOS), SCENARIO_PACKAGE)):
        for p in folder:
            name = f"{package.replace('.', '/')}/{p.name}"
            assert name in content, f"{name} missing from the wheel"
            assert _sha(content[name]) == _sha(p.read_bytes()), f"{name} differs from {p}"
    assert {Path(n).stem for n in content if n.startswith("schoolplan_data/scenarios/")} >= {
        "baseline", "low_births", "fast_urbanisation", "continued_decline"}
    entry_points = next(v for n, v in content.items() if n.endswith(".dist-info/entry_points.txt"))
    assert b"schoolplan = layout.cli:app" in entry_points


def test_wheel_contains_every_code_package(built: dict[str, Path]) -> None:
    """Packages are listed by hand in pyproject.toml: a new sub-package must be added there."""
    with zipfile.ZipFile(built["wheel"]) as whl:
        names = set(whl.namelist())
    missing = sorted(
        str(p.relative_to(ROOT))
        for top in CODE_PACKAGES for p in (ROOT / top).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
        and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
        and str(p.relative_to(ROOT)) not in names
    )
    assert missing == [], ("files missing from the wheel; add their package to "
                           "[tool.setuptools] packages in pyproject.toml")


def test_default_region_and_scenarios_come_from_the_data_packages(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    region = package_dir(REGION_PACKAGE)
    assert region is not None, (
        "schoolplan_data is not installed in this environment: run `make install` (or "
        "`pip install -e .`) again after the pyproject.toml change")
    assert embedded_region_path() == region
    assert region.resolve() == REGION.resolve()  # editable install: the repository folder
    assert package_dir(SCENARIO_PACKAGE).resolve() == SCENARIOS.resolve()
    assert sorted(shipped_scenarios()) == sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


def test_resolve_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    baseline = shipped_scenarios()["baseline"]
    assert resolve_scenario("baseline") == baseline
    assert resolve_scenario("baseline.yaml") == baseline
    assert resolve_scenario(Path("scenarios/baseline.yaml")) == baseline
    assert resolve_scenario("no_such_scenario") == Path("no_such_scenario")
    assert resolve_scenario("elsewhere/baseline.yaml") == Path("elsewhere/baseline.yaml")
    (tmp_path / "baseline.yaml").write_text("name: mine\n", encoding="utf-8")
    assert resolve_scenario("baseline.yaml") == Path("baseline.yaml")  # a real file wins


def test_cli_lists_shipped_scenarios_and_names_a_missing_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["scenarios"])
    assert res.exit_code == 0, res.output
    listed = [line.split()[0] for line in res.output.splitlines() if line.strip()]
    assert listed == sorted(shipped_scenarios())
    res = runner.invoke(app, ["run", "--scenario", "no_such_scenario", "--out", "o"])
    assert res.exit_code == 2
    assert "no_such_scenario" in res.output
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_installed_wheel_runs_shipped_scenario_outside_repo(
        built: dict[str, Path], tmp_path: Path) -> None:
    """Install the wheel into a fresh venv and run ``--scenario baseline`` from another folder.

    The dependencies are borrowed from this environment (a ``.pth`` line) instead of being
    downloaded again; the package itself, its data and its console script come from the wheel
    only. The full check with dependencies from PyPI is the same with ``pip install WHEEL``.
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    env = _clean_env()
    env["VIRTUAL_ENV"] = str(venv)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet",
                    "--no-deps", "--no-index", str(built["wheel"])],
                   check=True, env=env, capture_output=True, text=True)
    site = Path(subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_borrowed_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    probe = subprocess.run(
        [str(py), "-c",
         "import layout, layout.resources as r; from layout.region.loader import "
         "embedded_region_path as e; print(layout.__file__); print(e()); "
         "print(r.scenarios_dir())"],
        cwd=work, env=env, check=True, capture_output=True, text=True).stdout.split("\n")
    for line in probe[:3]:
        assert Path(line).is_relative_to(site), probe
    assert Path(probe[1]) == site / "schoolplan_data" / "guangyuan"

    schoolplan = venv / "bin" / "schoolplan"
    listed = subprocess.run([str(schoolplan), "scenarios"], cwd=work, env=env, check=True,
                            capture_output=True, text=True).stdout
    assert "baseline" in listed
    assert str(site) in listed
    res = subprocess.run([str(schoolplan), "run", "--scenario", "baseline", "--out", "out",
                          "--draws", "50", "--quiet"],
                         cwd=work, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = work / "out"
    for name in ("map.html", "layout.xlsx", "layout.gpkg", "manifest.json"):
        assert (out / name).is_file(), name
    assert "SYNTHETIC" in res.stdout
