"""Outcome of a solve."""

from __future__ import annotations

from enum import StrEnum


class SolveStatus(StrEnum):
    """Status of a facility-location solve; compares equal to its lower-case string.

    Attributes
    ----------
    OPTIMAL
        A plan proven optimal within the relative gap tolerance.
    FEASIBLE
        A plan was found but not proven optimal (time limit reached); see ``gap``.
    INFEASIBLE
        The solver proved that no plan satisfies the constraints.
    NO_SOLUTION
        No plan was found before the limit, and infeasibility was not proven either.

    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"
