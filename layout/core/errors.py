"""Exception raised by the optimisation core on invalid input."""

from __future__ import annotations


class CoreInputError(ValueError):
    """Invalid input to :class:`layout.core.FacilityLocation`.

    The message names the offending argument and, where it applies, the index of the first bad
    entry (e.g. ``demand[3] = -1.0: must be >= 0``).
    """
