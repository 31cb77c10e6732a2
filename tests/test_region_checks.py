"""Bad-input tests: each variant of the tiny region must be reported with file, row, column, value."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from layout.errors import Problem, RegionDataError
from layout.region import load_region
from layout.region.checks import MAX_LISTED

TINY = Path(__file__).parent / "fixtures" / "region" / "tiny"


@pytest.fixture
def region_dir(tmp_path: Path) -> Path:
    dest = tmp_path / "tiny"
    shutil.copytree(TINY, dest)
    return dest


def lines_of(folder: Path, name: str) -> list[str]:
    return (folder / name).read_text(encoding="utf-8").split("\n")


def write_lines(folder: Path, name: str, lines: list[str]) -> None:
    (folder / name).write_text("\n".join(lines), encoding="utf-8")


def set_cell(folder: Path, name: str, line_no: int, column: str, value: str) -> str:
    """Set one cell of a CSV (1-based physical line number); returns the row's first field."""
    lines = lines_of(folder, name)
    header = lines[1].split(",")
    cells = lines[line_no - 1].split(",")
    cells[header.index(column)] = value
    lines[line_no - 1] = ",".join(cells)
    write_lines(folder, name, lines)
    return cells[0]


def find_line(folder: Path, name: str, *needles: str) -> int:
    """Physical line number (1-based) of the first line containing every needle."""
    for i, line in enumerate(lines_of(folder, name), start=1):
        if all(n in line.split(",") for n in needles):
            return i
    raise AssertionError(f"{needles} not in {name}")


def problems(folder: Path) -> list[Problem]:
    with pytest.raises(RegionDataError) as info:
        load_region(folder)
    return info.value.problems


def only(found: list[Problem], **expected: str) -> Problem:
    hits = [p for p in found if all(getattr(p, k) == v for k, v in expected.items())]
    assert hits, f"no problem matching {expected} in {[str(p) for p in found]}"
    return hits[0]


def edit_geojson(folder: Path, name: str, feature: int, geometry: dict | None) -> str:
    doc = json.loads((folder / name).read_text(encoding="utf-8"))
    doc["features"][feature]["geometry"] = geometry
    (folder / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return next(iter(doc["features"][feature]["properties"].values()))


def test_tiny_fixture_is_valid() -> None:
    region = load_region(TINY)
    assert len(region.villages) == 8
    assert len(region.schools) == 10


def test_missing_column(region_dir: Path) -> None:
    lines = lines_of(region_dir, "schools.csv")
    lines[1:] = [
        ",".join(line.split(",")[:8] + line.split(",")[9:]) if line else line for line in lines[1:]
    ]
    assert "capacity" not in lines[1]
    write_lines(region_dir, "schools.csv", lines)
    p = only(problems(region_dir), file="schools.csv", column="capacity")
    assert p.row == ""
    assert "required column is missing" in p.message


def test_non_numeric_count(region_dir: Path) -> None:
    set_cell(region_dir, "children.csv", 5, "persons", "abc")
    p = only(problems(region_dir), file="children.csv", row="line 5", column="persons")
    assert p.value == "abc"
    assert "not a number" in p.message


def test_negative_count(region_dir: Path) -> None:
    set_cell(region_dir, "enrollment.csv", 10, "students", "-3")
    p = only(problems(region_dir), file="enrollment.csv", row="line 10", column="students")
    assert p.value == "-3"
    assert ">= 0" in p.message


def test_duplicate_id(region_dir: Path) -> None:
    lines = lines_of(region_dir, "villages.csv")
    first = lines[2].split(",")[0]
    second = lines[3].split(",")[0]
    lines[3] = lines[3].replace(second, first, 1)
    write_lines(region_dir, "villages.csv", lines)
    found = problems(region_dir)
    p = only(found, file="villages.csv", row=first, column="village_id")
    assert p.value == first
    assert "duplicate" in p.message
    assert "line 3" in p.message
    assert "line 4" in p.message


def test_dangling_township_reference(region_dir: Path) -> None:
    vid = set_cell(region_dir, "villages.csv", 4, "township_code", "519901099")
    p = only(problems(region_dir), file="villages.csv", row=vid, column="township_code")
    assert p.value == "519901099"
    assert "not in townships.geojson" in p.message


def test_dangling_school_in_enrollment(region_dir: Path) -> None:
    set_cell(region_dir, "enrollment.csv", 7, "school_id", "5199019999")
    p = only(problems(region_dir), file="enrollment.csv", row="line 7", column="school_id")
    assert p.value == "5199019999"
    assert "not in schools.csv" in p.message


def test_invalid_bowtie_polygon(region_dir: Path) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[105.8, 32.4], [105.9, 32.45], [105.9, 32.4], [105.8, 32.45], [105.8, 32.4]]
        ],
    }
    code = edit_geojson(region_dir, "townships.geojson", 0, bowtie)
    p = only(problems(region_dir), file="townships.geojson", row=code, column="geometry")
    assert "invalid polygon" in p.message
    assert "Self-intersection" in p.value


@pytest.mark.parametrize("geometry", [None, {"type": "Polygon", "coordinates": []}])
def test_empty_geometry(region_dir: Path, geometry: dict | None) -> None:
    code = edit_geojson(region_dir, "counties.geojson", 1, geometry)
    p = only(problems(region_dir), file="counties.geojson", row=code, column="geometry")
    assert p.message == "empty geometry"


def test_swapped_lon_lat(region_dir: Path) -> None:
    line = 5
    cells = lines_of(region_dir, "schools.csv")[line - 1].split(",")
    lon, lat = cells[3], cells[4]
    set_cell(region_dir, "schools.csv", line, "lon", lat)
    sid = set_cell(region_dir, "schools.csv", line, "lat", lon)
    found = [p for p in problems(region_dir) if p.file == "schools.csv" and p.row == sid]
    assert len(found) == 1, [str(p) for p in found]
    assert found[0].column == "lon/lat"
    assert lat in found[0].value
    assert lon in found[0].value
    assert "lon and lat look swapped" in found[0].message


def test_point_outside_region(region_dir: Path) -> None:
    set_cell(region_dir, "villages.csv", 6, "lon", "104.1")
    vid = set_cell(region_dir, "villages.csv", 6, "lat", "30.5")
    p = only(problems(region_dir), file="villages.csv", row=vid, column="lon/lat")
    assert p.value == "104.1, 30.5"
    assert "outside the region" in p.message
    assert "swapped" not in p.message


def test_point_in_wrong_county(region_dir: Path) -> None:
    # village of county 519901 moved into county 519902
    vid = set_cell(region_dir, "villages.csv", 3, "lon", "105.95")
    p = only(problems(region_dir), file="villages.csv", row=vid, column="lon/lat")
    assert "declared county 519901" in p.message
    assert "519902" in p.message


def test_unknown_level_code(region_dir: Path) -> None:
    line = find_line(region_dir, "schools.csv", "nine_year")
    sid = set_cell(region_dir, "schools.csv", line, "levels", "primary;middle")
    p = only(problems(region_dir), file="schools.csv", row=sid, column="levels")
    assert p.value == "primary;middle"
    assert "unknown level code 'middle'" in p.message


def test_levels_inconsistent_with_school_type(region_dir: Path) -> None:
    line = find_line(region_dir, "schools.csv", "nine_year")
    sid = set_cell(region_dir, "schools.csv", line, "levels", "primary")
    p = only(problems(region_dir), file="schools.csv", row=sid, column="levels")
    assert "nine_year" in p.message


def test_grade_inconsistent_with_level(region_dir: Path) -> None:
    line = find_line(region_dir, "enrollment.csv", "5199010002", "2022", "G3")
    set_cell(region_dir, "enrollment.csv", line, "grade", "G10")
    p = only(problems(region_dir), file="enrollment.csv", row=f"line {line}", column="grade")
    assert p.value == "G10"
    assert "senior" in p.message


def test_teaching_point_grade_limit(region_dir: Path) -> None:
    line = find_line(region_dir, "enrollment.csv", "5199020002", "2023", "G3")
    set_cell(region_dir, "enrollment.csv", line, "grade", "G5")
    p = only(problems(region_dir), file="enrollment.csv", row=f"line {line}", column="grade")
    assert "teaching_point" in p.message


def test_age_gap(region_dir: Path) -> None:
    lines = lines_of(region_dir, "children.csv")
    village = lines[2].split(",")[0]
    line = next(i for i, text in enumerate(lines) if text.startswith(f"{village},7,"))
    del lines[line]
    write_lines(region_dir, "children.csv", lines)
    found = problems(region_dir)
    assert len(found) == 1
    p = only(found, file="children.csv", row=village, column="age")
    assert p.value == "7"


def test_duplicate_village_age_row(region_dir: Path) -> None:
    lines = lines_of(region_dir, "women.csv")
    lines.insert(5, lines[4])  # line 5 repeated as line 6
    write_lines(region_dir, "women.csv", lines)
    found = [p for p in problems(region_dir) if p.file == "women.csv"]
    assert {p.row for p in found} == {"line 5", "line 6"}
    assert all(p.column == "village_id, age" and "duplicate" in p.message for p in found)


def test_implausible_value(region_dir: Path) -> None:
    sid = set_cell(region_dir, "schools.csv", 3, "capacity", "50000")
    p = only(problems(region_dir), file="schools.csv", row=sid, column="capacity")
    assert p.value == "50000"
    assert "implausibly large" in p.message


def test_implausible_urban_share(region_dir: Path) -> None:
    set_cell(region_dir, "urbanisation.csv", 4, "urban_share", "47.5")
    p = only(problems(region_dir), file="urbanisation.csv", row="line 4", column="urban_share")
    assert p.value == "47.5"


def test_unknown_school_type(region_dir: Path) -> None:
    sid = set_cell(region_dir, "schools.csv", 4, "school_type", "university")
    p = only(problems(region_dir), file="schools.csv", row=sid, column="school_type")
    assert p.value == "university"
    assert "unknown school_type" in p.message


def test_bad_boolean(region_dir: Path) -> None:
    vid = set_cell(region_dir, "villages.csv", 3, "urban", "maybe")
    p = only(problems(region_dir), file="villages.csv", row=vid, column="urban")
    assert p.value == "maybe"


def test_missing_file(region_dir: Path) -> None:
    (region_dir / "women.csv").unlink()
    found = problems(region_dir)
    p = only(found, file="women.csv")
    assert "missing" in p.message
    assert len(found) == 1


def test_missing_yaml_key(region_dir: Path) -> None:
    text = (region_dir / "region.yaml").read_text(encoding="utf-8")
    (region_dir / "region.yaml").write_text(
        text.replace("projected_crs: EPSG:4544\n", ""), encoding="utf-8"
    )
    p = only(problems(region_dir), file="region.yaml", column="projected_crs")
    assert "missing" in p.message


def test_all_problems_reported_together(region_dir: Path) -> None:
    set_cell(region_dir, "schools.csv", 3, "capacity", "-1")
    set_cell(region_dir, "schools.csv", 4, "ownership", "state")
    set_cell(region_dir, "schools.csv", 5, "teachers", "many")
    found = problems(region_dir)
    assert [(p.file, p.column) for p in found] == [
        ("schools.csv", "capacity"),
        ("schools.csv", "ownership"),
        ("schools.csv", "teachers"),
    ]


def test_message_sorted_and_capped(region_dir: Path) -> None:
    lines = lines_of(region_dir, "women.csv")
    lines[2:] = [line.rsplit(",", 1)[0] + ",-1" if line else line for line in lines[2:]]
    write_lines(region_dir, "women.csv", lines)
    set_cell(region_dir, "births.csv", 3, "births", "x")
    with pytest.raises(RegionDataError) as info:
        load_region(region_dir)
    err = info.value
    n_women = sum(1 for line in lines[2:] if line)
    assert len(err.problems) == n_women + 1
    assert err.problems[-1].file == "births.csv"  # files in layer order: women before births
    rows = [int(p.row.split()[1]) for p in err.problems[:-1]]
    assert rows == sorted(rows)
    text = str(err)
    assert f"... and {len(err.problems) - MAX_LISTED} more" in text
    assert text.count("\n  - ") == MAX_LISTED


def test_nonexistent_folder(tmp_path: Path) -> None:
    found = problems(tmp_path / "nope")
    assert len(found) == 1
    assert "does not exist" in found[0].message


def test_city_code_mismatch(region_dir: Path) -> None:
    path = region_dir / "city.geojson"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"519900"', '"519800"'), encoding="utf-8"
    )
    p = only(problems(region_dir), file="city.geojson", row="519800", column="code")
    assert "519900" in p.message
