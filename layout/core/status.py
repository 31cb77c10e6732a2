"""Outcome of a solve."""

from __future__ import annotations

from enum import StrEnum

import numpy as np


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


def relative_gap(objective: float, bound: float, floor: float = 1e-9) -> float:
    """Relative gap ``(objective - bound) / max(|objective|, floor)`` of a plan and a lower bound.

    The single definition of the gap used by every stopping test and reported ``gap`` in
    :mod:`layout.core` (signed: negative when the bound exceeds the objective).

    Parameters
    ----------
    objective : float
        Cost of a plan (an upper bound).
    bound : float
        A proven lower bound.
    floor : float
        Smallest denominator, so an objective of zero gives a finite gap.

    Returns
    -------
    float

    Examples
    --------
    >>> relative_gap(100.0, 99.0)
    0.01

    """
    return (objective - bound) / max(abs(objective), floor)


def within_gap(bound: float, gap: float) -> float:
    """The largest objective whose :func:`relative_gap` to ``bound`` is at most ``gap``.

    Examples
    --------
    >>> round(within_gap(99.0, 0.01), 9)
    100.0
    >>> relative_gap(within_gap(-50.0, 0.02), -50.0) <= 0.02
    True

    """
    if not np.isfinite(bound):
        return -np.inf
    if bound >= 0 and gap >= 1:
        return np.inf
    target = bound / (1.0 - gap) if bound >= 0 else bound / (1.0 + gap)
    while relative_gap(target, bound) > gap:  # rounding: step down to a value within the gap
        target = float(np.nextafter(target, -np.inf))
    return float(target)
