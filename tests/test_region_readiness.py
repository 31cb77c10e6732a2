"""Root causes first, summary always shown, and the readiness checks of ``data check``.

Each test damages a copy of the tiny SYNTHETIC fixture region the way real files get damaged.
"""

from __future__ import annotations

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


def rows_of(folder: Path, name: str) -> list[str]:
    return (folder / name).read_text(encoding="utf-8").splitlines()


def write_rows(folder: Path, name: str, rows: list[str], end: str = "\n") -> None:
    (folder / name).write_text("\n".join(rows) + end, encoding="utf-8")


def error_of(folder: Path) -> RegionDataError:
    with pytest.raises(RegionDataError) as info:
        load_region(folder)
    return info.value


def matching(found: list[Problem], **expected: str) -> list[Problem]:
    return [p for p in found if all(getattr(p, k) == v for k, v in expected.items())]


def test_damaged_village_is_listed_before_the_references_it_breaks(region_dir: Path) -> None:
    # 4 damaged village ids: 4 x (18 + 35) children/women rows now point to unknown villages
    rows = rows_of(region_dir, "villages.csv")
    rows[2:6] = [r.replace("519901", "51990X", 1) for r in rows[2:6]]
    write_rows(region_dir, "villages.csv", rows)
    rows = rows_of(region_dir, "children.csv")  # and one bad cell of children.csv itself
    rows[-1] = rows[-1].rsplit(",", 1)[0] + ",abc"
    write_rows(region_dir, "children.csv", rows)
    err = error_of(region_dir)
    assert len(err.problems) > MAX_LISTED
    files = [p.file for p in err.problems[:5]]
    assert files == ["villages.csv"] * 4 + ["children.csv"]  # parents first, own rows first
    assert "does not match the expected format" in err.problems[0].message
    assert err.problems[4].value == "abc"
    text = str(err)
    listed = text.split("\n  - ")[1:]
    assert listed[0].startswith("villages.csv")
    assert listed[5].startswith("children.csv")  # follow-on problems come after every own row
    assert any("not in villages.csv" in line for line in listed[5:])
    # the summary is always shown, after the cap, with counts by file and kind
    tail = text.split(f"... and {len(err.problems) - MAX_LISTED} more\n", 1)[1]
    lines = tail.splitlines()
    assert lines[0].startswith("Problems by file and kind")
    assert lines[1].split()[:2] == ["villages.csv", "4"]
    assert lines[2].split()[:2] == ["children.csv", "1"]
    assert "  children.csv     72 × unknown village_id: not in villages.csv [follow-on]" in lines
    assert "  women.csv       140 × unknown village_id: not in villages.csv [follow-on]" in lines


def test_summary_shown_for_a_single_problem(region_dir: Path) -> None:
    rows = rows_of(region_dir, "schools.csv")
    rows[3] = rows[3].replace(",public,", ",state,")
    write_rows(region_dir, "schools.csv", rows)
    text = str(error_of(region_dir))
    assert text.splitlines()[-1].split() == ["schools.csv", "1", "×", "unknown", "ownership",
                                             "code", "[rows]"]


def test_file_cut_in_the_middle_of_a_record(region_dir: Path) -> None:
    rows = rows_of(region_dir, "schools.csv")
    last = len(rows)
    # the cut keeps 9 of 13 fields: every value still parses, the file just stops
    rows[-1] = ",".join(rows[-1].split(",")[:9])
    write_rows(region_dir, "schools.csv", rows, end="")
    err = error_of(region_dir)
    p = matching(err.problems, file="schools.csv", row=f"line {last}")[0]
    assert "ends in the middle of a record" in p.message
    assert "9 of 13 fields" in p.message
    assert err.problems[0] == p


def test_short_row_inside_a_file(region_dir: Path) -> None:
    rows = rows_of(region_dir, "schools.csv")
    rows[4] = ",".join(rows[4].split(",")[:12])  # programme_groups (may be empty) left out
    write_rows(region_dir, "schools.csv", rows)
    p = matching(error_of(region_dir).problems, file="schools.csv", row="line 5")[0]
    assert "12 of 13 fields" in p.message


def test_enrollment_cut_at_a_line_end_leaves_schools_without_pupils(region_dir: Path) -> None:
    rows = rows_of(region_dir, "enrollment.csv")
    write_rows(region_dir, "enrollment.csv", rows[:-10])  # the last school loses 2023
    found = error_of(region_dir).problems
    p = matching(found, file="schools.csv", column="school_id")[0]
    assert p.row == "5199020005"
    assert "base year 2023" in p.message


def test_county_without_villages(region_dir: Path) -> None:
    for name in ("villages.csv", "children.csv", "women.csv"):
        rows = rows_of(region_dir, name)
        write_rows(region_dir, name, [r for r in rows if not r.startswith("519902")])
    found = error_of(region_dir).problems
    assert matching(found, file="villages.csv", row="519902", column="population")
    p = matching(found, file="women.csv", row="519902")[0]
    assert "women aged 15-49" in p.message
    assert not matching(found, row="519901")


def test_county_without_women_of_child_bearing_age(region_dir: Path) -> None:
    rows = rows_of(region_dir, "women.csv")
    rows[2:] = [r.rsplit(",", 1)[0] + ",0" if r.startswith("519901") else r for r in rows[2:]]
    write_rows(region_dir, "women.csv", rows)
    found = error_of(region_dir).problems
    assert [(p.file, p.row) for p in found] == [("women.csv", "519901")]


def test_births_missing_for_base_year(region_dir: Path) -> None:
    rows = rows_of(region_dir, "births.csv")
    write_rows(region_dir, "births.csv", [r for r in rows if r != "519902,2023,70"])
    p = matching(error_of(region_dir).problems, file="births.csv", row="519902")[0]
    assert "2023" in p.message


def test_births_gap_year(region_dir: Path) -> None:
    rows = rows_of(region_dir, "births.csv")
    write_rows(region_dir, "births.csv", [r for r in rows if ",2017," not in r])
    found = error_of(region_dir).problems
    assert {p.row for p in matching(found, file="births.csv")} == {"519901", "519902"}
    assert "missing years: 2017" in found[0].message


@pytest.mark.parametrize("share", ["0", "1"])
def test_urban_share_at_the_edge(region_dir: Path, share: str) -> None:
    rows = rows_of(region_dir, "urbanisation.csv")
    rows[3] = ",".join([*rows[3].split(",")[:3], share])
    write_rows(region_dir, "urbanisation.csv", rows)
    p = matching(error_of(region_dir).problems, file="urbanisation.csv", row="line 4")[0]
    assert "strictly between 0 and 1" in p.message


def test_enrollment_year_gap(region_dir: Path) -> None:
    rows = rows_of(region_dir, "enrollment.csv")
    write_rows(region_dir, "enrollment.csv", [r for r in rows if ",2022," not in r])
    p = matching(error_of(region_dir).problems, file="enrollment.csv", column="year")[0]
    assert "2022" in p.message


def test_enrollment_in_one_school_only(region_dir: Path) -> None:
    rows = rows_of(region_dir, "enrollment.csv")
    first = rows[2].split(",", 1)[0]
    rows[2:] = [r if r.startswith(first + ",") else r.rsplit(",", 1)[0] + ",0" for r in rows[2:]]
    write_rows(region_dir, "enrollment.csv", rows)
    p = matching(error_of(region_dir).problems, file="enrollment.csv", column="students")[0]
    assert "at least two schools" in p.message


def test_enrollment_in_one_county_is_enough(region_dir: Path) -> None:
    # a county planning on its own: the back-tests then leave one school out at a time
    rows = rows_of(region_dir, "enrollment.csv")
    rows[2:] = [r.rsplit(",", 1)[0] + ",0" if r.startswith("519902") else r for r in rows[2:]]
    write_rows(region_dir, "enrollment.csv", rows)
    load_region(region_dir)


def test_township_history_without_base_year(region_dir: Path) -> None:
    rows = rows_of(region_dir, "township_history.csv")
    write_rows(region_dir, "township_history.csv", [r for r in rows if ",2023," not in r])
    p = matching(error_of(region_dir).problems, file="township_history.csv")[0]
    assert "base year 2023" in p.message


def test_embedded_region_passes() -> None:
    region = load_region()
    assert len(region.counties) == 7
