"""Scenario files: the ``forecast:`` section, validated with pydantic (unknown keys rejected).

The top level of a scenario file is modelled once, in :mod:`schoolsystem.scenario`; this module
validates the ``forecast:`` section (the ``layout:`` section is validated by ``layout.scenario``). Errors are raised as :class:`ScenarioError` naming the key and
the file, e.g. ``scenarios/x.yaml: forecast.tfr_targt: unknown key``.

Example (``scenarios/baseline.yaml``)::

    name: 基准情景 baseline
    description: ...
    seed: 20241
    target_year: 2030
    forecast:
      tfr_path: medium
      urbanisation: {target: 0.56, target_year: 2030}
    layout: {}
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator

from forecasting.errors import ScenarioError
from forecasting.fertility import TFR_PATHS
from schoolsystem.errors import ScenarioFileError
from schoolsystem.scenario import (
    StrictModel,
    format_validation_error,
    parse_scenario_file,
    read_scenario_yaml,
)

__all__ = [
    "ForecastScenario",
    "MigrationSettings",
    "UrbanisationSettings",
    "format_validation_error",
    "load_forecast_scenario",
    "parse_forecast_scenario",
    "read_scenario_yaml",
]

PositiveFloat = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]


class UrbanisationSettings(StrictModel):
    """Urbanisation: city-wide target share, pace, and Monte Carlo noise on the target."""

    target: Share | None = Field(None, description="city-wide urban share reached in target_year")
    target_year: int | None = Field(None, description="year the target is reached (default: end)")
    speed: PositiveFloat = Field(1.0, description="multiplier on the fitted logistic pace (used when no target is given)")
    target_sd: Annotated[float, Field(ge=0, le=0.5)] = Field(
        0.02, description="standard deviation of the target across Monte Carlo draws"
    )


class MigrationSettings(StrictModel):
    """Overall net migration per county: rate override or scale, and noise."""

    rate: Annotated[float, Field(ge=-0.2, le=0.2)] | None = Field(
        None, description="net migration rate per year for every county (negative = out)"
    )
    scale: Annotated[float, Field(ge=0, le=5)] = Field(
        1.0, description="multiplier on each county's historical rate"
    )
    sd: Annotated[float, Field(ge=0, le=0.1)] = Field(
        0.003, description="standard deviation of the rate across draws (per county, per draw)"
    )


class ForecastScenario(StrictModel):
    """Settings of the forecast (the ``forecast:`` section of a scenario file)."""

    name: str = ""
    tfr_path: str | list[PositiveFloat] = Field(
        "medium", description="named TFR path or explicit reference TFR per projection year"
    )
    tfr_target: PositiveFloat | None = Field(
        None, description="reference TFR reached in tfr_target_year (replaces a named path)"
    )
    tfr_target_year: int | None = None
    tfr_sd: Annotated[float, Field(ge=0, le=1)] = Field(
        0.03, description="sd of the yearly random-walk innovation of log reference TFR (about relative)"
    )
    urbanisation: UrbanisationSettings = UrbanisationSettings()
    out_migration: MigrationSettings = MigrationSettings()
    vocational_share: Share | None = Field(
        None, description="share of senior-stage students in secondary vocational schools, "
        "reached linearly by target_year from the base-year value (None: keep the base-year value)"
    )
    kindergarten_enrollment_rate: Annotated[float, Field(gt=0, le=1.5)] | None = Field(
        None, description="gross enrollment rate of kindergarten (ages 3-5), reached linearly by "
        "target_year from the base-year value (None: keep the base-year value)"
    )
    draws: Annotated[int, Field(ge=0, le=100_000)] = 0
    seed: int = 0
    horizon: Annotated[int, Field(ge=1, le=50)] = 12
    target_year: int = 2030
    calibration: PositiveFloat | list[PositiveFloat] = Field(
        1.0, description="interval width factor, one value or one per horizon year"
    )

    @field_validator("tfr_path")
    @classmethod
    def _known_path(cls, value: str | list[float]) -> str | list[float]:
        if isinstance(value, str) and value not in TFR_PATHS:
            raise ValueError(f"unknown TFR path {value!r}; known: {', '.join(sorted(TFR_PATHS))}")
        if isinstance(value, list) and not value:
            raise ValueError("explicit TFR path must not be empty")
        return value


def parse_forecast_scenario(data: dict[str, Any], path: str | Path = "<scenario>") -> ForecastScenario:
    """Validate an already-parsed scenario mapping (top level); see :func:`load_forecast_scenario`."""
    path = Path(path)
    try:
        top = parse_scenario_file(data, path)
    except ScenarioFileError as exc:
        raise ScenarioError(str(exc)) from None
    section = dict(top.forecast or {})
    section.setdefault("name", top.name)
    section.setdefault("seed", top.seed)
    section.setdefault("target_year", top.target_year)
    try:
        return ForecastScenario.model_validate(section)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, path, "forecast")) from None


def load_forecast_scenario(path: str | Path) -> ForecastScenario:
    r"""Read a scenario YAML file and return its validated ``forecast:`` section.

    ``name``, ``seed`` and ``target_year`` default to the top-level values. The ``layout:``
    section is not validated here. Unknown keys, at the top level or in ``forecast:``, raise
    :class:`ScenarioError` naming the key and the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.yaml"
    >>> _ = p.write_text("name: t\nforecast: {tfr_path: low, colour: red}\n")
    >>> load_forecast_scenario(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    forecasting.errors.ScenarioError: .../s.yaml: forecast.colour: unknown key

    """
    try:
        data = read_scenario_yaml(path)
    except ScenarioFileError as exc:
        raise ScenarioError(str(exc)) from None
    return parse_forecast_scenario(data, path)
