"""A county whose data cannot be used is set aside, by name, and the other counties are run.

A province-wide run must not stop because one county's data fail a county-level readiness
check (for example ``county has no women aged 15-49``: its fertility cannot be calibrated).
:func:`load_region_isolating` loads the region; when every problem found names a county (the
problem's row is a county code), it loads the region again without those counties and returns
them with their reasons. The run then forecasts and plans the other counties, and the set-aside
counties get the planner's ``county <code> was not planned: <reason>`` note and a ``failed``
solver record (:func:`record_set_aside`). A problem that is not a county's (a bad file, a
school's bad value) still stops the run, listing every problem, as before.

The region without the counties is a filtered copy of the region folder (GeoJSON + CSV, in a
temporary folder): each table loses the rows of the set-aside counties through its own keys
(townships through ``county_code``, villages through ``township_code``, residents through
``village_id``, enrollment through ``school_id``...). The loaded region keeps the path of the
original folder, so the manifest hashes the inputs as given.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from layout.errors import Problem, RegionDataError
from layout.region import Region, load_region

# table -> (key column, the layer whose removed ids it refers to)
_KEYS: dict[str, tuple[str, str]] = {
    "villages.csv": ("township_code", "townships"), "children.csv": ("village_id", "villages"),
    "women.csv": ("village_id", "villages"), "schools.csv": ("township_code", "townships"),
    "enrollment.csv": ("school_id", "schools"), "candidate_sites.csv": ("township_code", "townships"),
    "births.csv": ("county_code", "counties"), "urbanisation.csv": ("county_code", "counties"),
    "township_history.csv": ("township_code", "townships"),
}
_IDS = {"villages.csv": ("village_id", "villages"), "schools.csv": ("school_id", "schools")}


def _county_codes(folder: Path) -> set[str]:
    path = folder / "counties.geojson"
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    return {str(f["properties"].get("county_code", "")) for f in data["features"]}


def county_problems(problems: list[Problem], codes: set[str]) -> dict[str, str] | None:
    """County code -> reason(s), when every problem names a county; else ``None``."""
    if not problems or any(p.row not in codes for p in problems):
        return None
    out: dict[str, str] = {}
    for p in problems:
        reason = f"{p.message} ({p.file})"
        out[p.row] = f"{out[p.row]}; {reason}" if p.row in out else reason
    return out


def _filter_geojson(src: Path, dst: Path, column: str, drop: set[str],
                    id_column: str) -> set[str]:
    """Copy without the features whose ``column`` is in ``drop``; their ``id_column`` values."""
    data = json.loads(src.read_text(encoding="utf-8-sig"))

    def dropped(f: dict) -> bool:
        return str(f["properties"].get(column, "")) in drop

    gone = {str(f["properties"].get(id_column, "")) for f in data["features"] if dropped(f)}
    data["features"] = [f for f in data["features"] if not dropped(f)]
    dst.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return gone


def _filter_csv(src: Path, dst: Path, column: str, drop: set[str],
                id_column: str | None = None) -> set[str]:
    """Copy without the rows whose ``column`` is in ``drop`` (comments kept); the ids dropped."""
    text = src.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    n_head = 0
    while n_head < len(lines) and lines[n_head].startswith("#"):
        n_head += 1
    rows = list(csv.reader(io.StringIO("".join(lines[n_head:]))))
    header = [c.strip() for c in rows[0]]
    j = header.index(column)
    keep = np.array([len(r) <= j or r[j].strip() not in drop for r in rows[1:]], dtype=bool)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(rows[0])
    w.writerows(r for r, k in zip(rows[1:], keep, strict=True) if k)
    dst.write_text("".join(lines[:n_head]) + buf.getvalue(), encoding="utf-8")
    if id_column is None:
        return set()
    i = header.index(id_column)
    return {r[i].strip() for r, k in zip(rows[1:], keep, strict=True) if not k and len(r) > i}


def without_counties(folder: Path, drop: set[str], out: Path) -> Path:
    """A copy of the region folder ``folder`` in ``out`` without the counties ``drop``."""
    out.mkdir(parents=True, exist_ok=True)
    gone: dict[str, set[str]] = {"counties": set(drop)}
    _filter_geojson(folder / "counties.geojson", out / "counties.geojson", "county_code", drop,
                    "county_code")
    gone["townships"] = _filter_geojson(folder / "townships.geojson",
                                        out / "townships.geojson", "county_code", drop,
                                        "township_code")
    done = {"counties.geojson", "townships.geojson"}
    for name in ("villages.csv", "schools.csv", *_KEYS):  # ids first: the others refer to them
        if name in done:
            continue
        column, layer = _KEYS[name]
        id_column, id_layer = _IDS.get(name, (None, ""))
        ids = _filter_csv(folder / name, out / name, column, gone[layer], id_column)
        if id_column:
            gone[id_layer] = ids
        done.add(name)
    for path in folder.iterdir():
        if path.is_file() and path.name not in done:
            shutil.copyfile(path, out / path.name)
    return out


def load_region_isolating(path: str | Path | None) -> tuple[Region, dict[str, str]]:
    """The region, and the counties set aside for their data (code -> reason).

    Parameters
    ----------
    path : path, optional
        Region folder (``None``: the embedded region, loaded as :func:`load_region` does).

    Returns
    -------
    (Region, dict)
        Without set-aside counties the dict is empty and the region is :func:`load_region`'s.

    Raises
    ------
    RegionDataError
        When a problem is not a county's, or when no county would be left.

    """
    try:
        return load_region(path), {}
    except RegionDataError as err:
        folder = Path(path) if path is not None else None
        if (folder is None or not (folder / "counties.geojson").is_file()
                or (folder / "region.gpkg").exists()):
            raise
        try:
            codes = _county_codes(folder)
            bad = county_problems(err.problems, codes)
        except (OSError, ValueError, KeyError):
            raise err from None
        if bad is None or set(bad) >= codes:
            raise
        with tempfile.TemporaryDirectory(prefix="region-without-") as tmp:
            try:
                region = load_region(without_counties(folder, set(bad), Path(tmp)))
            except (OSError, ValueError, KeyError, RegionDataError):
                raise err from None
        return dataclasses.replace(region, path=folder), bad


def record_set_aside(plan: object, set_aside: dict[str, str], seed: int) -> None:
    """Add each set-aside county to the plan's notes and ``failed`` solver records."""
    from layout.plan.planner import FAILED_STATUS, NOT_PLANNED

    if not set_aside:
        return
    rows = [{"county_code": code, "subproblem": "county", "solver": "", "status": FAILED_STATUS,
             "objective": np.nan, "bound": np.nan, "gap": np.nan, "wall_time": np.nan,
             "threads": 0, "seed": seed, "reason": f"region data: {reason}"}
            for code, reason in sorted(set_aside.items())]
    records = plan.solver_records  # type: ignore[attr-defined]
    plan.solver_records = pd.concat(  # type: ignore[attr-defined]
        [records, pd.DataFrame(rows)], ignore_index=True) if len(records) else pd.DataFrame(rows)
    plan.notes.extend(f"county {r['county_code']} {NOT_PLANNED}: {r['reason']}"  # type: ignore[attr-defined]
                      for r in rows)
