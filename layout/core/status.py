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
    FALLBACK
        The solver found no plan before the limit; the plan is the greedy one built from the
        ``hint`` (feasible, not optimised; ``gap`` against the solver's bound when it has one).

    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"
    FALLBACK = "fallback_greedy"
