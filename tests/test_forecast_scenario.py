"""Scenario files: shipped files load; errors name key and file."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecasting import ScenarioError, load_forecast_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SHIPPED = ["baseline", "low_births", "fast_urbanisation", "continued_decline"]

GOOD = """\
name: 测试 test
description: x
seed: 5
target_year: 2030
forecast:
  tfr_path: low
  urbanisation: {target: 0.6}
layout: {}
"""


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_load(name):
    sc = load_forecast_scenario(SCENARIOS / f"{name}.yaml")
    assert sc.name
    assert sc.seed == 20241  # inherited from the top level
    assert sc.target_year == 2030


def test_shipped_scenarios_differ_as_documented():
    sc = {n: load_forecast_scenario(SCENARIOS / f"{n}.yaml") for n in SHIPPED}
    assert sc["baseline"].tfr_path == "medium"
    assert sc["low_births"].tfr_path == "low"
    assert sc["continued_decline"].tfr_path == "continued_decline"
    assert sc["fast_urbanisation"].urbanisation.target > sc["baseline"].urbanisation.target


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_and_defaults(tmp_path):
    sc = load_forecast_scenario(_write(tmp_path, GOOD))
    assert sc.tfr_path == "low"
    assert sc.seed == 5
    assert sc.urbanisation.target == 0.6
    assert sc.urbanisation.speed == 1.0
    assert sc.draws == 0


def test_unknown_forecast_key_names_key_and_file(tmp_path):
    path = _write(tmp_path, GOOD.replace("  tfr_path: low", "  tfr_path: low\n  tfr_targt: 1.0"))
    with pytest.raises(ScenarioError) as err:
        load_forecast_scenario(path)
    assert "forecast.tfr_targt" in str(err.value)
    assert str(path) in str(err.value)
    assert "unknown key" in str(err.value)


def test_unknown_nested_and_top_level_keys(tmp_path):
    path = _write(tmp_path, GOOD.replace("{target: 0.6}", "{target: 0.6, pace: 2}"))
    with pytest.raises(ScenarioError, match=r"forecast\.urbanisation\.pace: unknown key"):
        load_forecast_scenario(path)
    path = _write(tmp_path, GOOD + "colour: red\n")
    with pytest.raises(ScenarioError) as err:
        load_forecast_scenario(path)
    assert "colour: unknown key" in str(err.value)
    assert str(path) in str(err.value)


def test_layout_section_is_not_validated_here(tmp_path):
    path = _write(tmp_path, GOOD.replace("layout: {}", "layout: {anything: [1, 2]}"))
    assert load_forecast_scenario(path).tfr_path == "low"


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("  tfr_path: low", "  tfr_target: 0", "forecast.tfr_target"),
        ("  tfr_path: low", "  tfr_target: -0.5", "forecast.tfr_target"),
        ("  tfr_path: low", "  tfr_path: [1.0, 0.0]", "forecast.tfr_path"),
        ("  tfr_path: low", "  tfr_path: lowest", "forecast.tfr_path"),
        ("{target: 0.6}", "{target: 1.2}", "forecast.urbanisation.target"),
        ("{target: 0.6}", "{target: 0.6, speed: 0}", "forecast.urbanisation.speed"),
        ("  tfr_path: low", "  draws: -1", "forecast.draws"),
    ],
)
def test_impossible_values(tmp_path, old, new, key):
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ScenarioError) as err:
        load_forecast_scenario(path)
    assert key in str(err.value)
    assert str(path) in str(err.value)


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_forecast_scenario(tmp_path / "missing.yaml")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_forecast_scenario(_write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(ScenarioError, match="name: required key is missing"):
        load_forecast_scenario(_write(tmp_path, "forecast: {}\n"))
