"""Exceptions of the forecasting package.

Every exception subclasses :class:`ValueError` so that callers that only know the standard library
can still catch bad input. Messages name what is wrong and where (area id, age, year, key, file).
"""

from __future__ import annotations


class ForecastError(ValueError):
    """Base class of the forecasting package's exceptions."""


class ForecastInputError(ForecastError):
    """Input tables or arrays of a projection are invalid (negative, missing, gaps, unknown areas)."""


class ScenarioError(ForecastError):
    """The ``forecast:`` section of a scenario file is invalid; the message names key and file."""
