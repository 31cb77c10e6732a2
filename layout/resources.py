"""Data shipped with the package: the embedded region and the scenario files.

Both stay where they are in the repository — ``data/geo/guangyuan/`` and ``scenarios/`` — and
``pyproject.toml`` maps them into the installed package namespace as the data packages
``schoolplan_data.guangyuan`` and ``schoolplan_data.scenarios`` (``[tool.setuptools.package-dir]``).
They are found through the import system, so the same code works in a wheel or plain install
(``site-packages/schoolplan_data/...``), in an editable install (the repository folders themselves)
and, as a last resort, in a source tree that was never installed.

Examples
--------
>>> region_dir().name
'guangyuan'
>>> "baseline" in shipped_scenarios()
True
>>> resolve_scenario("baseline").name
'baseline.yaml'

"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

REGION_PACKAGE = "schoolplan_data.guangyuan"
"""Data package holding the embedded region (repository folder ``data/geo/guangyuan``)."""
SCENARIO_PACKAGE = "schoolplan_data.scenarios"
"""Data package holding the shipped scenario files (repository folder ``scenarios``)."""

_SOURCE_TREE = {
    REGION_PACKAGE: Path("data") / "geo" / "guangyuan",
    SCENARIO_PACKAGE: Path("scenarios"),
}


def package_dir(name: str) -> Path | None:
    """Folder of the data package ``name`` as the import system finds it, or None.

    Data packages have no ``__init__.py`` (namespace packages), so the folder is the first
    existing entry of the package's search locations (editable installs add a placeholder).
    """
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        spec = None
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        folder = Path(location)
        if folder.is_dir():
            return folder
    return None


def _data_dir(name: str) -> Path:
    """Installed folder of a data package; the source-tree folder if the package is not installed."""
    found = package_dir(name)
    if found is not None:
        return found
    return Path(__file__).resolve().parents[1] / _SOURCE_TREE[name]


def region_dir() -> Path:
    """Folder of the embedded region (may not exist in a broken installation; the loader says so)."""
    return _data_dir(REGION_PACKAGE)


def scenarios_dir() -> Path:
    """Folder of the shipped scenario files."""
    return _data_dir(SCENARIO_PACKAGE)


def shipped_scenarios() -> dict[str, Path]:
    """Shipped scenario files by name (file stem), sorted: ``{"baseline": .../baseline.yaml, ...}``."""
    folder = scenarios_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def resolve_scenario(path: str | os.PathLike[str]) -> Path:
    """The scenario file meant by ``path``: the file itself if it exists, else a shipped scenario.

    ``baseline``, ``baseline.yaml`` or ``scenarios/baseline.yaml`` name the shipped
    ``scenarios/baseline.yaml`` unless that path exists relative to the current folder: a file that
    exists always wins. Anything else is returned unchanged, so that reading it reports the
    missing file.
    """
    given = Path(path)
    if given.exists():
        return given
    bare = given.parent in (Path("."), Path("scenarios"))
    if bare and given.suffix.lower() in ("", ".yaml", ".yml"):
        shipped = shipped_scenarios().get(given.stem if given.suffix else given.name)
        if shipped is not None:
            return shipped
    return given
