"""The shared school-system contract: one vocabulary, read by the forecast, the region contract,
the layout model and the outputs; the effective scenario reported in manifests and workbooks."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from forecasting.demand import LevelRates, band_ages, grade_table
from layout.cli import app
from layout.region.schema import LAYERS
from layout.scenario import load_scenario
from schoolsystem import schemas, vocabulary
from schoolsystem.errors import ProjectError

ROOT = Path(__file__).resolve().parent.parent
FIX = Path(__file__).parent / "fixtures"


def test_bands_partition_the_grades_and_ages_follow_the_grades() -> None:
    seen = [g for b in vocabulary.BANDS.values() for g in b.grades]
    assert sorted(seen) == sorted(vocabulary.GRADES)
    assert len(seen) == len(set(seen))
    for band in vocabulary.BANDS.values():
        assert [vocabulary.GRADE_AGE[g] for g in band.grades] == list(band.ages)
        assert band.level in vocabulary.LEVELS
    # every grade but the two entry grades has a previous grade, one year younger or a level entry
    for grade, prev in vocabulary.PREVIOUS_GRADE.items():
        assert vocabulary.GRADE_AGE[grade] == vocabulary.GRADE_AGE[prev] + 1
    assert set(vocabulary.GRADES) - set(vocabulary.PREVIOUS_GRADE) == {"K1", "G1"}


def test_grades_one_to_three_and_kindergarten_never_board() -> None:
    no_board = {b.name for b in vocabulary.BANDS.values() if not b.boards}
    assert no_board == {"kindergarten", "primary_lower"}
    assert {b for g in vocabulary.LOWER_GRADES for b in [vocabulary.GRADE_BAND[g]]} == {
        "primary_lower"}


def test_forecast_tables_are_derived_from_the_vocabulary() -> None:
    ages = band_ages()
    for band in vocabulary.BANDS.values():
        got = sorted(ages.loc[ages["grade_band"] == band.name, "age"])
        assert got == list(band.ages)
    grades = grade_table().set_index("grade")
    assert grades["level"].to_dict() == dict(vocabulary.GRADE_LEVEL)


def test_one_set_of_participation_defaults() -> None:
    # the forecast's default rates are the vocabulary's (there used to be 0.9 and 0.92)
    assert LevelRates().band_rates() == vocabulary.PARTICIPATION_DEFAULTS.band_rates()
    with pytest.raises(ProjectError, match="vocational_share"):
        LevelRates(vocational_share=1.5)


def test_region_contract_accepts_exactly_the_vocabulary() -> None:
    schools = LAYERS["schools"]
    types = next(c for c in schools.columns if c.name == "school_type")
    assert types.choices == frozenset(vocabulary.SCHOOL_TYPES)
    enrollment = LAYERS["enrollment"]
    grade = next(c for c in enrollment.columns if c.name == "grade")
    assert grade.choices == frozenset(vocabulary.GRADES)


def test_every_plan_column_has_a_label_and_a_dtype() -> None:
    for table, cols in schemas.PLAN_TABLES.items():
        for col in cols:
            c = schemas.COLUMNS[col]
            assert c.label_zh, (table, col)
            assert c.dtype in {"str", "int", "float", "bool"}
    for cols in schemas.FORECAST_TABLES.values():
        assert not schemas.missing_columns(schemas.COLUMNS, cols)


def _assigned_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def test_no_second_copy_of_the_vocabulary() -> None:
    # A module-level constant named like a vocabulary term outside schoolsystem is a second copy.
    vocab_names = {"LEVELS", "GRADE_BANDS", "BAND_LEVEL", "GRADE_LEVEL", "SCHOOL_TYPES",
                   "SCHOOL_TYPE_LEVELS", "ACTIONS", "BAND_LABELS_ZH", "LEVEL_LABELS_ZH",
                   "ACTION_LABELS_ZH", "PREVIOUS_GRADE", "LOWER_GRADES", "SCHOOL_COLUMNS",
                   "ASSIGNMENT_COLUMNS", "UNSERVED_COLUMNS", "KPI_COLUMNS", "PROJECT_COLUMNS",
                   "SOLVER_COLUMNS", "DEMAND_COLUMNS", "PLAN_TABLES", "BAND_AGE_GROUPS"}
    offenders = {}
    for pkg in ("forecasting", "layout"):
        for path in (ROOT / pkg).rglob("*.py"):
            hit = _assigned_names(path) & vocab_names
            if hit:
                offenders[str(path.relative_to(ROOT))] = sorted(hit)
    assert not offenders


def test_scenario_top_level_is_modelled_once() -> None:
    for path in ("forecasting/scenario.py", "layout/scenario.py"):
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
        assert not classes & {"ScenarioFile", "_TopLevel", "SolverSettings", "MapSettings"}, path


def test_effective_scenario_has_every_default(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text("name: t\nlayout: {levels: {vocational: {min_size: 800}}}\n", encoding="utf-8")
    eff = load_scenario(p).effective()
    assert eff["layout"]["levels"]["vocational"]["min_size"] == 800
    # a level given in part keeps the defaults of the rest
    assert eff["layout"]["levels"]["vocational"]["class_size"] == 50
    # defaults the file never mentions are reported
    assert eff["layout"]["bands"]["primary_lower"]["day_cap_rural_min"] == 30
    assert eff["forecast"]["tfr_path"] == "medium"
    assert eff["solver"]["time_limit"] == 30.0


def test_manifest_and_workbook_report_the_effective_parameters(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", "-s", str(FIX / "scenarios" / "tiny.yaml"), "-o",
                                   str(out), "-q"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    text = json.dumps(manifest, ensure_ascii=False)
    # a default the tiny scenario does not set, found in the manifest and the 情景参数 sheet
    assert "boarding_cap_min" in text
    assert "min_size" in text
    wb = openpyxl.load_workbook(out / "layout.xlsx", read_only=True)
    names = [row[0] for row in wb["情景参数"].iter_rows(values_only=True)]
    assert any(str(n).endswith("levels.vocational.min_size") for n in names)
    assert any(str(n).endswith("bands.junior.boarding_cap_min") for n in names)
