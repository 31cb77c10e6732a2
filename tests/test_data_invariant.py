"""Invariant: a region that passes ``data check`` never makes the pipeline fail on data.

The tiny SYNTHETIC fixture region is damaged at random (rows deleted, cells blanked, text in number
columns, files truncated mid-line, a county's villages removed, ids duplicated, ...). Then either
:func:`layout.region.load_region` raises :class:`RegionDataError` naming a file of the region, or
the forecast and the layout plan run on that region without raising.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import layout.plan.planner as planner_mod
from layout.errors import RegionDataError
from layout.pipeline import demand_for_year, forecast_stage, plan_stage, run_scenario
from layout.plan.planner import FAILED_STATUS
from layout.region import load_region
from layout.region.summary import summarise
from layout.scenario import load_scenario

FIX = Path(__file__).parent / "fixtures"
TINY = FIX / "region" / "tiny"
SCENARIO = FIX / "scenarios" / "tiny.yaml"
CSVS = (
    "villages.csv", "children.csv", "women.csv", "schools.csv", "enrollment.csv",
    "candidate_sites.csv", "births.csv", "urbanisation.csv", "township_history.csv",
)
GEOJSONS = ("counties.geojson", "townships.geojson", "city.geojson")
NUMBER_COLUMNS = {
    "villages.csv": ("lon", "lat", "population"), "children.csv": ("age", "persons"),
    "women.csv": ("age", "persons"), "schools.csv": ("capacity", "boarding_beds", "teachers"),
    "enrollment.csv": ("year", "students"), "candidate_sites.csv": ("max_capacity",),
    "births.csv": ("year", "births"), "urbanisation.csv": ("year", "population", "urban_share"),
    "township_history.csv": ("year", "population"),
}
COUNTIES = ("519901", "519902")


def _split(folder: Path, name: str) -> tuple[list[str], list[str]]:
    """Header part (comment + header line) and data lines of a fixture CSV."""
    lines = (folder / name).read_text(encoding="utf-8").splitlines()
    return lines[:2], lines[2:]


def _join(folder: Path, name: str, head: list[str], rows: list[str]) -> None:
    (folder / name).write_text("\n".join([*head, *rows]) + "\n", encoding="utf-8")


def delete_rows(folder: Path, rnd: random.Random) -> str:
    name = rnd.choice(CSVS)
    head, rows = _split(folder, name)
    k = rnd.choice([1, 1, 2, max(1, len(rows) // 3), len(rows)])
    drop = set(rnd.sample(range(len(rows)), min(k, len(rows))))
    _join(folder, name, head, [r for i, r in enumerate(rows) if i not in drop])
    return f"delete {len(drop)} rows of {name}"


def _edit_cell(folder: Path, rnd: random.Random, name: str, column: str, value: str) -> str:
    head, rows = _split(folder, name)
    if not rows:
        return f"{name} is empty"
    i = rnd.randrange(len(rows))
    cells = rows[i].split(",")
    j = head[1].split(",").index(column)
    if j < len(cells):
        cells[j] = value
    rows[i] = ",".join(cells)
    _join(folder, name, head, rows)
    return f"{name} line {i + 3} {column} = {value!r}"


def blank_cell(folder: Path, rnd: random.Random) -> str:
    name = rnd.choice(CSVS)
    column = rnd.choice(_split(folder, name)[0][1].split(","))
    return _edit_cell(folder, rnd, name, column, "")


def text_in_number(folder: Path, rnd: random.Random) -> str:
    name = rnd.choice(CSVS)
    return _edit_cell(folder, rnd, name, rnd.choice(NUMBER_COLUMNS[name]), rnd.choice(["abc", "1e9", "-5", "nan", "0"]))


def truncate_file(folder: Path, rnd: random.Random) -> str:
    name = rnd.choice(CSVS)
    data = (folder / name).read_bytes()
    cut = rnd.randrange(len(data) // 3, len(data))
    (folder / name).write_bytes(data[:cut])
    return f"truncate {name} at byte {cut} of {len(data)}"


def _village_ids(folder: Path, county: str) -> set[str]:
    return {r.split(",")[0] for r in _split(folder, "villages.csv")[1] if r.startswith(county)}


def remove_county_villages(folder: Path, rnd: random.Random) -> str:
    county = rnd.choice(COUNTIES)
    ids = _village_ids(folder, county)
    names = ["villages.csv"] + (["children.csv", "women.csv"] if rnd.random() < 0.7 else [])
    for name in names:
        head, rows = _split(folder, name)
        _join(folder, name, head, [r for r in rows if r.split(",")[0] not in ids])
    return f"remove villages of county {county} from {names}"


def remove_county_rows(folder: Path, rnd: random.Random) -> str:
    county = rnd.choice(COUNTIES)
    name = rnd.choice(["births.csv", "urbanisation.csv", "township_history.csv", "schools.csv",
                       "candidate_sites.csv", "children.csv", "women.csv"])
    head, rows = _split(folder, name)
    col = head[1].split(",").index("township_code") if "township_code" in head[1] else 0
    keep = [r for r in rows if not r.split(",")[col].startswith(county)]
    _join(folder, name, head, keep)
    return f"remove county {county} rows of {name}"


def zero_counts(folder: Path, rnd: random.Random) -> str:
    name, column = rnd.choice([("women.csv", "persons"), ("children.csv", "persons"),
                               ("villages.csv", "population"), ("enrollment.csv", "students"),
                               ("births.csv", "births")])
    county = rnd.choice(COUNTIES)
    head, rows = _split(folder, name)
    j = head[1].split(",").index(column)
    out = []
    for r in rows:
        cells = r.split(",")
        if cells[0].startswith(county) or rnd.random() < 0.1:
            cells[j] = "0"
        out.append(",".join(cells))
    _join(folder, name, head, out)
    return f"zero {column} of county {county} in {name}"


def remove_year(folder: Path, rnd: random.Random) -> str:
    name = rnd.choice(["enrollment.csv", "births.csv", "urbanisation.csv", "township_history.csv"])
    head, rows = _split(folder, name)
    j = head[1].split(",").index("year")
    years = sorted({r.split(",")[j] for r in rows})
    if not years:
        return f"{name} has no years"
    year = rnd.choice([years[-1], *years])
    _join(folder, name, head, [r for r in rows if r.split(",")[j] != year])
    return f"remove year {year} from {name}"


def duplicate_row(folder: Path, rnd: random.Random) -> str:
    name = rnd.choice(CSVS)
    head, rows = _split(folder, name)
    if not rows:
        return f"{name} is empty"
    i = rnd.randrange(len(rows))
    rows.insert(rnd.randrange(len(rows) + 1), rows[i])
    _join(folder, name, head, rows)
    return f"duplicate line {i + 3} of {name}"


def edit_geojson(folder: Path, rnd: random.Random) -> str:
    name = rnd.choice(GEOJSONS)
    doc = json.loads((folder / name).read_text(encoding="utf-8"))
    feats = doc["features"]
    i = rnd.randrange(len(feats))
    action = rnd.choice(["drop", "flag", "blank"])
    if action == "drop":
        feats.pop(i)
    elif action == "flag":
        props = feats[i]["properties"]
        for key in ("is_county_seat", "is_central_town", "urban"):
            if key in props:
                props[key] = not props[key]
    else:
        key = rnd.choice(sorted(feats[i]["properties"]))
        feats[i]["properties"][key] = None
    (folder / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return f"{action} feature {i} of {name}"


def delete_file(folder: Path, rnd: random.Random) -> str:
    name = rnd.choice([*CSVS, *GEOJSONS])
    (folder / name).unlink()
    return f"delete {name}"


def remove_school(folder: Path, rnd: random.Random) -> str:
    """Drop one school with its enrollment (still valid data: the plan must cope)."""
    head, rows = _split(folder, "schools.csv")
    school = rows.pop(rnd.randrange(len(rows))).split(",")[0]
    _join(folder, "schools.csv", head, rows)
    head, rows = _split(folder, "enrollment.csv")
    _join(folder, "enrollment.csv", head, [r for r in rows if not r.startswith(school)])
    return f"remove school {school}"


def scale_counts(folder: Path, rnd: random.Random) -> str:
    """Multiply the counts of one county or one row by 0, 0.1 or 3 (often still valid)."""
    name, column = rnd.choice([("women.csv", "persons"), ("children.csv", "persons"),
                               ("villages.csv", "population"), ("enrollment.csv", "students"),
                               ("births.csv", "births"), ("schools.csv", "capacity"),
                               ("township_history.csv", "population")])
    factor = rnd.choice([0, 0.1, 3])
    prefix = rnd.choice([*COUNTIES, ""])
    head, rows = _split(folder, name)
    j = head[1].split(",").index(column)
    out = []
    for r in rows:
        cells = r.split(",")
        if cells[0].startswith(prefix) and cells[j].isdigit():
            cells[j] = str(max(1 if column == "capacity" else 0, round(int(cells[j]) * factor)))
        out.append(",".join(cells))
    _join(folder, name, head, out)
    return f"scale {column} of {name} rows starting {prefix!r} by {factor}"


def flip_township_flags(folder: Path, rnd: random.Random) -> str:
    doc = json.loads((folder / "townships.geojson").read_text(encoding="utf-8"))
    props = rnd.choice(doc["features"])["properties"]
    key = rnd.choice(["is_central_town", "urban", "is_county_seat"])
    props[key] = not props[key]
    (folder / "townships.geojson").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return f"flip {key} of township {props['township_code']}"


def drop_candidate_sites(folder: Path, rnd: random.Random) -> str:
    head, rows = _split(folder, "candidate_sites.csv")
    keep = [r for r in rows if rnd.random() < 0.5]
    _join(folder, "candidate_sites.csv", head, keep)
    return f"keep {len(keep)} of {len(rows)} candidate sites"


DAMAGE: tuple[Callable[[Path, random.Random], str], ...] = (
    delete_rows, blank_cell, text_in_number, truncate_file, remove_county_villages,
    remove_county_rows, zero_counts, remove_year, duplicate_row, edit_geojson, delete_file,
    remove_school, scale_counts, flip_township_flags, drop_candidate_sites,
)
FILES = (*CSVS, *GEOJSONS, "region.yaml")


def damage(folder: Path, plan: list[tuple[int, int]]) -> list[str]:
    """Apply each ``(damage index, seed)`` of ``plan``; returns what was done."""
    done = []
    for kind, seed in plan:
        try:
            done.append(DAMAGE[kind](folder, random.Random(seed)))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError, IndexError):
            done.append(f"{DAMAGE[kind].__name__} skipped (file already damaged)")
    return done


def check_invariant(folder: Path, done: list[str]) -> str:
    """Data check fails naming a file, or forecast + plan run; returns which happened."""
    try:
        region = load_region(folder)
    except RegionDataError as exc:
        text = str(exc)
        assert any(name in text for name in FILES), f"{done}: no file named in\n{text}"
        return "rejected"
    summarise(region)
    sc = load_scenario(SCENARIO)
    outlook = forecast_stage(region, sc, draws=3)
    plan = plan_stage(region, sc, demand_for_year(outlook, sc.target_year))
    failed = plan.solver_records[plan.solver_records["status"] == FAILED_STATUS]
    assert failed.empty, f"{done}: counties not planned: {plan.notes}"
    assert len(plan.schools) > 0, done
    return "ran"


plans = st.lists(
    st.tuples(st.integers(0, len(DAMAGE) - 1), st.integers(0, 10_000)), min_size=1, max_size=3
)


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans)
def test_checked_region_never_fails_the_pipeline(plan: list[tuple[int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "tiny"
        shutil.copytree(TINY, folder)
        done = damage(folder, plan)
        event(check_invariant(folder, done))


@pytest.mark.parametrize("kind", range(len(DAMAGE)), ids=[f.__name__ for f in DAMAGE])
def test_each_damage_kind_keeps_the_invariant(kind: int, tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    done = damage(folder, [(kind, 1)])
    check_invariant(folder, done)


def test_one_county_that_cannot_be_planned_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = planner_mod.build_county

    def broken(county: str, *args: object, **kwargs: object) -> object:
        if county == "519902":
            raise ValueError("no site can host the junior demand of 山乡")
        return real(county, *args, **kwargs)

    monkeypatch.setattr(planner_mod, "build_county", broken)
    said: list[str] = []
    sc = load_scenario(SCENARIO)
    res = run_scenario(sc, tmp_path / "out", draws=3, stages=("forecast", "plan"),
                       say=said.append, progress=False)
    plan = res.plan
    assert plan is not None
    assert set(plan.schools.loc[plan.schools["level"] != "vocational", "county_code"]) == {"519901"}
    rec = plan.solver_records[plan.solver_records["status"] == FAILED_STATUS]
    assert rec["county_code"].tolist() == ["519902"]
    assert "no site can host the junior demand" in rec["reason"].iloc[0]
    assert any("519902" in n and "no site can host" in n for n in plan.notes)
    assert any("519902" in m and "not planned" in m for m in said)
