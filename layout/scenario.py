"""Scenario files: one YAML file drives forecast, layout plan, maps and exports.

A scenario file has these top-level keys (unknown keys are errors naming the key and the file)::

    name: 基准情景 baseline          # required
    description: ...                  # free text
    seed: 20241                       # seeds the Monte Carlo and the solver
    target_year: 2030                 # year the layout is planned for
    region: null                      # region folder; null = the embedded Guangyuan region
    forecast: {...}                   # forecasting.scenario.ForecastScenario
    layout: {...}                     # layout.plan.params.LayoutParams
    solver: {time_limit: 60, threads: null}
    map: {tiles: none}

The ``forecast:`` section is validated by :mod:`forecasting.scenario`, the ``layout:`` section
by :class:`layout.plan.params.LayoutParams`; both forbid unknown keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from forecasting.errors import ScenarioError as ForecastScenarioError
from forecasting.scenario import (
    ForecastScenario,
    format_validation_error,
    parse_forecast_scenario,
    read_scenario_yaml,
)
from layout.errors import ScenarioError
from layout.plan.params import LayoutParams


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SolverSettings(_Strict):
    """Solver settings of a run."""

    time_limit: float = Field(30.0, gt=0, description="seconds per solver sub-problem (a county "
                              "splits into independent parts; see layout.plan.model); on an idle "
                              "2-core machine every part of the embedded city stops on the gap "
                              "within 8 s, the limit guards against slow or loaded machines")
    threads: int | None = Field(None, ge=1, description="solver threads; None = solver default")


class MapSettings(_Strict):
    """Map settings of a run."""

    tiles: Literal["none", "osm", "tianditu", "gaode"] = "none"


class _TopLevel(_Strict):
    name: str
    description: str = ""
    seed: int = 0
    target_year: int = Field(2030, ge=2000, le=2100)
    region: str | None = None
    forecast: dict[str, Any] = Field(default_factory=dict)
    layout: dict[str, Any] | None = Field(default_factory=dict)
    solver: SolverSettings = SolverSettings()
    map: MapSettings = MapSettings()


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file.

    Attributes
    ----------
    path : Path
        The file it was read from.
    name, description : str
    seed, target_year : int
    region : Path or None
        Region folder (relative paths resolve against the scenario file), None = embedded.
    forecast : ForecastScenario
    layout : LayoutParams
    solver : SolverSettings
    map : MapSettings
    raw : dict
        The parsed YAML, recorded in manifests and workbooks.

    """

    path: Path
    name: str
    description: str
    seed: int
    target_year: int
    region: Path | None
    forecast: ForecastScenario
    layout: LayoutParams
    solver: SolverSettings
    map: MapSettings
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """File-name stem of the scenario (``baseline`` for ``scenarios/baseline.yaml``)."""
        return self.path.stem


def load_scenario(path: str | Path) -> Scenario:
    r"""Read and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        YAML file (UTF-8, with or without BOM).

    Returns
    -------
    Scenario

    Raises
    ------
    layout.errors.ScenarioError
        Unreadable file, invalid YAML, unknown key or impossible value; the message names the
        file and the key.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.yaml"
    >>> _ = p.write_text("name: t\nlayout: {colour: red}\n")
    >>> load_scenario(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    layout.errors.ScenarioError: .../s.yaml: layout.colour: unknown key

    """
    path = Path(path)
    try:
        data = read_scenario_yaml(path)
    except ForecastScenarioError as exc:
        raise ScenarioError(str(exc)) from None
    try:
        top = _TopLevel.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, path, "")) from None
    try:
        forecast = parse_forecast_scenario(
            {"name": top.name, "seed": top.seed, "target_year": top.target_year,
             "forecast": top.forecast},
            path,
        )
    except ForecastScenarioError as exc:
        raise ScenarioError(str(exc)) from None
    try:
        layout = LayoutParams.model_validate(top.layout or {})
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, path, "layout")) from None
    region = None
    if top.region:
        region = Path(top.region)
        if not region.is_absolute():
            region = (path.parent / region).resolve()
    return Scenario(
        path=path, name=top.name, description=top.description, seed=top.seed,
        target_year=top.target_year, region=region, forecast=forecast, layout=layout,
        solver=top.solver, map=top.map, raw=data,
    )
