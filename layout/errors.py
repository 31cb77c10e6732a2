"""Project exceptions of the layout package.

Every exception subclasses :class:`ValueError`, so callers that only know the standard library can
still catch bad input. Problems with input data are collected and raised together.
"""

from __future__ import annotations

from dataclasses import dataclass

from forecasting.errors import ScenarioError as ForecastScenarioError
from schoolsystem.errors import ProjectError


@dataclass(frozen=True)
class Problem:
    """One problem found in one place of the input.

    Parameters
    ----------
    file : str
        File (or layer) name, e.g. ``schools.csv``.
    row : str
        Row identifier (the record id where it exists, else ``line N``), or ``""`` for the file.
    column : str
        Column name, or ``""`` when the problem is about the whole row or file.
    value : str
        The offending value as text (``""`` when missing).
    message : str
        What is wrong, in plain words.

    """

    file: str
    row: str
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        """Return ``file, row, column = value: message``."""
        where = self.file
        if self.row:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        value = f" = {self.value!r}" if self.value != "" else ""
        return f"{where}{value}: {self.message}"


class SchoolPlanError(ProjectError):
    """Base class of the layout package's exceptions (a :class:`schoolsystem.errors.ProjectError`)."""


class RegionDataError(SchoolPlanError):
    """Region data failed validation; ``problems`` lists every problem found.

    The message lists the first ``max_listed`` problems; ``problems`` always holds all of them.

    Examples
    --------
    >>> err = RegionDataError([Problem("schools.csv", "5108020001", "capacity", "-3", "must be >= 0")])
    >>> print(err)
    1 problem in region data:
      - schools.csv, row 5108020001, column capacity = '-3': must be >= 0

    """

    def __init__(self, problems: list[Problem], *, source: str = "", max_listed: int = 200) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        where = f" {source}" if source else ""
        lines = [f"{n} problem{'s' if n != 1 else ''} in region data{where}:"]
        lines += [f"  - {p}" for p in self.problems[:max_listed]]
        if n > max_listed:
            lines.append(f"  ... and {n - max_listed} more")
        super().__init__("\n".join(lines))


class ScenarioError(SchoolPlanError, ForecastScenarioError):
    """A scenario file is invalid (unknown key, impossible value); the message names key and file.

    Also a :class:`forecasting.errors.ScenarioError`, so either package's handler catches it.
    """


class LayoutError(SchoolPlanError):
    """The layout model cannot be built from the given inputs."""
