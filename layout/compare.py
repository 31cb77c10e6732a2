"""Compare the plans of several scenario runs: where decisions differ, which are robust.

A decision is the (action, merge_into) of one school at one level. It is *robust* when every
compared run took the same decision — a safe first step whatever scenario comes true.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from layout.errors import SchoolPlanError
from layout.outputs.atomic import atomic_path
from schoolsystem.schemas import ASSIGNMENT_COLUMNS

_KEY = ["school_id", "level"]
_INFO = ["name", "county_code", "township_code", "school_type", "lon", "lat"]


class CompareError(SchoolPlanError):
    """A run folder cannot be compared (missing or malformed ``schools.csv``)."""


def _read_run(folder: Path) -> pd.DataFrame:
    path = Path(folder) / "schools.csv"
    if not path.is_file():
        raise CompareError(f"{folder}: no schools.csv — is this an output folder of `schoolplan run`?")
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    missing = [c for c in [*_KEY, "action", "merge_into", *_INFO] if c not in frame.columns]
    if missing:
        raise CompareError(f"{path}: missing columns {missing}")
    return frame


def run_label(folder: Path) -> str:
    """Label of a run in column names: the folder name."""
    return Path(folder).name or str(folder)


def compare_runs(folders: list[Path]) -> pd.DataFrame:
    """One row per (school, level) present in any run, with each run's decision.

    Parameters
    ----------
    folders : list of Path
        Output folders of ``schoolplan run`` (each holding ``schools.csv``).

    Returns
    -------
    DataFrame
        ``school_id, level, name, county_code, township_code, school_type, lon, lat``, then ``action@<run>`` and
        ``merge_into@<run>`` per run, and ``robust`` (same decision in every run).

    """
    labels = [run_label(f) for f in folders]
    if len(set(labels)) != len(labels):
        labels = [f"{i + 1}:{lab}" for i, lab in enumerate(labels)]
    merged: pd.DataFrame | None = None
    for folder, label in zip(folders, labels, strict=True):
        f = _read_run(folder)
        part = f[[*_KEY, *_INFO, "action", "merge_into"]].rename(
            columns={"action": f"action@{label}", "merge_into": f"merge_into@{label}"})
        if merged is None:
            merged = part
        else:
            merged = merged.merge(part, on=_KEY, how="outer", suffixes=("", "_r"))
            for c in _INFO:
                merged[c] = merged[c].fillna(merged.pop(f"{c}_r"))
    assert merged is not None
    acts = merged[[f"action@{lab}" for lab in labels]].fillna("absent")
    into = merged[[f"merge_into@{lab}" for lab in labels]].fillna("")
    decision = acts.to_numpy().astype(str) + "|" + into.to_numpy().astype(str)
    merged["robust"] = (decision == decision[:, :1]).all(axis=1)
    return merged.sort_values(["county_code", *_KEY], ignore_index=True)


@dataclass
class _PlanView:
    """Plan-like object for the map: the differing schools only."""

    schools: pd.DataFrame
    assignments: pd.DataFrame


def write_comparison(table: pd.DataFrame, folders: list[Path], out: Path) -> list[Path]:
    """Write ``comparison.csv``, ``comparison.xlsx`` and ``comparison_map.html`` into ``out``."""
    from openpyxl import Workbook

    from layout.outputs.excel import write_csv, write_table_sheet
    from layout.outputs.maps import write_map
    from layout.region import load_region

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    files.append(write_csv(table, out / "comparison.csv"))  # formula-like text neutralised
    wb = Workbook()
    ws = wb.active
    ws.title = "方案比较"
    write_table_sheet(ws, table, headers={"robust": "稳健决策(各情景一致)"})
    with atomic_path(out / "comparison.xlsx") as tmp:
        wb.save(tmp)
    files.append(out / "comparison.xlsx")

    labels = [c.split("@", 1)[1] for c in table.columns if c.startswith("action@")]
    diff = table[~table["robust"]].copy()
    first = f"action@{labels[0]}"
    view = pd.DataFrame({
        "school_id": diff["school_id"], "name": diff["name"], "level": diff["level"],
        "county_code": diff["county_code"], "township_code": diff["township_code"],
        "school_type": diff["school_type"],
        "action": diff[first].where(diff[first] != "absent", "new"),
        "merge_into": diff[f"merge_into@{labels[0]}"],
        "reason": diff[[f"action@{lab}" for lab in labels]].astype(str).apply(
            lambda r: "; ".join(f"{lab}: {a}" for lab, a in zip(labels, r, strict=True)), axis=1)
        if len(diff) else pd.Series(dtype=str),
        "lon": pd.to_numeric(diff["lon"]), "lat": pd.to_numeric(diff["lat"]),
    })
    view["site_class"] = diff.get("site_class", "")
    view["action_year"] = pd.array([pd.NA] * len(view), dtype="Int64")
    for col in ("enrollment_base", "demand_target", "capacity_base", "capacity_after",
                "seats_added", "beds_added", "boarders", "utilization"):
        view[col] = float("nan")
    manifest_region = None
    mpath = Path(folders[0]) / "manifest.json"
    if mpath.is_file():
        manifest_region = json.loads(mpath.read_text(encoding="utf-8")).get("region", {}).get("path")
    region = load_region(manifest_region)
    assignments = pd.DataFrame(columns=list(ASSIGNMENT_COLUMNS))
    files.append(write_map(_PlanView(view, assignments), region.townships, region.counties,
                           out / "comparison_map.html",
                           title=f"方案差异 {' vs '.join(labels)} (差异 {len(diff)} 处)"))
    return files
