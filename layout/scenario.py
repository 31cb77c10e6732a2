"""Scenario files: one YAML file drives forecast, layout plan, maps and exports.

The file's top level (and the ``solver:`` and ``map:`` sections) is modelled once, in
:class:`schoolsystem.scenario.ScenarioFile`; the ``forecast:`` section is validated by
:mod:`forecasting.scenario`, the ``layout:`` section by :class:`layout.plan.params.LayoutParams`.
All forbid unknown keys. :meth:`Scenario.effective` gives every parameter actually used, defaults
included — what manifests and the workbook report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from forecasting.errors import ScenarioError as ForecastScenarioError
from forecasting.scenario import ForecastScenario, parse_forecast_scenario
from layout.errors import ScenarioError
from layout.plan.params import LayoutParams
from schoolsystem.errors import ScenarioFileError
from schoolsystem.scenario import (
    MapSettings,
    SolverSettings,
    format_validation_error,
    parse_scenario_file,
    read_scenario_yaml,
)

__all__ = ["MapSettings", "Scenario", "SolverSettings", "load_scenario"]


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
        The parsed YAML as written (see :meth:`effective` for the values actually used).

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

    def effective(self) -> dict[str, Any]:
        """Every parameter the run uses, defaults included, as a nested mapping.

        This, not :attr:`raw`, is what manifests and the workbook's 情景参数 sheet report.
        """
        return {
            "name": self.name, "description": self.description, "seed": self.seed,
            "target_year": self.target_year,
            "region": str(self.region) if self.region is not None else None,
            "forecast": self.forecast.model_dump(mode="json"),
            "layout": self.layout.model_dump(mode="json"),
            "solver": self.solver.model_dump(mode="json"),
            "map": self.map.model_dump(mode="json"),
        }

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
        top = parse_scenario_file(data, path)
    except ScenarioFileError as exc:
        raise ScenarioError(str(exc)) from None
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
