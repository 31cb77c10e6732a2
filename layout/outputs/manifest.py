"""``manifest.json``: what produced a set of outputs (scenario, inputs, versions, seed, solver).

Lets a planner or reviewer check that two result folders come from the same inputs and software:
input files are identified by SHA-256, package versions come from ``importlib.metadata``.

Everything that depends on the clock — the creation time, the stage timings and the solvers'
wall times — is under the one key ``wall_clock``; the rest of the manifest (and every other output
file) is identical for identical inputs, so ``manifest["wall_clock"]`` is all two reproducible
runs may differ in.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from layout.outputs.atomic import write_text_atomic

PACKAGES = (
    "school-layout-planner", "numpy", "pandas", "scipy", "geopandas", "shapely", "pyogrio",
    "pyproj", "ortools", "highspy", "pulp", "spopt", "statsmodels", "scikit-learn", "folium",
    "branca", "openpyxl", "pydantic", "networkx",
)  # fmt: skip
WALL_TIME_KEY = "wall_time"
"""Solver-record field moved to ``wall_clock.solver_wall_time_s`` (it differs run to run)."""


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def input_hashes(inputs: list[Path]) -> list[dict[str, Any]]:
    """Describe input files (folders expand to their files, sorted): path, bytes, sha256."""
    files: list[Path] = []
    for item in map(Path, inputs):
        files += sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]
    return [{"path": str(f), "bytes": f.stat().st_size, "sha256": sha256_file(f)} for f in files]


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (None when not installed)."""
    out: dict[str, str | None] = {}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return _jsonable(value.model_dump(mode="json"))
    if isinstance(value, pd.DataFrame):
        return _jsonable(value.astype(object).where(value.notna(), None).to_dict("records"))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def build_manifest(
    scenario: Any,
    inputs: list[Path],
    seed: int | None,
    solver_records: Any,
    timings: dict[str, float],
    region: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the manifest as a dict (see :func:`write_manifest`)."""
    records = _jsonable(solver_records if solver_records is not None else [])
    solver_times = []
    for record in records:
        if isinstance(record, dict) and WALL_TIME_KEY in record:
            ident = {k: record[k] for k in ("county_code", "subproblem") if k in record}
            solver_times.append({**ident, "wall_time_s": record.pop(WALL_TIME_KEY)})
    return {
        "region": _jsonable(region or {}),
        "scenario": _jsonable(scenario),
        "seed": seed,
        "inputs": input_hashes(inputs),
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "solver_records": records,
        "wall_clock": {
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "timings_s": _jsonable(timings),
            "solver_wall_time_s": solver_times,
        },
    }


def write_manifest(
    path: str | os.PathLike[str],
    scenario: Any,
    inputs: list[Path],
    seed: int | None,
    solver_records: Any,
    timings: dict[str, float],
    region: dict[str, Any] | None = None,
) -> Path:
    """Write ``manifest.json`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination.
    scenario : dict or pydantic model
        The scenario / parameters used.
    inputs : list of pathlib.Path
        Input files or folders; each file is hashed with SHA-256.
    seed : int or None
        Random seed of the run.
    solver_records : pandas.DataFrame or list of dict
        One record per solved sub-problem (status, objective, bound, gap, time, threads, seed);
        the wall times go to ``wall_clock.solver_wall_time_s``.
    timings : dict
        Wall time of each stage, seconds (written as ``wall_clock.timings_s``).
    region : dict, optional
        What the inputs are: region name, folder, synthetic layers and provenance note.

    Returns
    -------
    pathlib.Path

    """
    manifest = build_manifest(scenario, inputs, seed, solver_records, timings, region)
    text = json.dumps(manifest, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    return write_text_atomic(path, text)
