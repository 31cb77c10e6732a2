"""The scenario file's top level, read once for the forecast and the layout.

A scenario file has these top-level keys (unknown keys are errors naming the key and the file)::

    name: 基准情景 baseline          # required
    description: ...                  # free text
    seed: 20241                       # seeds the Monte Carlo and the solver
    target_year: 2030                 # year the layout is planned for
    region: null                      # region folder; null = the embedded Guangyuan region
    forecast: {...}                   # validated by forecasting.scenario.ForecastScenario
    layout: {...}                     # validated by layout.plan.params.LayoutParams
    solver: {time_limit: 30, threads: null}
    map: {tiles: none}

:class:`ScenarioFile` validates this level (and the small ``solver:`` and ``map:`` sections); the
``forecast:`` and ``layout:`` sections are validated by their own packages' models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schoolsystem.errors import ScenarioFileError


class StrictModel(BaseModel):
    """Base of every scenario model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SolverSettings(StrictModel):
    """Solver settings of a run."""

    time_limit: float = Field(30.0, gt=0, description="seconds per solver sub-problem (a county "
                              "splits into independent parts; see layout.plan.model); on an idle "
                              "2-core machine every part of the embedded city stops on the gap "
                              "within 8 s, the limit guards against slow or loaded machines")
    threads: int | None = Field(None, ge=1, description="solver threads; None = solver default")


class MapSettings(StrictModel):
    """Map settings of a run."""

    tiles: Literal["none", "osm", "tianditu", "gaode"] = "none"


class ScenarioFile(StrictModel):
    """Top level of a scenario file (``forecast`` and ``layout`` are validated by their owners)."""

    name: str
    description: str = ""
    seed: int = 0
    target_year: int = Field(2030, ge=2000, le=2100)
    region: str | None = None
    forecast: dict[str, Any] = Field(default_factory=dict)
    layout: dict[str, Any] | None = Field(default_factory=dict)
    solver: SolverSettings = SolverSettings()
    map: MapSettings = MapSettings()


def format_validation_error(error: ValidationError, path: str | Path, prefix: str = "") -> str:
    """One line per pydantic error: ``file: dotted.key: message`` (unknown keys named)."""
    lines = []
    for item in error.errors():
        key = ".".join(str(p) for p in (prefix, *item["loc"]) if p != "")
        if item["type"] == "extra_forbidden":
            msg = "unknown key"
        elif item["type"] == "missing":
            msg = "required key is missing"
        else:
            msg = f"{item['msg']} (got {item.get('input')!r})"
        lines.append(f"{path}: {key}: {msg}")
    return "\n".join(lines)


def read_scenario_yaml(path: str | Path) -> dict[str, Any]:
    """Read a scenario file (UTF-8, BOM allowed) into a mapping; errors name the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ScenarioFileError(f"{path}: cannot read scenario file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ScenarioFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioFileError(f"{path}: not valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScenarioFileError(
            f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def parse_scenario_file(data: Any, path: str | Path = "<scenario>") -> ScenarioFile:
    """Validate the top level of an already-parsed scenario mapping.

    Examples
    --------
    >>> parse_scenario_file({"name": "t", "colour": "red"}, "s.yaml")
    Traceback (most recent call last):
    schoolsystem.errors.ScenarioFileError: s.yaml: colour: unknown key

    """
    if not isinstance(data, dict):
        raise ScenarioFileError(
            f"{path}: top level must be a mapping, got {type(data).__name__}")
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioFileError(format_validation_error(exc, path, "")) from None


def flatten(values: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings and lists -> ``{"a.b.c": value}`` (for manifests and parameter sheets).

    Examples
    --------
    >>> flatten({"a": {"b": 1, "c": [1, 2]}, "d": None})
    {'a.b': 1, 'a.c': [1, 2], 'd': None}

    """
    if isinstance(values, dict):
        out: dict[str, Any] = {}
        for key, value in values.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: values}
