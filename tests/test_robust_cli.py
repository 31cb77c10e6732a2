"""``schoolplan run --robust``: end to end on the tiny SYNTHETIC region, and its named errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from layout.cli import app
from layout.robust_run import scenario_paths

FIX = Path(__file__).parent / "fixtures"
runner = CliRunner()


def _scenario(folder: Path, name: str, **changes: object) -> Path:
    """A staged copy of the tiny scenario (``changes`` update the top level / forecast)."""
    sc = yaml.safe_load((FIX / "scenarios" / "tiny.yaml").read_text(encoding="utf-8"))
    sc["region"] = str(FIX / "region" / "tiny")
    sc["layout"] = {"milestones": [2025, 2027, 2030, 2035]}
    sc["target_year"] = 2030
    for key, value in changes.items():
        if key in sc.get("forecast", {}) or key == "tfr_path":
            sc["forecast"][key] = value
        else:
            sc[key] = value
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    return path


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"school_id": str, "county_code": str})


@pytest.fixture(scope="module")
def robust_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("robust")
    a = _scenario(tmp, "medium")
    b = _scenario(tmp, "low", tfr_path="low")
    out = tmp / "out"
    res = runner.invoke(app, ["run", "--robust", str(a), str(b), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert "regret" in res.output
    return out


def test_robust_run_writes_regret_first_stage_and_each_plan(robust_out: Path) -> None:
    for name in ("regret", "first_stage", "candidates", "shares"):
        assert (robust_out / "robust" / f"{name}.csv").is_file(), name
    assert "稳健" in (robust_out / "robust" / "summary.md").read_text(encoding="utf-8")
    for scenario in ("medium", "low"):
        for name in ("schools.csv", "timeline.csv", "report.html", "layout.xlsx",
                     "manifest.json"):
            assert (robust_out / scenario / name).is_file(), (scenario, name)
    regret = _read(robust_out / "robust" / "regret.csv")
    assert list(regret.columns) == ["scenario", "county_code", "own_cost", "own_solve_cost",
                                    "robust_cost", "regret", "regret_pct", "chosen_from"]
    city = regret[regret["county_code"] == "all"]
    assert list(city["scenario"]) == ["medium", "low"]
    assert (city["regret"] >= -0.02 * city["own_cost"]).all()
    first = _read(robust_out / "robust" / "first_stage.csv")
    assert {"county_code", "school_id", "level", "level_label", "open_first", "seats_first",
            "chosen_from"} <= set(first.columns)
    assert set(first["chosen_from"]) <= {"medium", "low"}


def test_robust_run_first_stage_is_common(robust_out: Path) -> None:
    shares = _read(robust_out / "robust" / "shares.csv").set_index("decisions")
    assert shares.loc["first_stage", "share"] == 1.0
    caps = [_read(robust_out / s / "schools.csv").query("level != 'vocational'")
            .set_index(["school_id", "level"])["capacity_2025"].sort_index()
            for s in ("medium", "low")]
    pd.testing.assert_series_equal(caps[0], caps[1])


def test_different_milestones_exit_2_naming_them(tmp_path: Path) -> None:
    a = _scenario(tmp_path, "a")
    b = _scenario(tmp_path, "b", layout={"milestones": [2025, 2030, 2035]})
    res = runner.invoke(app, ["run", "--robust", str(a), str(b), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "milestones differ" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_different_regions_exit_2(tmp_path: Path) -> None:
    a = _scenario(tmp_path, "a")
    b = _scenario(tmp_path, "b", region=str(FIX))
    res = runner.invoke(app, ["run", "--robust", str(a), str(b), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "regions differ" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("args", [
    ["--robust"],  # no scenarios
    ["--robust", "A"],  # one scenario
    ["--robust", "A", "A"],  # the same file twice
    ["-s", "A", "--robust", "A", "A"],  # --scenario as well
    ["A", "A"],  # scenario files without --robust
])
def test_bad_robust_command_lines_exit_2(tmp_path: Path, args: list[str]) -> None:
    a = str(_scenario(tmp_path, "a"))
    args = [a if x == "A" else x for x in args]
    res = runner.invoke(app, ["run", *args, "-o", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output


def test_a_robust_block_lists_the_scenarios(tmp_path: Path) -> None:
    a, b = _scenario(tmp_path, "a"), _scenario(tmp_path, "b")
    block = tmp_path / "robust.yaml"
    block.write_text("robust:\n  scenarios: [a.yaml, b.yaml, baseline]\n", encoding="utf-8")
    paths = scenario_paths([block])
    assert paths[:2] == [a, b]
    assert paths[2].name == "baseline.yaml"
    block.write_text("robust:\n  scenarios: [a.yaml]\n  colour: red\n", encoding="utf-8")
    res = runner.invoke(app, ["run", "--robust", str(block), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "robust file" in res.output
