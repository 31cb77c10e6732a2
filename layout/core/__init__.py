"""Generic optimisation core: facility location on plain arrays (knows nothing of schools).

Public API: :class:`FacilityLocation`, :class:`MultiPeriodLocation`, :class:`SolveStatus`,
:class:`CoreInputError`.
"""

from layout.core.errors import CoreInputError
from layout.core.facility import FacilityLocation
from layout.core.multiperiod import MultiPeriodLocation
from layout.core.status import SolveStatus

__all__ = ["CoreInputError", "FacilityLocation", "MultiPeriodLocation", "SolveStatus"]
