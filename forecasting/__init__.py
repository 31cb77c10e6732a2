"""Enrollment forecasting: cohort-component population projection under fertility scenarios.

Works on plain pandas tables (see ``data/geo/README.md``); never imports ``layout``. Levels, grade
bands, ages and table schemas come from :mod:`schoolsystem`.

The public names below are imported from their modules on first use (PEP 562), so that importing
one light module (``forecasting.errors``, ``forecasting.parallel``) does not import them all:
the share model alone brings scikit-learn, half a second of a fresh process's start (a Dask
worker that only solves plans, or ``schoolplan data check``, never needs it).

Examples
--------
>>> import forecasting
>>> forecasting.tfr_path is forecasting.fertility.tfr_path
True
>>> "fit_share_model" in dir(forecasting)
True

"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, tuple[str, ...]] = {
    "attendance": ("AttendanceModel", "calibrate_attendance"),
    "backtest": ("BacktestResult", "run_backtests"),
    "calibration": ("IntervalCalibration", "calibrate_intervals", "interval_coverage"),
    "cohort": ("iter_project", "project_cohorts"),
    "demand": ("LevelRates", "compute_demand"),
    "errors": ("ForecastError", "ForecastInputError", "ScenarioError"),
    "fertility": ("TFR_PATHS", "asfr_schedule", "tfr_path"),
    "joint": ("project_joint",),
    "lifetable": ("survival",),
    "metrics": ("malpe", "mape", "mdape", "summarise_errors"),
    "outlook": ("RegionOutlook", "forecast_region"),
    "population": ("PopulationForecast", "project_population"),
    "scenario": ("ForecastScenario", "load_forecast_scenario"),
    "shares": ("ShareModel", "fit_share_model"),
    "urbanisation": ("fit_logistic",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """A public name, imported from its module the first time it is asked for."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'forecasting' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"forecasting.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
