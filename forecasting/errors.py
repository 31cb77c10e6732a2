"""Exceptions of the forecasting package.

Every exception subclasses :class:`schoolsystem.errors.ProjectError` (a :class:`ValueError`), so
callers that only know the standard library can still catch bad input. Messages name what is wrong
and where (area id, age, year, key, file).
"""

from __future__ import annotations

from schoolsystem.errors import ProjectError, ScenarioFileError


class ForecastError(ProjectError):
    """Base class of the forecasting package's exceptions."""


class ForecastInputError(ForecastError):
    """Input tables or arrays of a projection are invalid (negative, missing, gaps, unknown areas)."""


class ScenarioError(ForecastError, ScenarioFileError):
    """The ``forecast:`` section of a scenario file is invalid; the message names key and file."""
