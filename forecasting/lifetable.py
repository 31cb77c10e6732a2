"""Default mortality: an approximation of China's 2020 life table (both sexes, ages 0-100).

Source and status
-----------------
The 7th national population census (2020) gives a life expectancy at birth of about 77.9 years
(both sexes) and an infant mortality rate of about 5.4 per thousand (NBS / National Health
Commission statistical bulletin 2020). We do **not** ship the official table. Instead the
one-year death probabilities ``q(x)`` are generated from a documented formula calibrated to those
two figures, so the numbers are **approximate**:

* ``q(0) = 0.0054`` (infant mortality 5.4 per thousand);
* ages 1-4: ``q = 0.00030``; ages 5-14: ``q = 0.00017`` (low child mortality);
* from age 15: Gompertz-Makeham hazard ``mu(x) = 0.0002 + 0.0006 * exp(0.092 * (x - 30))``,
  ``q(x) = 1 - exp(-mu(x))``, at least 0.0004 for ages 15-24 (accidents), capped at 0.6.

The resulting life expectancy at birth is 78.0 years (tested to lie within 77-79). For school-age
planning only ages 0-49 matter and mortality there is so low (<0.5 % per year after infancy)
that the approximation changes projections by far less than fertility or migration uncertainty.

Survival conventions
--------------------
``survival()[x]`` is the probability that a person of completed age ``x`` in one year's stock is
alive one year later (aged ``x + 1``); for the open top age it is the probability of staying alive
within the open group. ``birth_survival()`` is the probability that a child born during a year is
alive in that year's stock at age 0 (``L0 / l0`` with 30 % of infant deaths falling after the
stock date, a standard separation factor).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_AGE = 100
INFANT_Q = 0.0054
_MAKEHAM = 0.0002
_GOMPERTZ_A = 0.0006
_GOMPERTZ_B = 0.092
_SEPARATION = 0.7  # share of infant deaths occurring before the first stock date


def death_probabilities(max_age: int = MAX_AGE) -> pd.Series:
    """One-year death probabilities ``q(x)`` for ages ``0..max_age`` (approximate China 2020).

    Examples
    --------
    >>> q = death_probabilities()
    >>> float(q[0]), len(q)
    (0.0054, 101)

    """
    ages = np.arange(max_age + 1)
    mu = _MAKEHAM + _GOMPERTZ_A * np.exp(_GOMPERTZ_B * (ages - 30.0))
    qx = 1.0 - np.exp(-mu)
    qx[0] = INFANT_Q
    qx[1:5] = 0.00030
    qx[5:15] = 0.00017
    qx[15:25] = np.maximum(qx[15:25], 0.0004)
    qx = np.minimum(qx, 0.6)
    return pd.Series(qx, index=pd.RangeIndex(max_age + 1, name="age"), name="q")


def survival(max_age: int = MAX_AGE) -> pd.Series:
    """One-year survival ``p(x) = 1 - q(x)`` for ages ``0..max_age``.

    Examples
    --------
    >>> p = survival(17)
    >>> bool(((p > 0.99) & (p <= 1.0)).all())
    True

    """
    return (1.0 - death_probabilities(max_age)).rename("survival")


def birth_survival() -> float:
    """Probability that a baby born during a year is alive at age 0 in that year's stock."""
    return 1.0 - _SEPARATION * INFANT_Q


def life_expectancy(max_age: int = MAX_AGE) -> float:
    """Life expectancy at birth of the default table (about 78 years).

    Examples
    --------
    >>> 77.0 < life_expectancy() < 79.0
    True

    """
    qx = death_probabilities(max_age).to_numpy()
    lx = np.concatenate([[1.0], np.cumprod(1.0 - qx)])
    person_years = (lx[:-1] + lx[1:]) / 2.0
    person_years[0] = lx[1] + (1.0 - _SEPARATION) * (1.0 - lx[1])
    person_years[-1] = lx[-2] / -np.log(1.0 - qx[-1])
    return float(person_years.sum())
